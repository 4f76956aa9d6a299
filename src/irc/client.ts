/**
 * One IRC client: its registration state, its requests to the core and
 * what each reply stands for, and which of the core's events it gets and
 * how. The core sees an ordinary client (the hub's port); the client sees
 * an IRC server. Its lines out (numerics, labeled responses, the shared
 * encoding) are written by `writer.ts`.
 *
 * Everything the client asks after registration goes through the core's
 * queue for it, `PING` included (as a marker the core hands back in order),
 * so the `PONG` comes after every reply to the lines before it: irctest, and
 * clients that synchronise the same way, rely on that.
 *
 * @module
 */

import { Broadcast, eventOf, type Outgoing } from "../core/broadcast.ts";
import type { Hub, Session } from "../core/hub.ts";
import type { Stats } from "../core/stats.ts";
import type { ClientPort, Command, Ref, TypingState } from "../core/types.ts";
import type { ServerEvent } from "../core/events.ts";
import { afterRegistration } from "./commands.ts";
import { parseMessage } from "./message.ts";
import { beforeRegistration, REGISTRATION_COMMANDS } from "./registration.ts";
import { sharedLines } from "./render.ts";
import { renderReply } from "./replies.ts";
import { type IrcOutput, type IrcWire, IrcWriter, type Response } from "./writer.ts";

/** What every IRC client of a server shares. */
export interface IrcContext {
  hub: Hub;
  stats: Stats;
  /** Names the server in numerics and prefixes (`--server-name`). */
  server: string;
  version: string;
  /** Whether clients must send the server password (`PASS`). */
  passwordRequired: boolean;
  /** Wall clock, for tags and the `created` line. */
  now(): number;
  startedAt: number;
  /** Milliseconds a connection may take to register before it is closed. */
  registrationTimeoutMs: number;
}

/** The registration timeout, unless `--idle-timeout` is shorter. */
export const REGISTRATION_TIMEOUT_MS = 60_000;

/** The door's connection, told when its client has registered (its registration timer stops). */
export interface RegistrationWatcher {
  registered(): void;
}

/** What a request the client made is, for rendering its reply. */
export interface Pending {
  /** The IRC command, in upper case (`JOIN`, `NAMES`, `WHO`, `PING`...). */
  command: string;
  /** What it was about: a channel, a nick, a token. */
  target: string;
  /** The nick it was about, besides the channel (`KICK`, `MODE +o`). */
  nick?: string;
  /** Its subcommand (`CHATHISTORY LATEST`...). */
  sub?: string;
  /** For `JOIN`: the names request that follows it (dropped if the join fails). */
  names?: Ref;
  /** For `NAMES` after a `JOIN`: whether the join failed (nothing to show). */
  failed?: boolean;
  /** For `NAMES` of several channels: the end (`366`) names them all, after the last; `null` for the others. */
  namesEnd?: string | null;
  /** For `WHO` with `%` fields: the WHOX fields and token. */
  whox?: { fields: string; token: string };
  /** The `msgid` it names (`REDACT`, a reply, a reaction), for its `FAIL`. */
  msgid?: string;
  /** For the end of a typing notice: the notice's request, and what it said. */
  typing?: { ref: Ref; state: TypingState };
  /** The labeled response its lines belong to (`labeled-response`). */
  response?: Response;
}

/** One IRC connection, as the core's port and as an IRC server's view of it. */
export class IrcClient<T> extends IrcWriter<T> implements ClientPort {
  readonly address: string;
  /** What `USER` gave; `null` until then. */
  ident: { user: string; realname: string } | null = null;
  /** What `PASS` gave. */
  password: string | null = null;
  /** Negotiating capabilities (`CAP LS` or `REQ` before registration): registration waits. */
  negotiating = false;
  /** Registration has been asked of the core (its nick is being claimed). */
  registering = false;
  session: Session | null = null;
  // The maps below are made when first needed and dropped when empty: an idle client holds none.
  #pending: Map<Ref, Pending> | null = null;
  #nextRef = 1;
  /** Rooms just joined: their messages wait for the names list (which follows the JOIN). */
  #holding: Map<string, Outgoing[]> | null = null;
  /** Nicks whose QUIT was shown (a quitter leaves every shared room: one QUIT). */
  #quits: Set<string> | null = null;
  /** Labeled JOINs still open, by room: the topic and operator mode shown on join belong to them. */
  #joins: Map<string, Response> | null = null;
  readonly #watcher: RegistrationWatcher | null;

  constructor(
    ctx: IrcContext,
    wire: IrcWire<T>,
    out: IrcOutput<T>,
    address: string,
    watcher: RegistrationWatcher | null = null,
  ) {
    super(ctx, wire, out);
    this.address = address;
    this.#watcher = watcher;
  }

