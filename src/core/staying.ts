/**
 * The rooms a logged-in nick is in, kept across its connections (as IRC
 * servers with "always-on" clients do): joining adds a room, leaving it on
 * purpose (a part, a kick) takes it away, and a disconnect changes nothing.
 * `kept` lists them; the IRC door asks for it when a client logs in as it
 * registers (SASL) and joins them, so a reconnecting IRC client is back in its
 * channels, with its read markers, before it asks for anything. The lobby,
 * which every other door joins on its own, is not kept.
 *
 * @module
 */

import type { Context } from "./context.ts";
import { loggedIn } from "./direct.ts";
import { KeyedQueue } from "./keyed_queue.ts";
import { LOBBY, nickKey, normalizeRoom } from "./names.ts";
import type { Session } from "./session.ts";
import type { Command } from "./types.ts";

/** The most rooms kept per nick (a join past it is not kept). */
export const MAX_KEPT_ROOMS = 200;

/** Changes to the kept rooms of one nick, one after the other. */
export class KeptRooms {
  readonly #queue = new KeyedQueue();

  /** Adds `room` to the nick's kept rooms (`on`), or takes it away. */
  note(ctx: Context, session: Session, room: string, on: boolean): void {
    if (!loggedIn(session) || room === LOBBY) return;
    const key = nickKey(session.nick);
    const run = async () => {
      const rooms = await kept(ctx, key);
      if (rooms.includes(room) === on || (on && rooms.length >= MAX_KEPT_ROOMS)) return;
      const next = on ? [...rooms, room] : rooms.filter((r) => r !== room);
      await ctx.store.putRecord("joined", key, next.length === 0 ? null : JSON.stringify(next));
    };
    this.#queue.run(key, run).catch(ctx.onError);
  }
}

/** The nick's kept rooms (none for a missing or damaged record). */
async function kept(ctx: Context, key: string): Promise<string[]> {
  const record = await ctx.store.getRecord("joined", key);
  try {
    const list = record === null ? [] : JSON.parse(record);
    return Array.isArray(list)
      ? list.filter((r): r is string => typeof r === "string" && normalizeRoom(r) === r)
      : [];
  } catch {
    return [];
  }
}

/** `kept`: the rooms the client's logged-in nick is kept in (none for a guest). */
export async function keptRooms(
  ctx: Context,
  session: Session,
  command: Extract<Command, { type: "kept" }>,
): Promise<void> {
  const rooms = loggedIn(session) ? await kept(ctx, nickKey(session.nick)) : [];
  session.port.send({ type: "kept", rooms, ref: command.ref });
}
