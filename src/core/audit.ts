/**
 * The audit trail: one record per act an operator may have to answer for or
 * a fail2ban filter may act on (kicks, bans, op and topic changes, server
 * operator logins, failed passwords, flood and slow-consumer disconnects).
 * The core only describes the act; the server's sink writes it (a log line).
 * Passwords never reach a record.
 *
 * @module
 */

import type { Context } from "./context.ts";
import type { Session } from "./session.ts";

/** What was done; the names are stable (filters match them). */
export type AuditAction =
  | "kick"
  | "ban"
  | "unban"
  | "op"
  | "deop"
  | "voice"
  | "devoice"
  | "topic"
  | "flags"
  | "lock"
  | "unlock"
  | "admin"
  | "admin_failed"
  | "pass_failed"
  | "login_failed"
  | "nick_password_failed"
  | "room_password_failed"
  | "resume_failed"
  | "register_failed"
  | "excess_flood"
  | "too_slow";

/** One audited act: who (nick, account), from where, what, and on what. */
export interface AuditRecord {
  action: AuditAction;
  nick: string;
  /** The registered nick the client logged in as, if any. */
  account?: string;
  /** The client's address ("" when unknown). */
  address: string;
  room?: string;
  /** The nick acted on (kicked, banned, given op). */
  target?: string;
}

/** Where records go; the server logs them. */
export type AuditSink = (record: AuditRecord) => void;

/** Records `action` by `session` (its nick, account and address filled in). */
export function audit(
  ctx: Context,
  session: Session,
  action: AuditAction,
  fields: { room?: string; target?: string } = {},
): void {
  const sink = ctx.options.audit;
  if (sink === undefined) return;
  const record: AuditRecord = { action, nick: session.nick, address: session.address };
  if (session.account !== null) record.account = session.account;
  if (fields.room !== undefined) record.room = fields.room;
  if (fields.target !== undefined) record.target = fields.target;
  try {
    sink(record);
  } catch (err) {
    // A failing log must not fail the act it records.
    ctx.onError(err);
  }
}
