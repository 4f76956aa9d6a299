/**
 * The vocabulary of the core: what clients ask for ({@link Command}) and what
 * the server tells them ({@link ServerEvent}). Codecs translate between these
 * and the wire (text lines, JSON); the core never sees the wire.
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
}

/** Why a member left a room. */
export type LeaveReason =
  | { kind: "part"; message?: string }
  | { kind: "quit"; message?: string }
  /** Removed by an operator (`by`); `ban` also keeps the member out. */
  | { kind: "kick" | "ban"; by: string; message?: string };

/** Everything the server sends. Fan-out hands one object to every recipient. */
export type ServerEvent =
  /**
   * `password`: the client must send `pass` before anything else (it is in no room yet).
   * `maxLineBytes`: the longest line or frame the server takes, in UTF-8 bytes.
   */
  | {
    type: "welcome";
    nick: string;
    room: string;
    server: string;
    maxLineBytes?: number;
    password?: boolean;
  }
  /** A room message; the sender's own copy carries its request's `ref`. */
  | { type: "message"; message: ChatMessage; ref?: Ref }
  /** A member of a room the client shares went away (`away`) or came back (`null`). */
  | { type: "presence"; nick: string; away: string | null }
  /** Tags alone from `from`, to a room's members or to a nick (and back to the sender). */
  | {
    type: "tagmsg";
    from: string;
    room?: string;
    to?: string;
    tags: ClientTags;
    ts: number;
    ref?: Ref;
  }
  /** A direct message; the sender's copy carries its request's `ref`. */
  | {
    type: "dm";
    from: string;
    to: string;
    text: string;
    ts: number;
    /** Sent as a notice (IRC `NOTICE nick`). */
    notice?: boolean;
    tags?: ClientTags;
    /** Kept (between two logged-in nicks): the conversation it is kept in, and its id there. */
    conversation?: string;
    id?: number;
    ref?: Ref;
  }
  /**
   * The member who joins gets `read` (the id it has read up to, 0 for none),
   * `readAt` (that message's time, ms) and `unread` (kept messages above it).
   */
  | {
    type: "joined";
    room: string;
    nick: string;
    read?: number;
    readAt?: number;
    unread?: number;
    ref?: Ref;
  }
  /** A kept message's new text; `nick` is its author. */
  | { type: "edit"; room: string; id: number; nick: string; text: string; ts: number; ref?: Ref }
  /** The rooms a logged-in nick is kept in, across its connections. */
  | { type: "kept"; rooms: string[]; ref?: Ref }
  /**
   * A message deleted by `nick` (its author or an operator): of `room`, or
   * (with `to`, and no room) a kept DM from `nick` to `to`.
   */
  | {
    type: "delete";
    room?: string;
    to?: string;
    id: number;
    nick: string;
    reason?: string;
    ref?: Ref;
  }
  | {
    type: "react";
    room: string;
    id: number;
    nick: string;
    emoji: string;
    on: boolean;
    ref?: Ref;
  }
  /** `nick` is typing in `room`, or to `to` (a DM). */
  | { type: "typing"; nick: string; room?: string; to?: string; state: TypingState }
  /**
   * Where the client (all connections of its nick) has read up to in `room`
   * or in the DMs `with` a nick: `id` 0 and no `ts` for nowhere yet.
   */
  | { type: "read"; room?: string; with?: string; id: number; ts?: number; ref?: Ref }
  /**
   * The reactions of a message after a burst of them (for doors that show
   * no reaction one by one): its author, the start of its text, and counts.
   */
  | {
    type: "reactions";
    room: string;
    id: number;
    nick: string;
    text: string;
    reactions: Record<string, string[]>;
  }
  /** Reply to `search`: newest first. */
  | { type: "search"; results: ChatMessage[]; ref?: Ref }
  | { type: "left"; room: string; nick: string; reason: LeaveReason; ref?: Ref }
  | { type: "nick"; old: string; nick: string; ref?: Ref }
  /** Joins and leaves of a quiet (big) room, counted instead of announced. */
  | { type: "summary"; room: string; joined: number; left: number; seconds: number }
  | { type: "current"; room: string | null; ref?: Ref }
  /** Each room's `topic` is there when the request asked for topics and the room has one. */
  /** `unread`: for the rooms the client is in, the kept messages above its read marker. */
  | {
    type: "rooms";
    rooms: { room: string; members: number; topic?: string; unread?: number }[];
    ref?: Ref;
  }
  /** `total` and `offset` are there when the list is one page of more. */
  | {
    type: "who";
    room: string;
    members: string[];
    total?: number;
    offset?: number;
    /** The members of this page in detail, when asked. */
    details?: MemberInfo[];
    /** With details: the room is secret (IRC `NAMES` shows `@`). */
    secret?: boolean;
    ref?: Ref;
  }
  /**
   * Someone is away (`text`) or back (`null`): the reply to `away` (`nick`
   * the client's own), and what the sender of a DM to an away nick is told.
   */
  | { type: "away"; nick: string; text: string | null; ref?: Ref }
  /** Who someone is: `rooms` are the rooms shared with this process (all, in one process). */
  | {
    type: "whois";
    nick: string;
    rooms: string[];
    /** Of `rooms`, those where it is an operator, and where it has voice. */
    ops?: string[];
    voiced?: string[];
    away?: string;
    user?: string;
    realname?: string;
    /** Registered nick, claimed with its password. */
    registered: boolean;
    /** The registered nick it logged in as (SASL, or claiming it). */
    account?: string;
    /** A server operator. */
    admin: boolean;
    ref?: Ref;
  }
  /** `away`: those of `nicks` that are away (known on this process). */
  | { type: "ison"; nicks: string[]; away?: string[]; ref?: Ref }
  | { type: "bans"; room: string; bans: string[]; ref?: Ref }
  /** `created`: when the room got its first member on this process (ms). */
  | {
    type: "modes";
    room: string;
    locked: boolean;
    created?: number;
    /** The switches that are on (`secret`, `inviteOnly`, `topicOpen`). */
    flags?: FlagChange;
    ref?: Ref;
  }
  /** `with`: the DM partner, for the history of a DM conversation (`room` is its key). */
  | {
    type: "history";
    room: string;
    messages: ChatMessage[];
    with?: string;
    /** Asked with `ids`: doors that hide ids show them. */
    ids?: boolean;
    ref?: Ref;
  }
  /** Reply to `targets`: a room's name or a DM partner's nick, with its latest message's time. */
  | { type: "targets"; targets: { name: string; dm: boolean; ts: number }[]; ref?: Ref }
  | { type: "help"; ref?: Ref }
  | { type: "bye"; ref?: Ref }
  /** A new resume token for `nick` (shown once: the server keeps only its hash). */
  | { type: "token"; token: string; nick: string; ref?: Ref }
  /** Reply to `logout`: how many resume tokens it revoked. */
  | { type: "logout"; revoked: number; ref?: Ref }
  /**
   * A notice from the server (such as the cluster link going down); `op`
   * names the room the client was just made an operator of.
   */
  | { type: "notice"; text: string; op?: string; ref?: Ref }
  /** An operator changed a room's settings. */
  | {
    type: "moderation";
    room: string;
    action: ModerationAction;
    by: string;
    nick?: string;
    /** For `flags`: the switches changed, and how. */
    flags?: FlagChange;
  }
  /** The client was invited into `room` by `by` (the inviter hears `invited` back, with `ref`). */
  | { type: "invited"; room: string; nick: string; by: string; ref?: Ref }
  /**
   * A room's topic (`null`: none): shown on join and on request, and to every
   * member when `by` changed it (`changed`).
   */
  | {
    type: "topic";
    room: string;
    topic: string | null;
    by?: string;
    /** When it was set (ms), on a topic shown (not changed). */
    at?: number;
    changed?: boolean;
    ref?: Ref;
  }
  /** Server statistics for server operators; rates are over the last `seconds`. */
  | {
    type: "stats";
    connections: Record<string, number>;
    sessions: number;
    rooms: number;
    messagesIn: number;
    eventsOut: number;
    messagesPerSecond: number;
    eventsPerSecond: number;
    seconds: number;
    uptimeSeconds: number;
    history: number;
    ref?: Ref;
  }
  | { type: "shutdown" }
  | { type: "error"; code: ErrorCode; message: string; ref?: Ref };

/** Stable machine-readable error codes (the JSON `code` field). */
export type ErrorCode =
  | "bad_request"
  | "unknown_command"
  | "invalid_nick"
  | "nick_taken"
  | "invalid_room"
  | "no_such_room"
  | "no_such_nick"
  | "not_in_room"
  | "no_current_room"
  | "empty_message"
  | "line_too_long"
  | "invalid_utf8"
  | "unknown_type"
  | "binary_frame"
  | "too_slow"
  | "store_failed"
  | "cluster_failed"
  | "slow_down"
  | "excess_flood"
  | "password_required"
  | "wrong_password"
  | "too_many_attempts"
  /** A resume token that is unknown, revoked, or from before the nick was registered again. */
  | "bad_token"
  | "nick_registered"
  | "not_operator"
  | "banned"
  | "room_locked"
  | "invite_only"
  | "no_such_message"
  | "not_author"
  | "search_unavailable"
  /** `rehash` failed (no config file, or a bad one): the running settings stay. */
  | "rehash_failed";

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
