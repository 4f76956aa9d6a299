/**
 * Channels on IRC: `JOIN` (and the rejoin of a logged-in nick's channels),
 * `PART`, `TOPIC`, `KICK`, `MODE` and `INVITE` as the core's requests, and
 * what the client is shown of them: its own join, the topic, the modes and
 * bans, an invitation. The names list after a join is `queries.ts`'s.
 *
 * @module
 */

import type { IrcClient, Pending } from "./client.ts";
import { commaList, roomOf } from "./commands.ts";
import type { IrcMessage } from "./message.ts";
import { channel, sharedLines, userSource } from "./render.ts";
import { markreadLine } from "./history.ts";
import type { Of } from "./replies.ts";

type Client = IrcClient<unknown>;

// --- what the client asks ------------------------------------------------------------------------

/** `JOIN #a,#b [keys]`, or `JOIN 0` to leave every channel. */
export function join(client: Client, m: IrcMessage): void {
  if (m.params[0] === "0") {
    for (const room of client.session!.rooms.keys()) {
      client.request({ type: "leave", room }, { command: "PART", target: `#${room}` });
    }
    return;
  }
  joinChannels(client, commaList(m.params[0]), commaList(m.params[1]));
}

/** Joins each channel (with its key, if any) as `JOIN` does: the join, then the names. */
export function joinChannels(client: Client, targets: string[], keys: string[] = []): void {
  targets.forEach((target, i) => {
    const room = roomOf(target);
    if (room === null) return client.numeric("403", target, "No such channel");
    if (client.session!.rooms.has(room)) return; // already there: nothing, as IRC servers do
    const key = keys[i];
    // The names follow the join in the client's queue; if the join fails they are not shown.
    const names = client.nextRef();
    client.expect(names, { command: "NAMES", target: `#${room}` });
    client.request(
      { type: "join", room, ...(key === undefined ? {} : { password: key }) },
      { command: "JOIN", target: `#${room}`, names },
    );
    client.request({ type: "who", room, detail: true }, undefined, names);
  });
}

/** `PART #a,#b [reason]`. */
export function part(client: Client, m: IrcMessage): void {
  const reason = m.params[1];
  for (const target of commaList(m.params[0])) {
    const room = roomOf(target);
    if (room === null) {
      client.numeric("403", target, "No such channel");
      continue;
    }
    client.request({ type: "leave", room, ...(reason ? { reason } : {}) }, {
      command: "PART",
      target,
    });
  }
}

/** `TOPIC #room [text]`: asks for the topic, or sets it. */
export function topic(client: Client, m: IrcMessage): void {
  const target = m.params[0];
  const room = roomOf(target);
  if (room === null) return client.numeric("403", target, "No such channel");
  const text = m.params[1];
  client.request(
    text === undefined ? { type: "topic", room } : { type: "topic", room, text },
    { command: "TOPIC", target },
  );
}

/** `KICK #a n1,n2` (one channel) or `KICK #a,#b n1,n2` (in pairs). */
export function kick(client: Client, m: IrcMessage): void {
  const channels = commaList(m.params[0]);
  const nicks = commaList(m.params[1]);
  const reason = m.params[2];
  nicks.forEach((nick, i) => {
    const target = channels.length === 1 ? channels[0] : channels[i];
    if (target === undefined) return;
    const room = roomOf(target);
    if (room === null) return client.numeric("403", target, "No such channel");
    client.request(
      { type: "kick", room, nick, ...(reason ? { reason } : {}) },
      { command: "KICK", target, nick },
    );
  });
}