  /** Registration is complete (the core gave it its nick). */
  completeRegistration(): void {
    this.registered = true;
    this.#watcher?.registered();
  }

  // --- from the client ---------------------------------------------------------------------------

  /** One line from the client, without its line ending. */
  receive(line: string): void {
    const message = parseMessage(line);
    if (message === "empty") return;
    if (message === "body_too_long" || message === "tags_too_long") {
      return this.numeric("417", "Input line was too long");
    }
    // While its nick is being claimed, what is not registration waits in the core's queue.
    if (!this.registered && (!this.registering || REGISTRATION_COMMANDS.has(message.command))) {
      return beforeRegistration(this, message);
    }
    const label = message.tags.label;
    if (label === undefined || !this.caps.has("labeled-response")) {
      return afterRegistration(this, message);
    }
    const response: Response = { label, lines: [], open: 0 };
    this.collecting = response;
    try {
      afterRegistration(this, message);
    } finally {
      this.collecting = null;
    }
    if (message.command === "JOIN" && response.open > 0) {
      for (const target of (message.params[0] ?? "").split(",")) {
        (this.#joins ??= new Map()).set(target.slice(1).toLowerCase(), response);
      }
    }
    if (response.open === 0) this.#finish(response);
  }

  /** Sends a labeled response, which no JOIN waits on any more. */
  #finish(response: Response): void {
    const joins = this.#joins;
    if (joins !== null) {
      for (const [room, open] of joins) if (open === response) joins.delete(room);
      if (joins.size === 0) this.#joins = null;
    }
    this.sendLabeled(response);
  }

