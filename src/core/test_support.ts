/**
 * What the core's tests share: a port that records what a client is sent,
 * the hub options they start from, and a wait for the next turn.
 *
 * @module
 */

import { eventOf, type Outgoing } from "./broadcast.ts";
import type { ClientPort } from "./types.ts";
import type { ServerEvent } from "./events.ts";

/** A client's port that keeps every event it is sent. */
export class RecordingPort implements ClientPort {
  events: ServerEvent[] = [];
  send(out: Outgoing): void {
    this.events.push(eventOf(out));
  }
  close(): void {}
  /** The events so far, forgotten here. */
  take(): ServerEvent[] {
    return this.events.splice(0);
  }
}

/** Hub options for tests: no replay on join, small pages, quiet rooms from 200. */
export const TEST_HUB_OPTIONS = {
  historyOnJoin: 0,
  historyDefault: 20,
  historyMax: 100,
  serverName: "test",
  quietRoomSize: 200,
  summaryIntervalMs: 5000,
};

/** Resolves after the current turn (and the store's promises in it). */
export const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
