/**
 * Every password a client sends (the server password, a registered nick's,
 * a room's, the server operators') is checked here, under the per-address
 * limit on failed attempts.
 *
 * @module
 */

import type { Context } from "./context.ts";
import { verifyPassword } from "./passwords.ts";
import { sendError } from "./replies.ts";
import type { Session } from "./session.ts";
import type { Ref } from "./types.ts";

/**
 * Checks `password` against a stored hash (or with `check`): false, the
 * client told why, when it is wrong or may not be tried now.
 */
export async function checkPassword(
  ctx: Context,
  session: Session,
  password: string,
  check: string | ((password: string) => Promise<boolean>),
  ref?: Ref,
): Promise<boolean> {
  const wait = ctx.attempts?.waitMs(session.address) ?? 0;
  if (wait > 0) {
    const seconds = Math.ceil(wait / 1000);
    sendError(
      session,
      "too_many_attempts",
      `too many failed attempts, try again in ${seconds} s`,
      ref,
    );
    return false;
  }
  const ok = typeof check === "string"
    ? await verifyPassword(password, check)
    : await check(password);
  if (!ok) {
    ctx.attempts?.failed(session.address);
    sendError(session, "wrong_password", "wrong password", ref);
  }
  return ok;
}
