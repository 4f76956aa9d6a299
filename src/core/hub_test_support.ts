/**
 * What the hub's tests share: a hub on a memory store at a fixed time, a
 * port that records what each client is sent, and small readers of events.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Hub, type HubOptions, type Session } from "./hub.ts";
import { Stats } from "./stats.ts";
import { eventOf, type Outgoing } from "./broadcast.ts";
import { MemoryLink } from "../cluster/memory.ts";
import type { ChatMessage, ClientPort } from "./types.ts";
import type { ErrorCode, ServerEvent } from "./events.ts";
import type { HistoryStore } from "./history.ts";
import { MemoryHistoryStore } from "../store/memory.ts";

/** The time every test hub reads from its clock. */
export const NOW = 1700000000000;

/** Lets store promises settle and the hub fan out. */
export const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** A client port that records what it is sent. */
export class FakePort implements ClientPort {
  events: ServerEvent[] = [];
  closes = 0;

  send(out: Outgoing): void {
    this.events.push(eventOf(out));
  }

  close(): void {
    this.closes++;
  }

  /** Returns the events received since the last call and forgets them. */
  take(): ServerEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }
}

/** A connected client: its session in the hub and the port it is sent to. */
export interface Client {
  session: Session;
  port: FakePort;
}

/** A test hub, its store and counters, and a way to connect a client. */
export interface Harness {
  hub: Hub;
  store: HistoryStore;
  stats: Stats;
  connect(): Client;
}

/**
 * Runs `fn` on a new hub (no replay on join, guest nicks, the time {@link NOW}),
 * `options` overriding the defaults; the store is closed afterwards.
 */
export async function withHub(
  options: Partial<HubOptions>,
  fn: (h: Harness) => Promise<void> | void,
  store: HistoryStore = new MemoryHistoryStore(100),
): Promise<void> {
  const stats = new Stats();
  const hub = new Hub(store, stats, {
    historyOnJoin: 0,
    historyDefault: 20,
    historyMax: 1000,
    serverName: "test-server",
    link: new MemoryLink(),
    quietRoomSize: 200,
    summaryIntervalMs: 5000,
    now: () => NOW,
    ...options,
  });
  const connect = (): Client => {
    const port = new FakePort();
    const session = hub.connect(port);
    return { session, port };
  };
  try {
    await fn({ hub, store, stats, connect });
  } finally {
    await store.close();
  }
}

/** Connects `n` clients and lets the lobby joins settle, forgetting their events. */
export async function clients(h: Harness, n: number): Promise<Client[]> {
  const out: Client[] = [];
  for (let i = 0; i < n; i++) out.push(h.connect());
  await tick();
  for (const c of out) c.port.take();
  return out;
}

/** The codes of the error events among `events`. */
export function errorCodes(events: ServerEvent[]): ErrorCode[] {
  return events.flatMap((e) => (e.type === "error" ? [e.code] : []));
}

/** Asserts that `events` is one error of `code`, with a message and the given `ref`. */
export function assertError(events: ServerEvent[], code: ErrorCode, ref?: string | number): void {
  assert.equal(events.length, 1, `expected one event, got ${JSON.stringify(events)}`);
  const e = events[0];
  assert.equal(e.type, "error");
  if (e.type !== "error") return;
  assert.equal(e.code, code);
  assert.equal(typeof e.message, "string");
  assert.ok(e.message.length > 0);
  assert.equal(e.ref, ref);
}

/** The messages of the message events among `events`. */
export function messagesOf(events: ServerEvent[]): ChatMessage[] {
  return events.flatMap((e) => (e.type === "message" ? [e.message] : []));
}

/** The texts of the messages among `events`. */
export function texts(events: ServerEvent[]): string[] {
  return messagesOf(events).map((m) => m.text);
}

/** A compact description of an event sequence for order checks. */
export function shape(events: ServerEvent[]): string[] {
  return events.map((e) => {
    switch (e.type) {
      case "message":
        return `message ${e.message.room} ${e.message.text}`;
      case "history":
        return `history ${e.room} ${e.messages.map((m) => m.text).join(",")}`;
      case "joined":
      case "left":
        return `${e.type} ${e.room} ${e.nick}`;
      case "current":
        return `current ${e.room}`;
      case "error":
        return `error ${e.code}`;
      default:
        return e.type;
    }
  });
}

/** The event without its `ref` field. */
export function withoutRef(event: object): object {
  const { ref: _ref, ...rest } = event as { ref?: unknown };
  return rest;
}
