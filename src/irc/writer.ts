/**
 * An IRC client's way out: lines to its door's output, numerics addressed
 * to it, labeled responses (IRCv3 `labeled-response`) held and sent with
 * their label, and room messages in the encoding its door shares among the
 * clients with the same caps. What the core's events become, and which of
 * them the client gets at all, is decided in `client.ts`.
 *
 * @module
 */

import type { Broadcast, Encoder } from "../core/broadcast.ts";
import type { ServerEvent } from "../core/events.ts";
import { CapSet } from "./caps.ts";
import type { IrcContext } from "./client.ts";
import type { IrcMessage } from "./message.ts";
import { type Shape, sharedLines, wire } from "./render.ts";

/** A door's output for IRC lines: TCP bytes, or WebSocket frames. */
export interface IrcWire<T> {
  /** Lines, each ended by CRLF, as the door's unit. */
  encode(lines: string): T;
  /** This door's shared encodings, one encoder per caps profile (filled as needed). */
  readonly shared: Map<number, Encoder<T>>;
}

/** Where a client's units go. */
export interface IrcOutput<T> {
  write(item: T): boolean;
  /** Writes what is queued, then closes. */
  closeAfterFlush(): void;
  readonly closing: boolean;
}

/**
 * A labeled command's response (IRCv3 `labeled-response`): its lines are
 * held until every reply it waits for is in, then sent with the label: on
 * the one line, as a batch, or as an `ACK` when there is none.
 */
export interface Response {
  label: string;
  lines: IrcMessage[];
  /** Replies still to come. */
  open: number;
}

/**
 * The writing half of an IRC client (`IrcClient` is the rest). A base
 * class rather than an object the client holds: an idle client is one
 * object, not two.
 */
export abstract class IrcWriter<T> {
  readonly ctx: IrcContext;
  readonly caps = new CapSet();
  readonly #wire: IrcWire<T>;
  readonly #out: IrcOutput<T>;
  /** Its nick: `*` until it has one. */
  nick = "*";
  registered = false;
  /** The labeled response being written to, while its lines are rendered. */
  protected collecting: Response | null = null;
  #batches = 0;
  #cached: { version: number; encoder: Encoder<T> } | null = null;

  constructor(ctx: IrcContext, wire: IrcWire<T>, out: IrcOutput<T>) {
    this.ctx = ctx;
    this.#wire = wire;
    this.#out = out;
  }

  /** Sends lines outside any labeled response (what the client would get anyway). */
  writeUnlabeled(messages: IrcMessage[]): void {
    const outer = this.collecting;
    this.collecting = null;
    try {
      this.write(messages);
    } finally {
      this.collecting = outer;
    }
  }

  /** Sends lines as they are. */
  write(messages: IrcMessage[]): void {
    if (this.collecting !== null) {
      this.collecting.lines.push(...messages);
      return;
    }
    if (messages.length === 0 || this.#out.closing) return;
    this.ctx.stats.eventsOut++;
    this.#out.write(this.#wire.encode(wire(messages)));
  }

  /** A numeric to this client: `:server NNN nick params...`. */
  numeric(code: string, ...params: string[]): void {
    this.write([this.line(code, ...params)]);
  }

  /** A numeric as a message, to send with others (to `*` before registration). */
  line(code: string, ...params: string[]): IrcMessage {
    const to = this.registered ? this.nick : "*";
    return { tags: {}, source: this.ctx.server, command: code, params: [to, ...params] };
  }

  /** A line that was not UTF-8 (the server is `UTF8ONLY`): refused, the connection goes on. */
  invalidUtf8(): void {
    this.write([{
      tags: {},
      source: this.ctx.server,
      command: "FAIL",
      params: ["*", "INVALID_UTF8", "Message rejected: this server takes UTF-8 only"],
    }]);
  }

  /** Ends the connection after `ERROR :text`. */
  error(text: string): void {
    this.write([{ tags: {}, command: "ERROR", params: [text] }]);
    this.#out.closeAfterFlush();
  }

  close(): void {
    this.#out.closeAfterFlush();
  }

  /** How shared lines look for this client. */
  get shape(): Shape {
    return {
      server: this.ctx.server,
      time: this.caps.has("server-time"),
      tags: this.caps.has("message-tags"),
      account: this.caps.has("account-tag"),
      redact: this.caps.has("draft/message-redaction"),
      userOf: (nick: string) => this.ctx.hub.userOf(nick),
    };
  }

  /** Sends a labeled response: the label on its one line, a batch, or an `ACK`. */
  protected sendLabeled(response: Response): void {
    const { label, lines } = response;
    const server = this.ctx.server;
    const outer = this.collecting;
    this.collecting = null;
    try {
      if (lines.length === 0) {
        this.write([{ tags: { label }, source: server, command: "ACK", params: [] }]);
      } else if (lines.length === 1) {
        lines[0].tags = { ...lines[0].tags, label };
        this.write(lines);
      } else {
        const id = `l${++this.#batches}`;
        for (const line of lines) line.tags = { ...line.tags, batch: id };
        this.write([
          {
            tags: { label },
            source: server,
            command: "BATCH",
            params: [`+${id}`, "labeled-response"],
          },
          ...lines,
          { tags: {}, source: server, command: "BATCH", params: [`-${id}`] },
        ]);
      }
    } finally {
      this.collecting = outer;
    }
  }

  /** Renders into `response`: what `render` writes is held for its label. */
  protected collectInto(response: Response, render: () => void): void {
    const outer = this.collecting;
    this.collecting = response;
    try {
      render();
    } finally {
      this.collecting = outer;
    }
  }

  /** A broadcast in this door's shared encoding for this client's caps. */
  protected writeShared(out: Broadcast): void {
    this.ctx.stats.eventsOut++;
    this.#out.write(out.encoded(this.#cache().encoder));
  }

  /** This client's shared encoder, kept until its caps change. */
  #cache(): { encoder: Encoder<T> } {
    const version = this.caps.version;
    if (this.#cached?.version !== version) {
      this.#cached = { version, encoder: this.#encoder() };
    }
    return this.#cached;
  }

  /** The shared encoder for this client's caps on this door. */
  #encoder(): Encoder<T> {
    const profile = this.caps.profile;
    let encoder = this.#wire.shared.get(profile);
    if (encoder === undefined) {
      const shape = this.shape;
      const wire_ = this.#wire;
      const now = this.ctx.now;
      encoder = {
        encode: (event: ServerEvent) => wire_.encode(wire(sharedLines(event, shape, now()) ?? [])),
      };
      this.#wire.shared.set(profile, encoder);
    }
    return encoder;
  }
}
