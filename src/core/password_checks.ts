/**
 * Every password a client sends (the server password, a registered nick's,
 * a room's, the server operators') is checked here, under the per-address
 * limit on failed attempts (which resume tokens share: see tokens.ts).
 *
 * @module
 */

import { audit, type AuditAction } from "./audit.ts";
import type { Context } from "./context.ts";
import { verifyPassword } from "./passwords.ts";
import { sendError } from "./replies.ts";
import type { Session } from "./session.ts";
import type { Ref } from "./types.ts";
import type { LoginKind } from "./stats.ts";

/** The metric's label of each failed attempt the audit log names. */
const FAILURE_KINDS: Partial<Record<AuditAction, LoginKind>> = {
  pass_failed: "pass",
  admin_failed: "admin",
  nick_password_failed: "nick",
  login_failed: "login",
  room_password_failed: "room",
};

/**
 * Checks `password` against a stored hash (or with `check`): false, the
 * client told why, when it is wrong or may not be tried now. A wrong one is
 * audited as `failure` (what was tried), with the room or nick tried if
 * given, and counted in `chat_login_failures_total` by what was tried.
 */
export async function checkPassword(
  ctx: Context,
  session: Session,
  password: string,
  check: string | ((password: string) => Promise<boolean>),
  ref: Ref | undefined,
  failure: AuditAction,
  tried: { room?: string; target?: string } = {},
): Promise<boolean> {
  if (!mayAttempt(ctx, session, ref)) return false;
  const ok = typeof check === "string"
    ? await verifyPassword(password, check)
    : await check(password);
  if (!ok) {
    ctx.stats.loginFailures[FAILURE_KINDS[failure] ?? "login"]++;
    ctx.attempts?.failed(session.address);
    audit(ctx, session, failure, tried);
    sendError(session, "wrong_password", "wrong password", ref);
  }
  return ok;
}

/**
 * Whether the client's address may try a secret now (a password, a resume
 * token); when not, the client is told how long to wait.
 */
export function mayAttempt(ctx: Context, session: Session, ref?: Ref): boolean {
  const wait = ctx.attempts?.waitMs(session.address) ?? 0;
  if (wait === 0) return true;
  const seconds = Math.ceil(wait / 1000);
  sendError(
    session,
    "too_many_attempts",
    `too many failed attempts, try again in ${seconds} s`,
    ref,
  );
  return false;
}
