/**
 * An IRC client's registration: `CAP` negotiation, `PASS`, `NICK` and
 * `USER` (`AUTHENTICATE` is `sasl.ts`) until the core has given it its
 * nick, then the welcome burst. What a refused nick, password or login
 * looks like is here too.
 *
 * @module
 */

import type { Session } from "../core/hub.ts";
import { validNick } from "../core/names.ts";
import type { ErrorCode } from "../core/events.ts";
import { capList } from "./caps.ts";
import type { IrcClient, Pending } from "./client.ts";
import { CHATHISTORY_MAX } from "./history.ts";
import type { IrcMessage } from "./message.ts";
import { authenticate } from "./sasl.ts";

type Client = IrcClient<unknown>;

// --- what the client asks ------------------------------------------------------------------------

/** Commands of registration, answered as such until it completes. */
export const REGISTRATION_COMMANDS: ReadonlySet<string> = new Set([
  "CAP",
  "PASS",
  "NICK",
  "USER",
  "AUTHENTICATE",
  "PING",
  "PONG",
  "QUIT",
]);

/** Lines before registration: only these commands are taken. */
export function beforeRegistration(client: Client, m: IrcMessage): void {
  switch (m.command) {
    case "CAP":
      return cap(client, m);
    case "PASS":
      if (m.params.length < 1) return client.numeric("461", "PASS", "Not enough parameters");
      client.password = m.params[0];
      return;
    case "NICK":
      return nickBefore(client, m);
    case "USER":
      if (m.params.length < 4 || m.params[3] === "" || m.params[0] === "") {
        return client.numeric("461", "USER", "Not enough parameters");
      }
      if (client.ident !== null) return client.numeric("462", "You may not reregister");
      client.ident = { user: m.params[0].slice(0, 32), realname: m.params[3] };
      return tryRegister(client);
    case "AUTHENTICATE":
      return authenticate(client, m);
    case "PING":
      if (m.params.length < 1) return client.numeric("409", "No origin specified");
      // Registering: the PONG comes after the welcome burst, in order.
      if (client.session !== null) return client.inOrder({ command: "PING", target: m.params[0] });
      return client.write([{
        tags: {},
        source: client.ctx.server,
        command: "PONG",
        params: [client.ctx.server, m.params[0]],
      }]);
    case "PONG":
      return;
    case "QUIT":
      return client.error("Closing Link: quit");
    default:
      client.numeric("451", "You have not registered");
  }
}

function nickBefore(client: Client, m: IrcMessage): void {
  if (m.params.length < 1 || m.params[0] === "") {
    return client.numeric("431", "No nickname given");
  }
  const nick = validNick(m.params[0]);
  if (nick === null) return client.numeric("432", m.params[0], "Erroneous nickname");
  if (client.registering) {
    // Taken or refused a moment ago: try the new one.
    client.nick = nick;
    return void client.request({ type: "nick", nick }, {
      command: "NICK",
      target: nick,
    });
  }
  client.nick = nick;
  tryRegister(client);
}

/**
 * With a nick and a user, and no capability negotiation under way, the
 * client becomes one of the core's: the server password is checked, then
 * its nick is claimed (the reply to that claim completes registration).
 */
export function tryRegister(client: Client): void {
  if (client.registering || client.negotiating || client.nick === "*" || client.ident === null) {
    return;
  }
  if (client.ctx.passwordRequired && client.password === null) {
    client.numeric("464", "Password required");
    return client.error("Closing Link: password required");
  }
  client.registering = true;
  ensureSession(client).identify(client.ident);
  client.request({ type: "nick", nick: client.nick }, {
    command: "NICK",
    target: client.nick,
  });
}

/** `CAP LS|LIST|REQ|END`, before and after registration. */
export function cap(client: Client, m: IrcMessage): void {
  const sub = (m.params[0] ?? "").toUpperCase();
  const reply = (...params: string[]) =>
    client.write([{
      tags: {},
      source: client.ctx.server,
      command: "CAP",
      params: [client.nick, ...params],
    }]);
  switch (sub) {
    case "LS": {
      if (!client.registered) client.negotiating = true;
      const v302 = Number(m.params[1] ?? "0") >= 302;
      if (v302) client.caps.request(["cap-notify"]); // implied by 302
      return reply("LS", capList(v302).join(" "));
    }
    case "LIST":
      return reply("LIST", client.caps.list().join(" "));
    case "REQ": {
      if (!client.registered) client.negotiating = true;
      const list = (m.params[1] ?? "").split(" ").filter((c) => c !== "");
      return reply(client.caps.request(list) ? "ACK" : "NAK", m.params[1] ?? "");
    }
    case "END":
      if (client.registered) return;
      client.negotiating = false;
      return tryRegister(client);
    default:
      client.numeric("410", m.params[0] ?? "", "Invalid CAP command");
  }
}

