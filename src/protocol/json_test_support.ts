/**
 * What the JSON codec's tests share: a request parsed back to a plain object,
 * the bad-request error expected, and every request type with all its fields.
 *
 * @module
 */

import type { Command } from "../core/types.ts";
import { parseJsonItem } from "./json.ts";

/** The JSON item of a request given as an object. */
export const item = (request: unknown) => JSON.stringify(request);

/** parseJsonItem of a request given as an object; keys whose value is undefined left out. */
export function parse(request: unknown): unknown {
  const result = parseJsonItem(typeof request === "string" ? request : item(request));
  if (result === null) return null;
  return Object.fromEntries(Object.entries(result).filter(([, v]) => v !== undefined));
}

/** The bad_request parse error with `message`, and `ref` when given. */
export function bad(message: string, ref?: string | number) {
  return ref === undefined
    ? { type: "parse_error", code: "bad_request", message }
    : { type: "parse_error", code: "bad_request", message, ref };
}

/** Every request type with all its fields, as docs/protocol.md shows them. */
export const FULL_REQUESTS: Record<Command["type"], Record<string, unknown>> = {
  say: { text: "hi", room: "dev", tags: { "+draft/reply": "dev-4" } },
  me: { text: "waves", room: "dev", tags: {} },
  notice: { text: "fyi", room: "dev", tags: {} },
  msg: { to: "bob", text: "psst", notice: true, tags: {} },
  tagmsg: { room: "dev", to: "bob", tags: { "+typing": "active" } },
  nick: { nick: "alice", password: "pw" },
  join: { room: "dev", password: "pw" },
  leave: { room: "dev", reason: "later" },
  rooms: { topics: true },
  who: { room: "dev", mask: "a*", limit: 100, offset: 0, detail: true },
  away: { text: "lunch" },
  whois: { nick: "bob" },
  ison: { nicks: ["bob", "carol"] },
  bans: { room: "dev" },
  modes: { room: "dev" },
  history: {
    room: "dev",
    after: 41,
    before: 60,
    around: 50,
    afterTime: 1,
    beforeTime: 2,
    aroundTime: 3,
    latest: true,
    with: "bob",
    member: true,
    limit: 100,
  },
  targets: { afterTime: 1, beforeTime: 2, limit: 10 },
  help: {},
  quit: { reason: "gone" },
  edit: { room: "dev", id: 41, text: "fixed" },
  delete: { room: "dev", with: "bob", id: 41, reason: "oops" },
  react: { room: "dev", id: 41, emoji: "👍" },
  unreact: { room: "dev", id: 41, emoji: "👍" },
  typing: { room: "dev", to: "bob", state: "active" },
  read: { room: "dev", with: "bob", id: 57, ts: 5 },
  kept: {},
  search: { text: "deploy friday", room: "dev", limit: 20 },
  pass: { password: "pw" },
  register: { password: "pw" },
  login: { account: "alice", password: "pw" },
  admin: { password: "pw" },
  token: {},
  resume: { token: "Zm9v" },
  logout: { all: true, token: "Zm9v" },
  stats: {},
  rehash: {},
  kick: { nick: "bob", reason: "spam", room: "dev" },
  ban: { nick: "bob", room: "dev" },
  unban: { nick: "bob", room: "dev" },
  op: { nick: "bob", room: "dev" },
  deop: { nick: "bob", room: "dev" },
  topic: { text: "hi", room: "dev" },
  lock: { password: "pw", room: "dev" },
  unlock: { room: "dev" },
  voice: { nick: "bob", room: "dev" },
  devoice: { nick: "bob", room: "dev" },
  flags: { room: "dev", secret: true, inviteOnly: false, topicOpen: true, outsiders: false },
  invite: { nick: "bob", room: "dev" },
};
