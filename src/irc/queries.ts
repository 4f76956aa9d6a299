/**
 * What a client asks about others: `NAMES`, `WHO` (with WHOX fields),
 * `WHOIS`, `WHOWAS`, `LIST`, `ISON` and `USERHOST`, as the core's requests,
 * and their numerics. The names list that follows a `JOIN` is the same
 * `NAMES` reply.
 *
 * @module
 */

import type { MemberInfo } from "../core/types.ts";
import type { IrcClient, Pending } from "./client.ts";
import { commaList, roomOf } from "./commands.ts";
import type { IrcMessage } from "./message.ts";
import { channel } from "./render.ts";
import type { Of } from "./replies.ts";

type Client = IrcClient<unknown>;

// --- what the client asks ------------------------------------------------------------------------

/** `NAMES #a,#b`: asked of the core as `who` with details. */
export function names(client: Client, m: IrcMessage): void {
  const targets = commaList(m.params[0]);
  if (targets.length === 0) return client.numeric("366", "*", "End of /NAMES list");
  // Several channels: their 353s, then one 366 naming them all (RFC 2812).
  const all = targets.length > 1 ? m.params[0] : undefined;
  targets.forEach((target, i) => {
    const namesEnd = all === undefined ? undefined : i === targets.length - 1 ? all : null;
    const room = roomOf(target);
    if (room === null) {
      if (namesEnd !== null) client.numeric("366", namesEnd ?? target, "End of /NAMES list");
      return;
    }
    client.request({ type: "who", room, detail: true }, { command: "NAMES", target, namesEnd });
  });
}

/** `WHO #room`, `WHO mask` or `WHO nick`, with WHOX `%fields[,token]`. */
export function who(client: Client, m: IrcMessage): void {
  const mask = m.params[0] ?? "*";
  const fields = m.params[1]?.startsWith("%") ? m.params[1].slice(1) : null;
  const whox = fields === null ? undefined : {
    fields: fields.split(",")[0],
    token: fields.split(",")[1] ?? "",
  };
  const room = roomOf(mask);
  if (room !== null) {
    return void client.request({ type: "who", room, detail: true, limit: 1000 }, {
      command: "WHO",
      target: mask,
      whox,
    });
  }
  if (mask.startsWith("#")) return client.numeric("315", mask, "End of WHO list");
  if (mask.includes("*") || mask.includes("?")) {
    return void client.request({ type: "who", mask, detail: true, limit: 1000 }, {
      command: "WHO",
      target: mask,
      whox,
    });
  }
  client.request({ type: "whois", nick: mask }, { command: "WHO", target: mask, whox });
}

/** `WHOIS [server] nick`. */
export function whois(client: Client, m: IrcMessage): void {
  const nick = commaList(m.params[m.params.length - 1])[0];
  if (nick === undefined) return client.numeric("431", "No nickname given");
  client.request({ type: "whois", nick }, { command: "WHOIS", target: nick });
}

/** `WHOWAS nick`: no nick history is kept. */
export function whowas(client: Client, m: IrcMessage): void {
  const nick = m.params[0];
  if (nick === undefined) return client.numeric("431", "No nickname given");
  client.write([
    client.line("406", nick, "There was no such nickname"),
    client.line("369", nick, "End of WHOWAS"),
  ]);
}

/** `LIST`: every room the client may see, with its topic. */
export function listRooms(client: Client): void {
  client.request({ type: "rooms", topics: true }, { command: "LIST", target: "" });
}

/** `ISON nick...`: which are online. */
export function ison(client: Client, m: IrcMessage): void {
  client.request({ type: "ison", nicks: m.params.join(" ").split(" ").filter((n) => n) }, {
    command: "ISON",
    target: "",
  });
}

/** `USERHOST nick...`: up to five, with their user names and away state. */
export function userhost(client: Client, m: IrcMessage): void {
  client.request({ type: "ison", nicks: m.params.slice(0, 5) }, {
    command: "USERHOST",
    target: "",
  });
}

// --- what the client is shown --------------------------------------------------------------------

/** `353`s (in lines of a sane length) then `366`. */
export function namesReply(client: Client, event: Of<"who">, pending?: Pending): void {
  const room = channel(event.room);
  if (pending?.failed) return;
  const all = event.details ?? event.members.map((nick) => ({ nick, op: false }));
  const lines: IrcMessage[] = [];
  let chunk: string[] = [];
  let length = 0;
  const hosts = client.caps.has("userhost-in-names");
  // `@` for a secret room, `=` for the others.
  const symbol = event.secret ? "@" : "=";
  const server = client.ctx.server;
  for (const m of all) {
    const who = hosts ? `${m.nick}!${"user" in m && m.user ? m.user : m.nick}@${server}` : m.nick;
    const name = prefixes(client, m) + who;
    if (length + name.length > 400) {
      lines.push(client.line("353", symbol, room, chunk.join(" ")));
      chunk = [];
      length = 0;
    }
    chunk.push(name);
    length += name.length + 1;
  }
  if (chunk.length > 0) lines.push(client.line("353", symbol, room, chunk.join(" ")));
  if (pending?.namesEnd !== null) {
    lines.push(client.line("366", pending?.namesEnd ?? room, "End of /NAMES list"));
  }
  client.write(lines);
  client.releaseRoom(event.room);
}