  /** Counts a request into the labeled response being collected, if any. */
  #track(pending: Pending | undefined): Pending | undefined {
    const response = this.collecting;
    if (response === null) return pending;
    response.open++;
    return { command: "", target: "", ...pending, response };
  }
  /** A ref to give a request about to be made (so another can name it first). */
  nextRef(): Ref {
    return this.#nextRef++;
  }

  /** The client's request to the core; `pending` says how to render its reply. */
  request(command: Command, pending?: Pending, ref: Ref = this.#nextRef++): Ref {
    if (pending !== undefined) this.#expectRef(ref, pending);
    this.ctx.hub.handle(this.session!, { ...command, ref } as Command, 0);
    return ref;
  }

  /** A reply the core hands back in order with the client's earlier requests (`PONG`). */
  inOrder(pending: Pending): void {
    const ref = this.#nextRef++;
    this.#expectRef(ref, pending);
    if (this.session === null) return this.#replyTo({ type: "notice", text: "", ref });
    this.ctx.hub.reply(this.session, { type: "notice", text: "", ref });
  }

  /** Says what the reply to `ref` (a request not made yet) stands for. */
  expect(ref: Ref, pending: Pending): void {
    this.#expectRef(ref, pending);
  }

  #expectRef(ref: Ref, pending: Pending): void {
    (this.#pending ??= new Map()).set(ref, this.#track(pending)!);
  }

  /** Takes what `ref` stood for (the map goes once empty). */
  #takeRef(ref: Ref): Pending | undefined {
    const pending = this.#pending?.get(ref);
    if (pending === undefined) return undefined;
    this.#pending!.delete(ref);
    if (this.#pending!.size === 0) this.#pending = null;
    return pending;
  }

  /** Looks at (without taking) what a ref stands for. */
  pending(ref: Ref): Pending | undefined {
    return this.#pending?.get(ref);
  }

  /**
   * Takes a request whose success has no reply (a typing notice), once a
   * later reply shows it went: it no longer holds its labeled response open.
   */
  settle(ref: Ref): Pending | undefined {
    const pending = this.#takeRef(ref);
    if (pending === undefined) return undefined;
    if (pending.response !== undefined) pending.response.open--;
    return pending;
  }

  /** Metered by the client's flood budget, like any other line. */
  metered(command: Command, bytes: number, pending?: Pending): void {
    const ref = this.#nextRef++;
    if (pending !== undefined) this.#expectRef(ref, pending);
    this.ctx.hub.handle(this.session!, { ...command, ref } as Command, bytes);
  }

  // --- ClientPort: from the core ----------------------------------------------------------------

  send(out: Outgoing): void {
    // The hot path: a room's message, shared by every member with the same caps. Its own
    // messages come as replies (with their ref): one shared is from another connection of its nick.
    if (out instanceof Broadcast && out.event.type === "message" && this.#plain) {
      return this.writeShared(out);
    }
    const event = eventOf(out);
    const ref = (event as { ref?: Ref }).ref;
    if (ref !== undefined && this.#pending?.has(ref)) return this.#replyTo(event);
    if (!this.registered && event.type !== "shutdown") return; // the guest nick's welcome
    const joining = this.#joins === null ? undefined : this.#joinResponse(event);
    if (joining !== undefined) return this.collectInto(joining, () => renderReply(this, event));
    if (this.#hold(event, out)) return;
    if (this.#skip(event)) return;
    if (out instanceof Broadcast && this.#shareable(event)) return this.writeShared(out);
    const shared = sharedLines(event, this.shape, this.ctx.now());
    if (shared !== null) return this.write(shared);
    renderReply(this, event, undefined);
  }

  /** A reply to one of the client's requests. */
  #replyTo(event: ServerEvent): void {
    const ref = (event as { ref?: Ref }).ref!;
    const pending = this.#takeRef(ref)!;
    const response = pending.response;
    if (response === undefined) return renderReply(this, event, pending);
    this.collectInto(response, () => renderReply(this, event, pending));
    // A reply that came at once, while its command is still being read, is finished there.
    if (--response.open === 0 && this.collecting !== response) this.#finish(response);
  }

  /** The open labeled JOIN a topic or operator mode shown on join belongs to. */
  #joinResponse(event: ServerEvent): Response | undefined {
    if (event.type === "topic" && !event.changed) return this.#joins?.get(event.room);
    if (event.type === "notice" && event.op !== undefined) return this.#joins?.get(event.op);
    return undefined;
  }

  /** After its own JOIN, a room's messages wait until its names are shown. */
  #hold(event: ServerEvent, out: Outgoing): boolean {
    if (this.#holding === null) return false;
    const room = roomOfEvent(event);
    const held = room === null ? undefined : this.#holding.get(room);
    if (held === undefined) return false;
    held.push(out);
    return true;
  }

  /** Starts holding `room`'s messages (its JOIN was shown; its names follow). */
  holdRoom(room: string): void {
    (this.#holding ??= new Map()).set(room, []);
  }

  /** The names of `room` were shown (or will not be): what waited goes out. */
  releaseRoom(room: string): void {
    const held = this.#holding?.get(room);
    if (held === undefined) return;
    this.#holding!.delete(room);
    if (this.#holding!.size === 0) this.#holding = null;
    for (const out of held) this.send(out);
  }

  /**
   * Lines this client does not get: tags without `message-tags`, repeated
   * QUITs... Its own messages are replies (echoed with `echo-message`, in
   * `chat.ts`); those of its nick not asked here come from its other
   * connections, and are shown.
   */
  #skip(event: ServerEvent): boolean {
    switch (event.type) {
      case "presence":
        return !this.caps.has("away-notify");
      case "tagmsg":
        return !this.caps.has("message-tags");
      // Reactions one by one and typing are tags; the digest is for those without them.
      case "react":
      case "typing":
        return !this.caps.has("message-tags");
      case "reactions":
        return this.caps.has("message-tags");
      // Another connection of its nick moved a marker.
      case "read":
        return !this.caps.has("draft/read-marker");
      case "left":
        if (event.reason.kind !== "quit") return false;
        if (this.#quits?.has(event.nick)) return true;
        (this.#quits ??= new Set()).add(event.nick);
        return false;
      case "joined":
      case "nick":
        if (this.#quits?.delete(event.nick) && this.#quits.size === 0) this.#quits = null;
        return false;
    }
    return false;
  }

  /** Whether a broadcast's shared encoding fits (not this client's own reply). */
  #shareable(event: ServerEvent): boolean {
    return event.type === "message" || event.type === "joined" || event.type === "left" ||
      (event.type === "tagmsg" && event.room !== undefined) || event.type === "presence" ||
      event.type === "nick" || event.type === "moderation" || event.type === "summary" ||
      (event.type === "topic" && event.changed === true) || event.type === "edit" ||
      event.type === "delete" || event.type === "react" || event.type === "reactions" ||
      (event.type === "typing" && event.room !== undefined);
  }

  /** Registered, and nothing held back or collected: messages go straight out. */
  get #plain(): boolean {
    return this.registered && this.#holding === null && this.#joins === null &&
      this.collecting === null;
  }
}

/** The room of a room's message or change to one, which waits while its names are shown. */
function roomOfEvent(event: ServerEvent): string | null {
  switch (event.type) {
    case "message":
      return event.message.room;
    case "history":
    case "edit":
    case "react":
    case "reactions":
      return event.room;
    case "delete":
    case "typing":
      return event.room ?? null;
  }
  return null;
}
