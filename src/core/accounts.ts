/**
 * Who a client is allowed to be: the server password (`pass`), registered
 * nicks (`register`; claimed with `nick <name> <password>`). Server
 * operators are in `operators.ts`.
 *
 * @module
 */

import type { Context } from "./context.ts";
import { join } from "./joining.ts";
import { isGuestNick, LOBBY, nickKey } from "./names.ts";
import { checkPassword } from "./password_checks.ts";
import { hashPassword, samePassword } from "./passwords.ts";
import { leaveAll } from "./leaving.ts";
import { errorText, sendError } from "./replies.ts";
import { registeredHash } from "./nicks.ts";
import type { Session } from "./session.ts";
import type { Command } from "./types.ts";

/** Wrong server passwords a connection may send before it is closed. */
const MAX_PASS_FAILURES = 3;

type Of<T extends Command["type"]> = Extract<Command, { type: T }>;

/** `pass`: the server password; then the client is let into the lobby. */
export function pass(ctx: Context, session: Session, command: Of<"pass">): Promise<unknown> | void {
  const expected = ctx.options.password;
  if (expected === undefined || session.authorized) {
    session.port.send({ type: "notice", text: "no password needed", ref: command.ref });
    return;
  }
  const same = (p: string) => samePassword(p, expected);
  return checkPassword(ctx, session, command.password, same, command.ref, "pass").then((ok) => {
    if (session.closed) return;
    if (ok) {
      session.authorize();
      session.port.send({ type: "notice", text: "password accepted", ref: command.ref });
      if (session.options.lobby !== false) return join(ctx, session, LOBBY);
    }
    if (session.passFailed() >= MAX_PASS_FAILURES) {
      leaveAll(ctx, session, "wrong password");
      session.port.close();
    }
  });
}

/** `register`: the client's nick needs its password from now on. */
export function register(
  ctx: Context,
  session: Session,
  command: Of<"register">,
): Promise<unknown> | void {
  const nick = session.nick;
  const { ref } = command;
  if (isGuestNick(nick)) {
    return sendError(
      session,
      "bad_request",
      "choose a nick first (/nick <name>), then /register <password>",
      ref,
    );
  }
  // Holding the nick proves the right to it: it was free, or claimed with its password.
  return hashPassword(command.password)
    .then((hash) =>
      ctx.store.putRecord("nick", nickKey(nick), JSON.stringify({ hash, ts: ctx.now() }))
    )
    .then(
      () => {
        // Registering proves the right to the nick: the client is logged in as it.
        session.setRegistered(true);
        session.setAccount(nick);
        session.port.send({
          type: "notice",
          text: `nick ${nick} is registered: claim it with /nick ${nick} <password>`,
          ref,
        });
      },
      (err) => sendError(session, "store_failed", `not registered: ${errorText(err)}`, ref),
    );
}

/** `login`: proves the client owns a registered nick (SASL), without taking it. */
export function login(ctx: Context, session: Session, command: Of<"login">): Promise<unknown> {
  const { ref } = command;
  const account = command.account.trim();
  return ctx.store.getRecord("nick", nickKey(account)).then(async (record) => {
    // An unknown account fails like a wrong password: which nicks are registered is not told.
    const hash = record === null ? "" : registeredHash(record);
    if (
      !(await checkPassword(ctx, session, command.password, hash, ref, "login")) || session.closed
    ) return;
    session.setAccount(account);
    session.port.send({ type: "notice", text: `you are logged in as ${account}`, ref });
  }, (err) => sendError(session, "store_failed", `login unavailable: ${errorText(err)}`, ref));
}
