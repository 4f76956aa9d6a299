/**
 * The codec seam: one wire format's translation between the items a client
 * sends (a line, or one line of a WebSocket frame) and the core's commands,
 * and between the core's events and what the client reads. Codecs are pure:
 * no I/O, no state per connection. The text, JSON (and IRC) formats each
 * implement it; `codec_contract.ts` holds what every codec must do.
 *
 * @module
 */

import type { Command, Ref } from "../core/types.ts";
import type { ErrorCode } from "../core/events.ts";
import type { Encoder } from "../core/broadcast.ts";
import type { ServerEvent } from "../core/events.ts";

/** An item that could not be read as a command: answered with an error, never fatal. */
export interface ParseError {
  type: "parse_error";
  code: ErrorCode;
  message: string;
  /** The request's correlation value, when it could be read. */
  ref?: Ref;
}

/** One wire format. */
export interface Codec extends Encoder<string> {
  /** Its name, for logs and metrics (`text`, `json`). */
  readonly name: string;
  /**
   * One inbound item, without its line terminator: a command, a parse error
   * to answer, or `null` for an item that asks nothing (a blank line).
   */
  decode(item: string): Command | ParseError | null;
  /**
   * One event as the client reads it: one or more lines, each ending with
   * `\n` (an event may be several lines, such as a history listing).
   */
  encode(event: ServerEvent): string;
}
