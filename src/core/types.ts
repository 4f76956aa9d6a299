/**
 * The vocabulary of the core: what clients ask for ({@link Command}), the
 * messages and members it speaks of, and the port a client is to the core.
 * What the server tells clients is `events.ts`. Codecs translate between
 * these and the wire (text lines, JSON, IRC); the core never sees the wire.
 *
 * @module
 */

import type { Outgoing } from "./broadcast.ts";

/** Members listed by one `who` unless it asks for more (a big room is paged). */
export const WHO_PAGE_SIZE = 100;
/** The most one `who` lists. */
export const WHO_MAX = 1000;

/** A message kept in a room's history. */
export interface ChatMessage {
  room: string;
  nick: string;
  text: string;
  /** Increases within the room; never reused. */
  id: number;
  /** Milliseconds since the epoch. */
  ts: number;
  /** `say` is a plain line, `action` comes from `/me`, `notice` from an IRC `NOTICE`. */
  kind: "say" | "action" | "notice";
  /**
   * Client-only tags (IRCv3 `+name`) sent with it: relayed live to the doors
   * that show them, never stored.
   */
  tags?: ClientTags;
  /** The sender's account (a registered nick it proved), live only: IRC's `account-tag`. */
  account?: string;
  /** The id (in the same room) of the message it answers. */
  replyTo?: number;
  /** When its text was last edited (ms); `text` is the latest. */
  edited?: number;
  /** Who reacted with what: emoji -> nicks, in the order they reacted. */
  reactions?: Record<string, string[]>;
}

/** IRCv3 client-only tags (`+draft/reply`, `+typing`...): names start with `+`. */
export type ClientTags = Record<string, string>;

/** One member as `who` with `detail` lists it. */
export interface MemberInfo {
  nick: string;
  /** An operator of the room. */
  op: boolean;
  /** Its away message, when it is away. */
  away?: string;
  /** What an IRC client gave as its user name and real name (not known elsewhere). */
  user?: string;
  realname?: string;
  /** A server operator. */
  admin?: boolean;
  /** Has a voice in the room. */
  voice?: boolean;
}

/** A request correlation value chosen by the client, echoed on its replies. */
export type Ref = string | number;

