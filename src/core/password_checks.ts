/**
 * Every password a client sends (the server password, a registered nick's,
 * a room's, the server operators') is checked here, under the per-address
 * limit on failed attempts (which resume tokens share: see tokens.ts).
 *
 * @module
 */

import type { Context } from "./context.ts";
import { verifyPassword } from "./passwords.ts";
import { sendError } from "./replies.ts";
import type { Session } from "./session.ts";
import type { Ref } from "./types.ts";
import type { LoginKind } from "./stats.ts";

/**
 * Checks `password` against a stored hash (or with `check`): false, the
 * client told why, when it is wrong or may not be tried now. A wrong one is
 * counted under `kind` (`chat_login_failures_total`).
 */
export async function checkPassword(
  ctx: Context,
  session: Session,
  password: string,
  check: string | ((password: string) => Promise<boolean>),
  ref: Ref | undefined,
  kind: LoginKind,
): Promise<boolean> {
  if (!mayAttempt(ctx, session, ref)) return false;
  const ok = typeof check === "string"
    ? await verifyPassword(password, check)
    : await check(password);
  if (!ok) {
    ctx.stats.loginFailures[kind]++;
    ctx.attempts?.failed(session.address);
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