/**
 * The core's session for this client, made on first need: at registration,
 * or earlier for SASL. It is in no room and, until registration, shown
 * nothing (its guest nick's welcome is not an IRC line).
 */
export function ensureSession(client: Client): Session {
  if (client.session !== null) return client.session;
  const ident = client.ident;
  client.session = client.ctx.hub.connect(client, client.address, {
    lobby: false,
    // Its lines show every message: leaving a room reads it, unless it keeps its own markers.
    readsAll: !client.caps.has("draft/read-marker"),
    ...(ident === null ? {} : { ident }),
  });
  if (client.ctx.passwordRequired && client.password !== null) {
    client.request({ type: "pass", password: client.password }, { command: "PASS", target: "" });
  }
  return client.session;
}

// --- what the client is shown --------------------------------------------------------------------

/** The core gave the client its nick: registration is complete. */
export function registered(client: Client, nick: string): void {
  client.nick = nick;
  client.completeRegistration();
  welcome(client);
  // Logged in (SASL): back in the channels it was in, as an always-on client.
  client.request({ type: "kept" }, { command: "REJOIN", target: "" });
}

/** The welcome burst that ends registration: `001`-`005`, the counts, no MOTD. */
export function welcome(client: Client): void {
  const { server, version } = client.ctx;
  const created = new Date(client.ctx.startedAt).toUTCString();
  client.write([
    client.line("001", `Welcome to the ${server} IRC network, ${client.nick}`),
    client.line("002", `Your host is ${server}, running version ${version}`),
    client.line("003", `This server was created ${created}`),
    client.line("004", server, version, "i", "bikmnostv", "bkov"),
    client.line(
      "005",
      "CASEMAPPING=ascii",
      "CHANTYPES=#",
      "PREFIX=(ov)@+",
      "CHANMODES=b,k,,imnst",
      "NICKLEN=32",
      "CHANNELLEN=65",
      "TOPICLEN=300",
      "AWAYLEN=300",
      "KICKLEN=300",
      "NETWORK=chat",
      "are supported by this server",
    ),
    // At most 13 tokens a line.
    client.line(
      "005",
      "WHOX",
      "UTF8ONLY",
      `CHATHISTORY=${CHATHISTORY_MAX}`,
      "MSGREFTYPES=msgid,timestamp",
      "TARGMAX=JOIN:,PART:,KICK:,NAMES:,PRIVMSG:4,NOTICE:4",
      "are supported by this server",
    ),
    ...lusers(client),
    client.line("422", "MOTD File is missing"),
  ]);
}

/** `LUSERS`: this process's counts (connections not yet registered are not counted, so no `253`). */
export function lusers(client: Client): IrcMessage[] {
  const { hub } = client.ctx;
  const [users, peak] = [String(hub.sessionCount), String(hub.peakSessions)];
  return [
    client.line("251", `There are ${users} users and 0 invisible on 1 servers`),
    client.line("252", "0", "operator(s) online"),
    client.line("254", String(hub.roomCount), "channels formed"),
    client.line("255", `I have ${users} clients and 0 servers`),
    client.line("265", users, peak, `Current local users ${users}, max ${peak}`),
    client.line("266", users, peak, `Current global users ${users}, max ${peak}`),
  ];
}

/** A refused `NICK`, server password or SASL login, before or after registration. */
export function registrationError(client: Client, code: ErrorCode, pending: Pending): void {
  switch (pending.command) {
    case "AUTHENTICATE":
      return client.numeric("904", "SASL authentication failed");
    case "PASS":
      client.numeric("464", "Password incorrect");
      return client.error("Closing Link: password incorrect");
  }
  if (code === "invalid_nick") return client.numeric("432", pending.target, "Erroneous nickname");
  if (code === "nick_registered" || code === "wrong_password" || code === "too_many_attempts") {
    return client.numeric("433", pending.target, "Nickname is registered to someone else");
  }
  client.numeric("433", pending.target, "Nickname is already in use");
}
