/**
 * `typing`: a member shows that it is typing in a room (to the others) or to
 * a nick. Never stored; one notice per client and target every 3 s (also
 * with `--no-limits`: it is chatter, not chat), ending it always passes;
 * clients expire a notice on their own after 6 s.
 *
 * @module
 */

import { Broadcast } from "./broadcast.ts";
import type { Context } from "./context.ts";
import { roomFor, sendError } from "./replies.ts";
import type { Session } from "./session.ts";
import { TYPING_INTERVAL_MS } from "./session.ts";
import { sendToNick } from "./tags.ts";
import type { Command } from "./types.ts";
import type { ServerEvent } from "./events.ts";

const STATES = new Set(["active", "paused", "done"]);

export function typing(
  ctx: Context,
  session: Session,
  command: Extract<Command, { type: "typing" }>,
): Promise<unknown> | void {
  const { ref, state } = command;
  if (!STATES.has(state)) {
    return sendError(session, "bad_request", "typing state is active, paused or done", ref);
  }
  const event: ServerEvent = { type: "typing", nick: session.nick, state };
  if (command.to !== undefined) {
    if (!session.mayType(`@${command.to.trim().toLowerCase()}`, state, ctx.timers.monotonic())) {
      return slowDown(session, ref);
    }
    return sendToNick(ctx, session, command.to, event, ref, false);
  }
  const room = roomFor(ctx, session, command.room, "member", ref);
  if (room === null) return;
  if (!session.mayType(room.name, state, ctx.timers.monotonic())) return slowDown(session, ref);
  event.room = room.name;
  const shared = new Broadcast(event);
  for (const member of room.members) if (member !== session) member.port.send(shared);
  ctx.link.publish(room.name, event);
}

function slowDown(session: Session, ref: Command["ref"]): void {
  sendError(
    session,
    "slow_down",
    `typing notices: at most one every ${TYPING_INTERVAL_MS / 1000} s`,
    ref,
  );
}