/** `MODE #room [modes [args]]` and `MODE nick`. */
export function mode(client: Client, m: IrcMessage): void {
  const target = m.params[0];
  if (!target.startsWith("#")) {
    if (target.toLowerCase() !== client.nick.toLowerCase()) {
      return client.numeric("502", "Cant change mode for other users");
    }
    if (m.params.length === 1) return client.numeric("221", "+i");
    // User modes are not kept: everyone is +i already, and nothing else changes.
    const source = `${client.nick}!${client.ctx.hub.userOf(client.nick)}@${client.ctx.server}`;
    return client.write([{ tags: {}, source, command: "MODE", params: [client.nick, "+i"] }]);
  }
  const room = roomOf(target);
  if (room === null) return client.numeric("403", target, "No such channel");
  if (m.params.length === 1) {
    return void client.request({ type: "modes", room }, { command: "MODE", target });
  }
  const flags: Record<string, boolean> = {};
  const args = m.params.slice(2);
  let sign = "+";
  for (const letter of m.params[1]) {
    if (letter === "+" || letter === "-") {
      sign = letter;
      continue;
    }
    const pending = { command: "MODE", target };
    switch (letter) {
      case "o":
      case "v": {
        const nick = args.shift();
        if (nick === undefined) continue;
        const type = letter === "o"
          ? (sign === "+" ? "op" : "deop")
          : (sign === "+" ? "voice" : "devoice");
        client.request({ type, room, nick }, { ...pending, nick });
        break;
      }
      case "b": {
        const mask = args.shift();
        if (mask === undefined) {
          client.request({ type: "bans", room }, pending);
          break;
        }
        const nick = mask.split("!")[0];
        client.request({ type: sign === "+" ? "ban" : "unban", room, nick }, pending);
        break;
      }
      case "k": {
        const key = args.shift();
        if (sign === "-") client.request({ type: "unlock", room }, pending);
        else if (key !== undefined && /[ ,]/.test(key)) {
          // A key with a space or comma could not be given in a JOIN.
          client.numeric("696", target, "k", "*", "Invalid key: no spaces or commas");
        } else if (key !== undefined && key !== "") {
          client.request({ type: "lock", room, password: key }, pending);
        }
        break;
      }
      case "s":
        flags.secret = sign === "+";
        break;
      case "i":
        flags.inviteOnly = sign === "+";
        break;
      case "t":
        flags.topicOpen = sign === "-";
        break;
      case "n":
        flags.outsiders = sign === "-";
        break;
      case "m":
        flags.moderated = sign === "+";
        break;
      default:
        client.numeric("472", letter, "is an unknown mode char to me");
    }
  }
  if (Object.keys(flags).length > 0) {
    client.request({ type: "flags", room, ...flags }, { command: "MODE", target });
  }
}

/** `INVITE nick #room`. */
export function invite(client: Client, m: IrcMessage): void {
  const [nick, target] = m.params;
  const room = roomOf(target);
  if (room === null) return client.numeric("403", target, "No such channel");
  client.request({ type: "invite", nick, room }, { command: "INVITE", target, nick });
}

// --- what the client is shown --------------------------------------------------------------------

/** Its own `JOIN`, shown; the room's messages wait for the names that follow. */
export function joinedReply(client: Client, event: Of<"joined">, pending?: Pending): void {
  if (pending?.command === "JOIN") {
    client.write(sharedLines(event, client.shape, client.ctx.now()) ?? []);
    // draft/read-marker: where it has read up to, before the names end.
    if (client.caps.has("draft/read-marker")) {
      client.write([markreadLine(client, channel(event.room), event.readAt)]);
    }
    client.holdRoom(event.room);
  }
}

/** A topic: changed (as members see it), or shown (`331`, or `332` and `333`). */
export function topicReply(client: Client, event: Of<"topic">): void {
  const room = channel(event.room);
  if (event.changed) return client.write(sharedLines(event, client.shape, client.ctx.now()) ?? []);
  if (event.topic === null) return client.numeric("331", room, "No topic is set");
  client.numeric("332", room, event.topic);
  if (event.by !== undefined) {
    client.numeric(
      "333",
      room,
      event.by,
      String(Math.floor((event.at ?? client.ctx.now()) / 1000)),
    );
  }
}

/** `MODE #room`: its modes (`324`) and when it was made (`329`). */
export function modesReply(client: Client, event: Of<"modes">): void {
  const f = event.flags ?? {};
  const letters = "+" + (f.inviteOnly ? "i" : "") + (event.locked ? "k" : "") +
    (f.moderated ? "m" : "") + (f.outsiders ? "" : "n") + (f.secret ? "s" : "") +
    (f.topicOpen ? "" : "t");
  client.write([
    client.line("324", channel(event.room), letters, ...(event.locked ? ["*"] : [])),
    client.line(
      "329",
      channel(event.room),
      String(Math.floor((event.created || client.ctx.startedAt) / 1000)),
    ),
  ]);
}

/** `MODE #room b`: the bans (`367`), then `368`. */
export function bansReply(client: Client, event: Of<"bans">): void {
  client.write([
    ...event.bans.map((b) => client.line("367", channel(event.room), `${b}!*@*`)),
    client.line("368", channel(event.room), "End of channel ban list"),
  ]);
}

/** An invitation: `341` to who sent it, `INVITE` to who got it. */
export function invitedReply(client: Client, event: Of<"invited">, pending?: Pending): void {
  if (pending?.command === "INVITE") {
    return client.numeric("341", event.nick, channel(event.room));
  }
  const source = userSource(event.by, client.shape);
  client.write([{
    tags: {},
    source,
    command: "INVITE",
    params: [event.nick, channel(event.room)],
  }]);
}