/** Every request a client can make, whatever its transport and format. */
export type Command =
  /** `replyTo`: the id of a kept message of the same room it answers. */
  | { type: "say"; text: string; room?: string; tags?: ClientTags; replyTo?: number; ref?: Ref }
  | { type: "me"; text: string; room?: string; tags?: ClientTags; ref?: Ref }
  /** A notice to a room (IRC `NOTICE #room`): a message that asks no reply. */
  | { type: "notice"; text: string; room?: string; tags?: ClientTags; ref?: Ref }
  /** `notice`: shown as a notice (IRC `NOTICE nick`). */
  | { type: "msg"; to: string; text: string; notice?: boolean; tags?: ClientTags; ref?: Ref }
  /**
   * Tags alone (IRC `TAGMSG`) to a room or a nick: relayed live to the doors
   * that show tags, never stored.
   */
  | { type: "tagmsg"; room?: string; to?: string; tags: ClientTags; ref?: Ref }
  /** `password` claims a registered nick. */
  | { type: "nick"; nick: string; password?: string; ref?: Ref }
  /** `password` opens a locked room. */
  | { type: "join"; room: string; password?: string; ref?: Ref }
  /** `reason` is shown to the room (IRC `PART #room :reason`). */
  | { type: "leave"; room?: string; reason?: string; ref?: Ref }
  /** `topics`: each room with its topic (IRC `LIST`). */
  | { type: "rooms"; topics?: boolean; ref?: Ref }
  /**
   * Paged: at most `limit` (default {@link WHO_PAGE_SIZE}, at most 1000) from `offset`.
   * `detail`: also each member's {@link MemberInfo} (IRC `NAMES`, `WHO`).
   */
  | {
    type: "who";
    room?: string;
    /** Instead of a room: the clients of this process whose nick matches (`*` and `?`). */
    mask?: string;
    limit?: number;
    offset?: number;
    detail?: boolean;
    ref?: Ref;
  }
  /** Without `text` (or with an empty one), back; with it, away. */
  | { type: "away"; text?: string; ref?: Ref }
  | { type: "whois"; nick: string; ref?: Ref }
  /** Which of these nicks are online. */
  | { type: "ison"; nicks: string[]; ref?: Ref }
  /** A room's bans, and whether it is locked. */
  | { type: "bans"; room?: string; ref?: Ref }
  | { type: "modes"; room?: string; ref?: Ref }
  /**
   * A room's messages, oldest first: the latest `limit`, or those after an
   * id, before one (scrollback), around one, or between two; times (ms) may
   * stand for ids (`afterTime`...). With both bounds, `latest` takes the
   * newest `limit` between them instead of the oldest.
   */
  | {
    type: "history";
    room?: string;
    limit?: number;
    after?: number;
    before?: number;
    around?: number;
    afterTime?: number;
    beforeTime?: number;
    aroundTime?: number;
    latest?: boolean;
    /** Instead of a room: the kept DMs with this nick (for a logged-in nick). */
    with?: string;
    /** Only a room the client is in (else `not_in_room`), as IRC's `CHATHISTORY` asks. */
    member?: boolean;
    /** Show each message's id (the text door's `/ids`). */
    ids?: boolean;
    ref?: Ref;
  }
  /** Rooms and DM partners with messages between two times, earliest first (IRC `TARGETS`). */
  | { type: "targets"; afterTime: number; beforeTime: number; limit?: number; ref?: Ref }
  | { type: "help"; ref?: Ref }
  | { type: "quit"; reason?: string; ref?: Ref }
  // Message semantics (see docs/protocol.md): changes to kept room messages.
  /**
   * Replaces the text of one of the client's own messages. For `edit`,
   * `delete`, `react` and `unreact`, id 0 names the client's last message in
   * the room (for reactions, the room's last message).
   */
  | { type: "edit"; room?: string; id: number; text: string; ref?: Ref }
  /** The rooms the client's logged-in nick is kept in (see staying.ts). */
  | { type: "kept"; ref?: Ref }
  /**
   * Deletes a message: the author's own, or any as a room operator. `reason`
   * is shown. With `with`, one of the client's kept DMs with that nick.
   */
  | { type: "delete"; room?: string; with?: string; id: number; reason?: string; ref?: Ref }
  | { type: "react"; room?: string; id: number; emoji: string; ref?: Ref }
  | { type: "unreact"; room?: string; id: number; emoji: string; ref?: Ref }
  /** Shown to the room's other members (or to `to`); never stored. */
  | { type: "typing"; room?: string; to?: string; state: TypingState; ref?: Ref }
  /**
   * Moves the read marker of a room (or of the DMs `with` a nick) up to `id`,
   * or to the last message at or before `ts`; with neither, asks where it is.
   * Markers only move forward.
   */
  | { type: "read"; room?: string; with?: string; id?: number; ts?: number; ref?: Ref }
  /** Kept messages holding every word of `text`: of `room`, or of every room the client is in. */
  | { type: "search"; text: string; room?: string; limit?: number; ref?: Ref }
  // Authentication (see docs/security.md).
  | { type: "pass"; password: string; ref?: Ref }
  | { type: "register"; password: string; ref?: Ref }
  /** Proves the client owns a registered nick without taking it (IRC SASL). */
  | { type: "login"; account: string; password: string; ref?: Ref }
  | { type: "admin"; password: string; ref?: Ref }
  /** A resume token for the client's logged-in nick (see tokens.ts). */
  | { type: "token"; ref?: Ref }
  /** Logs in as the nick a resume token was issued for, and takes it. */
  | { type: "resume"; token: string; ref?: Ref }
  /**
   * Revokes resume tokens: the one this connection resumed with or was
   * last issued; with `all`, every token of its logged-in nick; with
   * `token`, that one.
   */
  | { type: "logout"; all?: boolean; token?: string; ref?: Ref }
  | { type: "stats"; ref?: Ref }
  /** Server operators: re-reads the config file and applies what can change live. */
  | { type: "rehash"; ref?: Ref }
  // Room operators; `room` defaults to the current room.
  | { type: "kick"; nick: string; reason?: string; room?: string; ref?: Ref }
  | { type: "ban"; nick: string; room?: string; ref?: Ref }
  | { type: "unban"; nick: string; room?: string; ref?: Ref }
  | { type: "op"; nick: string; room?: string; ref?: Ref }
  | { type: "deop"; nick: string; room?: string; ref?: Ref }
  /** Without `text`, shows the topic; an empty `text` clears it. */
  | { type: "topic"; text?: string; room?: string; ref?: Ref }
  | { type: "lock"; password: string; room?: string; ref?: Ref }
  | { type: "unlock"; room?: string; ref?: Ref }
  | { type: "voice"; nick: string; room?: string; ref?: Ref }
  | { type: "devoice"; nick: string; room?: string; ref?: Ref }
  | ({ type: "flags"; room?: string; ref?: Ref } & FlagChange)
  /** Lets `nick` into an invite-only room (and tells it). */
  | { type: "invite"; nick: string; room?: string; ref?: Ref };

/** What a typing member is doing: `done` ends it (it also ends on its own after 6 s). */
export type TypingState = "active" | "paused" | "done";

/** Room settings an operator changed, announced to the room. */
export type ModerationAction =
  | "op"
  | "deop"
  | "ban"
  | "unban"
  | "lock"
  | "unlock"
  | "voice"
  | "devoice"
  | "flags";

/** A room's switches as an operator sets them: only those given change. */
export interface FlagChange {
  /** Not listed to those outside it (IRC `+s`). */
  secret?: boolean;
  /** Joined only by invitation (IRC `+i`). */
  inviteOnly?: boolean;
  /** Any member sets the topic (IRC `-t`). */
  topicOpen?: boolean;
  /** Anyone may send messages to it without joining (IRC `-n`). */
  outsiders?: boolean;
  /** Only its operators and voiced members speak (IRC `+m`). */
  moderated?: boolean;
}

/**
 * The core's view of one connected client. Transports implement it; `send`
 * must never wait for the network (it queues, and drops the client when the
 * queue passes its bound). A `Broadcast` carries one event for many
 * members: encode it through the broadcast, so the bytes are made once.
 */
export interface ClientPort {
  send(event: Outgoing): void;
  /** Flushes what is queued, then closes the connection. */
  close(): void;
}
