/**
 * Server operators: `admin` with the operators' password makes a client one
 * (it may then moderate every room), and `stats` shows them the server's
 * counters and rates.
 *
 * @module
 */

import type { Context } from "./context.ts";
import { checkPassword } from "./password_checks.ts";
import { samePassword } from "./passwords.ts";
import { sendError } from "./replies.ts";
import type { Session } from "./session.ts";
import type { Command } from "./types.ts";

type Of<T extends Command["type"]> = Extract<Command, { type: T }>;

/** `admin`: becomes a server operator with the operators' password. */
export function admin(
  ctx: Context,
  session: Session,
  command: Of<"admin">,
): Promise<unknown> | void {
  const expected = ctx.options.adminPassword;
  if (expected === undefined) {
    return sendError(session, "not_operator", "this server has no server operators", command.ref);
  }
  const same = (p: string) => samePassword(p, expected);
  return checkPassword(ctx, session, command.password, same, command.ref, "admin").then((ok) => {
    if (!ok || session.closed) return;
    session.makeAdmin();
    session.port.send({ type: "notice", text: "you are now a server operator", ref: command.ref });
  });
}

/** `stats` (server operators only: the table says so). */
export function stats(ctx: Context, session: Session, command: Of<"stats">): void {
  const now = ctx.now();
  const { messagesIn, eventsOut } = ctx.stats;
  const rates = ctx.stats.rates(now, ctx.startedAt);
  session.port.send({
    type: "stats",
    connections: Object.fromEntries(ctx.stats.connections),
    sessions: ctx.registry.sessionCount,
    rooms: ctx.registry.roomCount,
    messagesIn,
    eventsOut,
    ...rates,
    uptimeSeconds: Math.round((now - ctx.startedAt) / 1000),
    history: ctx.store.size(),
    ref: command.ref,
  });
}
