/**
 * Resume tokens: how the web client keeps a registered nick signed in across
 * reloads without keeping its password. `token` gives a logged-in connection
 * a fresh random token, `resume` logs another connection in with it (and
 * takes the nick as a proven login does), `logout` revokes.
 *
 * Why it is safe to hand out: the store keeps only each token's SHA-256, so
 * a copy of the database signs nobody in; a token names the registration it
 * was issued under, so registering the nick again (a new password) ends every
 * earlier sign-in; a nick has at most {@link MAX_TOKENS} (the oldest goes
 * first); and a wrong token counts against the same per-address limit as a
 * wrong password, so guessing is as slow as guessing passwords (and hopeless
 * against 256 random bits anyway).
 *
 * Records: `token` (key: the hash) holds `{nick, ts, reg}`, `reg` being the
 * `ts` of the nick's registration record at issue time; `tokens` (key: the
 * nick's key) lists the nick's hashes, oldest first, for `logout` with `all`
 * and for the limit.
 *
 * @module
 */

import type { Context } from "./context.ts";
import { KeyedQueue } from "./keyed_queue.ts";
import { nickKey } from "./names.ts";
import { changeNick, refuseSharedChange, registeredAt } from "./nicks.ts";
import { audit } from "./audit.ts";
import { mayAttempt } from "./password_checks.ts";
import { errorText, sendError } from "./replies.ts";
import type { Session } from "./session.ts";
import type { Command } from "./types.ts";

/** Resume tokens kept per nick: issuing one more revokes the oldest. */
export const MAX_TOKENS = 20;

/** Random bytes in a token. */
const TOKEN_BYTES = 32;

type Of<T extends Command["type"]> = Extract<Command, { type: T }>;

/** What the store keeps of one token. */
interface TokenRecord {
  /** The account it signs in as. */
  nick: string;
  /** When it was issued (ms). */
  ts: number;
  /** The `ts` of the nick's registration record then. */
  reg: number;
}

/**
 * Changes to one nick's list of tokens, one after the other (issuing and
 * revoking race). Within a process: two processes of a cluster issuing for
 * one nick at the same moment may drop a hash from the list (that token then
 * escapes `logout` with `all`, not re-registration), a compromise taken for
 * a request that is rare.
 */
export class TokenLists {
  readonly #queue = new KeyedQueue();

  /** Runs `work` once the earlier changes to `nick`'s list have settled. */
  run<T>(nick: string, work: () => Promise<T>): Promise<T> {
    return this.#queue.run(nickKey(nick), work);
  }
}

const utf8 = new TextEncoder();

