/**
 * The vocabulary of the core: what clients ask for ({@link Command}) and what
 * the server tells them ({@link ServerEvent}). Codecs translate between these
 * and the wire (text lines, JSON); the core never sees the wire.
 *
 * @module
 */

/** A message kept in a room's history. */
export interface ChatMessage {
  room: string;
  nick: string;
  text: string;
  /** Increases within the room; never reused. */
  id: number;
  /** Milliseconds since the epoch. */
  ts: number;
  /** `say` is a plain line, `action` comes from `/me`. */
  kind: "say" | "action";
}

/** A request correlation value chosen by the client, echoed on its replies. */
export type Ref = string | number;

/** Every request a client can make, whatever its transport and format. */
export type Command =
  | { type: "say"; text: string; room?: string; ref?: Ref }
  | { type: "me"; text: string; room?: string; ref?: Ref }
  | { type: "msg"; to: string; text: string; ref?: Ref }
  | { type: "nick"; nick: string; ref?: Ref }
  | { type: "join"; room: string; ref?: Ref }
  | { type: "leave"; room?: string; ref?: Ref }
  | { type: "rooms"; ref?: Ref }
  | { type: "who"; room?: string; ref?: Ref }
  | { type: "history"; room?: string; limit?: number; after?: number; ref?: Ref }
  | { type: "help"; ref?: Ref }
  | { type: "quit"; reason?: string; ref?: Ref };

/** Why a member left a room. */
export type LeaveReason =
  | { kind: "part" }
  | { kind: "quit"; message?: string };

/** Everything the server sends. Fan-out hands one object to every recipient. */
export type ServerEvent =
  | { type: "welcome"; nick: string; room: string; server: string }
  /** A room message; the sender's own copy carries its request's `ref`. */
  | { type: "message"; message: ChatMessage; ref?: Ref }
  /** A direct message; the sender's copy carries its request's `ref`. */
  | { type: "dm"; from: string; to: string; text: string; ts: number; ref?: Ref }
  | { type: "joined"; room: string; nick: string; ref?: Ref }
  | { type: "left"; room: string; nick: string; reason: LeaveReason; ref?: Ref }
  | { type: "nick"; old: string; nick: string; ref?: Ref }
  /** Joins and leaves of a quiet (big) room, counted instead of announced. */
  | { type: "summary"; room: string; joined: number; left: number; seconds: number }
  | { type: "current"; room: string | null; ref?: Ref }
  | { type: "rooms"; rooms: { room: string; members: number }[]; ref?: Ref }
  | { type: "who"; room: string; members: string[]; ref?: Ref }
  | { type: "history"; room: string; messages: ChatMessage[]; ref?: Ref }
  | { type: "help"; ref?: Ref }
  | { type: "bye"; ref?: Ref }
  /** A notice from the server to every client (such as the cluster link going down). */
  | { type: "notice"; text: string }
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
  | "excess_flood";

/**
 * The core's view of one connected client. Transports implement it; `send`
 * must never wait for the network (it queues, and drops the client when the
 * queue passes its bound).
 */
export interface ClientPort {
  send(event: ServerEvent): void;
  /** Flushes what is queued, then closes the connection. */
  close(): void;
}
