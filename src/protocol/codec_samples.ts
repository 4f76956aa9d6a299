/**
 * Samples of every {@link ServerEvent} variant, for the codec contract
 * (`codec_contract.ts`) and the codecs' own tests: each codec must encode all
 * of them.
 *
 * @module
 */

import type { ChatMessage } from "../core/types.ts";
import type { ServerEvent } from "../core/events.ts";

const MESSAGE: ChatMessage = {
  room: "dev",
  nick: "alice",
  text: "hello, café 😀",
  id: 42,
  ts: 1_700_000_000_000,
  kind: "say",
};

/**
 * At least one sample of every event variant, keyed by type so that a new
 * variant does not compile until it has a sample here.
 */
export const SAMPLE_EVENTS: {
  readonly [K in ServerEvent["type"]]: Extract<ServerEvent, { type: K }>[];
} = {
  welcome: [
    { type: "welcome", nick: "guest-1", room: "lobby", server: "chat", maxLineBytes: 4096 },
    { type: "welcome", nick: "guest-2", room: "lobby", server: "chat", password: true },
  ],
  message: [
    { type: "message", message: MESSAGE },
    { type: "message", message: { ...MESSAGE, kind: "action", text: "waves" }, ref: 7 },
    { type: "message", message: { ...MESSAGE, kind: "notice", text: "fyi" } },
  ],
  presence: [
    { type: "presence", nick: "bob", away: "lunch" },
    { type: "presence", nick: "bob", away: null },
  ],
  tagmsg: [
    { type: "tagmsg", from: "alice", room: "dev", tags: { "+typing": "active" }, ts: 1 },
    { type: "tagmsg", from: "alice", to: "bob", tags: { "+draft/react": "👍" }, ts: 1, ref: 4 },
  ],
  dm: [
    { type: "dm", from: "alice", to: "bob", text: "psst", ts: 1, ref: "r1" },
    { type: "dm", from: "alice", to: "bob", text: "fyi", ts: 1, notice: true },
  ],
  joined: [
    { type: "joined", room: "dev", nick: "bob" },
    { type: "joined", room: "dev", nick: "bob", read: 40, readAt: 1_700_000_000_000, unread: 2 },
  ],
  edit: [{ type: "edit", room: "dev", id: 42, nick: "alice", text: "fixed", ts: 2, ref: 1 }],
  delete: [
    { type: "delete", room: "dev", id: 42, nick: "alice" },
    { type: "delete", room: "dev", id: 42, nick: "op", reason: "spam" },
    { type: "delete", to: "bob", id: 7, nick: "alice" },
  ],
  react: [
    { type: "react", room: "dev", id: 42, nick: "bob", emoji: "👍", on: true },
    { type: "react", room: "dev", id: 42, nick: "bob", emoji: "👍", on: false, ref: 3 },
  ],
  reactions: [{
    type: "reactions",
    room: "dev",
    id: 42,
    nick: "alice",
    text: "hello",
    reactions: { "👍": ["bob", "carol"] },
  }],
  typing: [
    { type: "typing", nick: "bob", room: "dev", state: "active" },
    { type: "typing", nick: "bob", to: "alice", state: "done" },
  ],
  read: [
    { type: "read", room: "dev", id: 42, ts: 1_700_000_000_000 },
    { type: "read", with: "bob", id: 0, ref: 5 },
  ],
  search: [
    { type: "search", results: [{ ...MESSAGE, reactions: { "🎉": ["bob"] }, edited: 3 }] },
    { type: "search", results: [], ref: 6 },
  ],
  left: [
    { type: "left", room: "dev", nick: "bob", reason: { kind: "part" } },
    { type: "left", room: "dev", nick: "bob", reason: { kind: "part", message: "later" } },
    { type: "left", room: "dev", nick: "bob", reason: { kind: "quit", message: "bye" } },
    { type: "left", room: "dev", nick: "bob", reason: { kind: "kick", by: "alice" } },
    { type: "left", room: "dev", nick: "bob", reason: { kind: "ban", by: "alice", message: "x" } },
  ],
  nick: [{ type: "nick", old: "guest-1", nick: "alice", ref: 1 }],
  summary: [{ type: "summary", room: "big", joined: 3, left: 1, seconds: 10 }],
  current: [{ type: "current", room: "dev" }, { type: "current", room: null }],
  rooms: [
    { type: "rooms", rooms: [{ room: "dev", members: 2 }, { room: "lobby", members: 1 }] },
    { type: "rooms", rooms: [] },
    { type: "rooms", rooms: [{ room: "dev", members: 1, topic: "release day" }] },
  ],
  who: [
    { type: "who", room: "dev", members: ["alice", "bob"] },
    { type: "who", room: "big", members: ["a"], total: 201, offset: 200 },
    {
      type: "who",
      room: "dev",
      members: ["alice", "bob"],
      details: [
        { nick: "alice", op: true, user: "al", realname: "Alice A" },
        { nick: "bob", op: false, away: "lunch" },
      ],
    },
  ],
  away: [
    { type: "away", nick: "alice", text: "lunch", ref: 1 },
    { type: "away", nick: "alice", text: null },
  ],
  whois: [
    { type: "whois", nick: "bob", rooms: ["dev"], registered: true, admin: false, away: "x" },
    { type: "whois", nick: "carol", rooms: [], registered: false, admin: true, ref: 5 },
  ],
  ison: [{ type: "ison", nicks: ["bob"] }, { type: "ison", nicks: [] }],
  bans: [
    { type: "bans", room: "dev", bans: ["mallory"] },
    { type: "bans", room: "dev", bans: [] },
  ],
  modes: [{ type: "modes", room: "dev", locked: true }, {
    type: "modes",
    room: "dev",
    locked: false,
  }],
  targets: [
    {
      type: "targets",
      targets: [{ name: "dev", dm: false, ts: 5 }, { name: "bob", dm: true, ts: 4 }],
    },
    { type: "targets", targets: [], ref: 2 },
  ],
  history: [
    { type: "history", room: "dev", messages: [MESSAGE, { ...MESSAGE, id: 43 }] },
    { type: "history", room: "dev", messages: [] },
    { type: "history", room: "dev", messages: [{ ...MESSAGE, replyTo: 41 }], ids: true },
    {
      type: "history",
      room: "dm:alice:bob",
      with: "bob",
      messages: [{ ...MESSAGE, room: "dm:alice:bob" }],
    },
  ],
  help: [{ type: "help" }],
  kept: [{ type: "kept", rooms: ["dev", "ops"], ref: 1 }, { type: "kept", rooms: [] }],
  bye: [{ type: "bye", ref: 2 }],
  token: [{ type: "token", token: "q5Yf0x_Lr-8", nick: "alice", ref: 4 }],
  logout: [{ type: "logout", revoked: 1, ref: 5 }, { type: "logout", revoked: 0 }],
  notice: [{ type: "notice", text: "password accepted" }],
  moderation: [
    { type: "moderation", room: "dev", action: "op", by: "alice", nick: "bob" },
    { type: "moderation", room: "dev", action: "lock", by: "alice" },
    { type: "moderation", room: "dev", action: "voice", by: "alice", nick: "bob" },
    {
      type: "moderation",
      room: "dev",
      action: "flags",
      by: "alice",
      flags: { secret: true, inviteOnly: false, topicOpen: true },
    },
  ],
  invited: [
    { type: "invited", room: "dev", nick: "bob", by: "alice" },
    { type: "invited", room: "dev", nick: "bob", by: "alice", ref: 3 },
  ],
  topic: [
    { type: "topic", room: "dev", topic: "release day", by: "alice" },
    { type: "topic", room: "dev", topic: null, by: "alice", changed: true },
  ],
  stats: [{
    type: "stats",
    connections: { tcp: 2, ws: 1 },
    sessions: 3,
    rooms: 2,
    messagesIn: 10,
    eventsOut: 30,
    messagesPerSecond: 1.5,
    eventsPerSecond: 4.25,
    seconds: 60,
    uptimeSeconds: 120,
    history: 10,
  }],
  shutdown: [{ type: "shutdown" }],
  error: [
    { type: "error", code: "nick_taken", message: "nick bob is taken", ref: 3 },
    // Error messages may quote the client's input, controls included.
    { type: "error", code: "unknown_command", message: "unknown /\x1b[2J\r\nx\x00 (try /help)" },
  ],
};

/** Every sample event, in one list. */
export const ALL_SAMPLE_EVENTS: readonly ServerEvent[] = Object.values(SAMPLE_EVENTS).flat();