/** A new token: 32 random bytes, base64url without padding. */
export function newToken(): string {
  return crypto.getRandomValues(new Uint8Array(TOKEN_BYTES)).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

/** The SHA-256 of a token, in hex: what the store keeps and looks tokens up by. */
export async function tokenHash(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", utf8.encode(token));
  return new Uint8Array(digest).toHex();
}

function parseRecord(text: string | null): TokenRecord | null {
  if (text === null) return null;
  try {
    const { nick, ts, reg } = JSON.parse(text) ?? {};
    return typeof nick === "string" && typeof ts === "number" && typeof reg === "number"
      ? { nick, ts, reg }
      : null;
  } catch {
    return null; // a damaged record signs nobody in
  }
}

async function listOf(ctx: Context, nick: string): Promise<string[]> {
  const text = await ctx.store.getRecord("tokens", nickKey(nick));
  try {
    const list = text === null ? [] : JSON.parse(text);
    return Array.isArray(list) ? list.filter((h): h is string => typeof h === "string") : [];
  } catch {
    return [];
  }
}

function putList(ctx: Context, nick: string, list: string[]): Promise<void> {
  return ctx.store.putRecord("tokens", nickKey(nick), list.length ? JSON.stringify(list) : null);
}

/**
 * The token of `hash` when it still signs in: known, and issued under the
 * nick's current registration. One from an earlier registration is deleted.
 */
async function valid(ctx: Context, hash: string): Promise<TokenRecord | null> {
  const record = parseRecord(await ctx.store.getRecord("token", hash));
  if (record === null) return null;
  const registration = await ctx.store.getRecord("nick", nickKey(record.nick));
  if (registration !== null && registeredAt(registration) === record.reg) return record;
  await ctx.store.putRecord("token", hash, null);
  return null;
}

/** `token`: a fresh resume token for the client's logged-in nick. */
export function issueToken(ctx: Context, session: Session, command: Of<"token">): Promise<unknown> {
  const { ref } = command;
  const nick = session.account!; // the command table lets only logged-in clients ask
  const token = newToken();
  return ctx.tokens.run(nick, async () => {
    const registration = await ctx.store.getRecord("nick", nickKey(nick));
    if (registration === null) {
      return sendError(session, "bad_request", `nick ${nick} is not registered`, ref);
    }
    const reg = registeredAt(registration);
    const hash = await tokenHash(token);
    // Tokens that no longer sign in (revoked, or from an earlier registration) leave the list.
    const list: string[] = [];
    for (const h of await listOf(ctx, nick)) {
      if (parseRecord(await ctx.store.getRecord("token", h))?.reg === reg) list.push(h);
      else await ctx.store.putRecord("token", h, null);
    }
    list.push(hash);
    for (const oldest of list.splice(0, Math.max(0, list.length - MAX_TOKENS))) {
      await ctx.store.putRecord("token", oldest, null);
    }
    // Listed before it exists: a token the list does not name would escape `logout` with `all`.
    await putList(ctx, nick, list);
    const record: TokenRecord = { nick, ts: ctx.now(), reg };
    await ctx.store.putRecord("token", hash, JSON.stringify(record));
    session.setTokenHash(hash);
    if (!session.closed) session.port.send({ type: "token", token, nick, ref });
  }).catch((err) => sendError(session, "store_failed", `no token: ${errorText(err)}`, ref));
}

/** `resume`: logs in as the token's nick and takes it, as a proven (SASL) login would. */
export async function resume(
  ctx: Context,
  session: Session,
  command: Of<"resume">,
): Promise<unknown> {
  const { ref } = command;
  if (!mayAttempt(ctx, session, ref)) return;
  let hash: string;
  let record: TokenRecord | null;
  try {
    hash = await tokenHash(command.token);
    record = await valid(ctx, hash);
  } catch (err) {
    return sendError(session, "store_failed", `resume unavailable: ${errorText(err)}`, ref);
  }
  if (session.closed) return;
  if (record === null) {
    ctx.attempts?.failed(session.address);
    audit(ctx, session, "resume_failed");
    return sendError(
      session,
      "bad_token",
      "this sign-in has ended: claim your nick with /nick <name> <password>",
      ref,
    );
  }
  const nick = record.nick;
  // Checked before logging in, which would otherwise leave it logged in as a nick it cannot take.
  if (refuseSharedChange(ctx, session, nick, ref)) return;
  session.setAccount(nick);
  session.setTokenHash(hash);
  return changeNick(ctx, session, { type: "nick", nick, ref });
}

/** `logout`: revokes the connection's token, every token of its nick (`all`), or the one given. */
export async function logout(
  ctx: Context,
  session: Session,
  command: Of<"logout">,
): Promise<void> {
  const { ref } = command;
  let revoked: number;
  try {
    if (command.all) {
      revoked = await revokeAll(ctx, session.account!); // the command table asks for a login
      session.setTokenHash(null);
    } else {
      // Knowing a token proves the right to end it, whoever the connection is.
      const hash = command.token === undefined ? session.tokenHash : await tokenHash(command.token);
      revoked = hash === null ? 0 : await revoke(ctx, hash);
      if (hash === session.tokenHash) session.setTokenHash(null);
    }
  } catch (err) {
    return sendError(session, "store_failed", `not logged out: ${errorText(err)}`, ref);
  }
  if (!session.closed) session.port.send({ type: "logout", revoked, ref });
}

/** Revokes one token; how many were revoked (0 or 1). */
async function revoke(ctx: Context, hash: string): Promise<number> {
  const record = parseRecord(await ctx.store.getRecord("token", hash));
  if (record === null) return 0;
  return await ctx.tokens.run(record.nick, async () => {
    await ctx.store.putRecord("token", hash, null);
    const list = await listOf(ctx, record.nick);
    if (list.includes(hash)) await putList(ctx, record.nick, list.filter((h) => h !== hash));
    return 1;
  });
}

/** Revokes every token of `nick`; how many there were. */
function revokeAll(ctx: Context, nick: string): Promise<number> {
  return ctx.tokens.run(nick, async () => {
    let revoked = 0;
    for (const hash of await listOf(ctx, nick)) {
      const record = parseRecord(await ctx.store.getRecord("token", hash));
      if (record === null || nickKey(record.nick) !== nickKey(nick)) continue;
      await ctx.store.putRecord("token", hash, null);
      revoked++;
    }
    await putList(ctx, nick, []);
    return revoked;
  });
}