/** `@` for operators and `+` for voices: both with `multi-prefix`, else the highest. */
function prefixes(client: Client, m: Partial<MemberInfo>): string {
  const all = (m.op ? "@" : "") + (m.voice ? "+" : "");
  return client.caps.has("multi-prefix") ? all : all.slice(0, 1);
}

/** A failed `JOIN`: its names are not shown. */
export function dropNames(client: Client, join: Pending): void {
  const names = client.pending(join.names!);
  if (names !== undefined) names.failed = true;
}

function whoLine(client: Client, room: string, m: MemberInfo, pending: Pending): IrcMessage {
  const server = client.ctx.server;
  const user = m.user ?? m.nick;
  const flags = (m.away === undefined ? "H" : "G") + (m.admin ? "*" : "") + prefixes(client, m);
  const whox = pending.whox;
  if (whox === undefined) {
    return client.line(
      "352",
      room,
      user,
      server,
      server,
      m.nick,
      flags,
      `0 ${m.realname ?? m.nick}`,
    );
  }
  // WHOX: the fields asked for, in the standard order.
  const values: Record<string, string> = {
    t: whox.token,
    c: room,
    u: user,
    i: "255.255.255.255",
    h: server,
    s: server,
    n: m.nick,
    f: flags,
    d: "0",
    l: "0",
    a: "0",
    o: m.op ? "@" : "n/a",
    r: m.realname ?? m.nick,
  };
  const params = [..."tcuihsnfdlaor"].filter((f) => whox.fields.includes(f)).map((f) => values[f]);
  return client.line("354", ...params);
}

/** `WHO` of a channel or a mask: a `352` (or WHOX `354`) each, then `315`. */
export function whoReply(client: Client, event: Of<"who">, pending: Pending): void {
  // A channel's members are listed with it; those matched by a nick mask with none.
  const room = pending.target.startsWith("#") ? channel(event.room) : "*";
  const details = event.details ?? event.members.map((nick) => ({ nick, op: false }));
  client.write([
    ...details.map((m) => whoLine(client, room, m, pending)),
    client.line("315", pending.target, "End of WHO list"),
  ]);
}

/** `WHO` of one nick, from what `WHOIS` tells. */
export function whoNick(client: Client, event: Of<"whois">, pending: Pending): void {
  const member: MemberInfo = { nick: event.nick, op: false, ...pick(event) };
  client.write([
    whoLine(client, "*", member, pending),
    client.line("315", pending.target, "End of WHO list"),
  ]);
}

function pick(event: Of<"whois">): Partial<MemberInfo> {
  const out: Partial<MemberInfo> = {};
  if (event.away !== undefined) out.away = event.away;
  if (event.user !== undefined) out.user = event.user;
  if (event.realname !== undefined) out.realname = event.realname;
  if (event.admin) out.admin = true;
  return out;
}

/** `WHOIS`: `311`, its channels, server, away, operator and account, then `318`. */
export function whoisReply(client: Client, event: Of<"whois">): void {
  const server = client.ctx.server;
  const lines = [
    client.line(
      "311",
      event.nick,
      event.user ?? event.nick,
      server,
      "*",
      event.realname ?? event.nick,
    ),
  ];
  if (event.rooms.length > 0) {
    const status = (room: string) =>
      event.ops?.includes(room) ? "@" : event.voiced?.includes(room) ? "+" : "";
    const rooms = event.rooms.map((room) => status(room) + channel(room));
    lines.push(client.line("319", event.nick, rooms.join(" ")));
  }
  lines.push(client.line("312", event.nick, server, "chat"));
  if (event.away !== undefined) lines.push(client.line("301", event.nick, event.away));
  if (event.admin) lines.push(client.line("313", event.nick, "is an IRC operator"));
  if (event.account !== undefined) {
    lines.push(client.line("330", event.nick, event.account, "is logged in as"));
  }
  lines.push(client.line("318", event.nick, "End of /WHOIS list"));
  client.write(lines);
}

/** `LIST`: `321`, a `322` per room, `323`. */
export function listReply(client: Client, event: Of<"rooms">): void {
  client.write([
    client.line("321", "Channel", "Users  Name"),
    ...event.rooms.map((r) =>
      client.line("322", channel(r.room), String(r.members), r.topic ?? "")
    ),
    client.line("323", "End of /LIST"),
  ]);
}

/** `ISON` (`303`) or `USERHOST` (`302`): the nicks online. */
export function isonReply(client: Client, event: Of<"ison">, pending?: Pending): void {
  if (pending?.command === "USERHOST") {
    const hosts = event.nicks.map((n) =>
      `${n}=${event.away?.includes(n) ? "-" : "+"}${client.ctx.hub.userOf(n)}@${client.ctx.server}`
    );
    return client.numeric("302", hosts.join(" "));
  }
  client.numeric("303", event.nicks.join(" "));
}
