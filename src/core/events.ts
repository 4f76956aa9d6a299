/**
 * What the server tells clients ({@link ServerEvent}), whatever the door:
 * codecs turn each event into text lines, JSON or IRC, and fan-out hands one
 * event to every member of a room. What clients ask for is `types.ts`'s
 * `Command`.
 *
 * @module
 */

import type {
  ChatMessage,
  ClientTags,
  FlagChange,
  MemberInfo,
  ModerationAction,
  Ref,
  TypingState,
} from "./types.ts";

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
  /** A moderated room: only its operators and voiced members speak. */
  | "moderated"
  | "no_such_message"
  | "not_author"
  | "search_unavailable"
  /** `rehash` failed (no config file, or a bad one): the running settings stay. */
  | "rehash_failed";
