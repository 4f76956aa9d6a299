/**
 * The command table: every request type with its handler and what must hold
 * before it runs, checked in one place ({@link dispatch}), in the manner of
 * ergo's command table. Handlers live with their topic: chat, direct
 * messages, nicks, joining, leaving, listing, accounts, resume tokens,
 * operators, moderation.
 *
 * @module
 */

import { admin, rehash, stats } from "./operators.ts";
import { login, pass, register } from "./accounts.ts";
import { history, say, targets } from "./chat.ts";
import type { Context } from "./context.ts";
import { directMessage } from "./direct.ts";
import { joinCommand } from "./joining.ts";
import { leave, quit } from "./leaving.ts";
import { rooms, who } from "./listing.ts";
import {
  bans,
  invite,
  kick,
  lock,
  modes,
  setFlags,
  setOp,
  setVoice,
  topic,
  unban,
  unlock,
} from "./moderation.ts";
import { edit, react, remove } from "./editing.ts";
import { changeNick } from "./nicks.ts";
import { read } from "./reading.ts";
import { search } from "./search.ts";
import { typing } from "./typing.ts";
import { tagmsg } from "./tags.ts";
import { away, ison, whois } from "./people.ts";
import { roomFor, type RoomNeed, sendError } from "./replies.ts";
import type { Room } from "./room.ts";
import { keptRooms } from "./staying.ts";
import { issueToken, logout, resume } from "./tokens.ts";
import type { Session } from "./session.ts";
import type { Command } from "./types.ts";

/** A handler: a promise when it waits for the store (the client's next requests wait for it). */
type Handler<C extends Command> = (
  ctx: Context,
  session: Session,
  command: C,
  room: Room,
) => Promise<unknown> | void;

/** One command's entry. */
interface Spec<C extends Command> {
  run: Handler<C>;
  /** Usable before the server password is given. */
  beforePassword?: true;
  /** May run while this client's earlier messages are still being stored (their order holds). */
  concurrent?: true | ((command: C) => boolean);
  /** Server operators only. */
  serverOperator?: true;
  /** Only a client logged in as a registered nick (claimed, registered, SASL or resumed). */
  account?: true | ((command: C) => boolean);
  /** The room the command is about (the named or current one) and how the client must relate to it. */
  room?: RoomNeed | ((command: C) => RoomNeed);
}

type Table = { [T in Command["type"]]: Spec<Extract<Command, { type: T }>> };

/** Every command. */
export const COMMANDS: Table = {
  // A reply waits for what came before it: its target is checked in the store first.
  say: { run: say, concurrent: (c) => c.replyTo === undefined },
  me: { run: say, concurrent: true },
  notice: { run: say, concurrent: true },
  msg: { run: directMessage },
  tagmsg: { run: tagmsg },
  nick: { run: changeNick },
  join: { run: joinCommand },
  leave: { run: leave, room: "member" },
  rooms: { run: rooms },
  who: { run: who },
  history: { run: history },
  edit: { run: edit },
  delete: { run: remove },
  react: { run: react },
  unreact: { run: react },
  typing: { run: typing },
  read: { run: read },
  search: { run: search },
  kept: { run: keptRooms },
  targets: { run: targets },
  away: { run: away },
  whois: { run: whois },
  ison: { run: ison },
  help: {
    run: (_, session, c) => session.port.send({ type: "help", ref: c.ref }),
    beforePassword: true,
  },
  quit: { run: quit, beforePassword: true },
  pass: { run: pass, beforePassword: true },
  register: { run: register },
  login: { run: login },
  token: { run: issueToken, account: true },
  resume: { run: resume },
  // Revoking by the token's text needs no login: knowing the token is proof enough.
  logout: { run: logout, account: (c) => c.all === true },
  admin: { run: admin },
  stats: { run: stats, serverOperator: true },
  rehash: { run: rehash, serverOperator: true },
  kick: { run: kick, room: "operator" },
  ban: { run: kick, room: "operator" },
  unban: { run: unban, room: "operator" },
  op: { run: setOp, room: "operator" },
  deop: { run: setOp, room: "operator" },
  // Setting it needs an operator unless the room is -t: the handler checks.
  topic: { run: topic, room: "reader" },
  lock: { run: lock, room: "operator" },
  unlock: { run: unlock, room: "operator" },
  voice: { run: setVoice, room: "operator" },
  devoice: { run: setVoice, room: "operator" },
  flags: { run: setFlags, room: "operator" },
  invite: { run: invite, room: "member" },
  bans: { run: bans, room: "exists" },
  modes: { run: modes, room: "exists" },
};

/** Whether `command` may run while the client's earlier messages are still being stored. */
export function isConcurrent(command: Command): boolean {
  const concurrent = (COMMANDS as Record<string, Spec<Command>>)[command.type]?.concurrent;
  return typeof concurrent === "function" ? concurrent(command) : concurrent === true;
}

/** Checks a command's preconditions, then runs it. */
export function dispatch(
  ctx: Context,
  session: Session,
  command: Command,
): Promise<unknown> | void {
  // The table is typed per command; the cast is the one place we dispatch.
  const spec = COMMANDS[command.type] as Spec<Command>;
  const { ref } = command;
  if (!session.authorized && !spec.beforePassword) {
    return sendError(session, "password_required", "password required", ref);
  }
  if (spec.serverOperator && !session.admin) {
    return sendError(
      session,
      "not_operator",
      "you are not a server operator (/admin <password>)",
      ref,
    );
  }
  const account = typeof spec.account === "function" ? spec.account(command) : spec.account;
  if (account && session.account === null) {
    return sendError(
      session,
      "bad_request",
      "claim or register a nick first (/nick <name> <password>, or /register <password>)",
      ref,
    );
  }
  let room: Room | null = null;
  if (spec.room !== undefined) {
    const need = typeof spec.room === "function" ? spec.room(command) : spec.room;
    room = roomFor(ctx, session, (command as { room?: string }).room, need, ref);
    if (room === null) return;
  }
  return spec.run(ctx, session, command, room!);
}
