/**
 * Reading a room: the read marker follows what the reader has seen (and
 * this browser keeps it too, so a guest's unread counts come back after a
 * reload), older messages load as the reader scrolls up, and a message asked
 * for (a reply's quote, a search result) is read back to page by page.
 */

import { remember } from "./remember.js";

/** @typedef {import("./app.js").App} App */
/** @typedef {import("./conversations.js").Conversation} Conversation */

/** Messages asked for per page when looking for one message. */
const JUMP_PAGE = 200;
/** Pages read back looking for a message before giving up. */
const JUMP_PAGES = 50;
/** The read marker follows the reader this long after the last message shown. */
const READ_AFTER_MS = 400;

export class Reading {
  /** @type {App} */
  #app;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #timer;
  /** A message being looked for by reading back. @type {{room: string, id: number, pages: number} | null} */
  #jump = null;
  /** Read markers as this browser last set them. @type {Record<string, number>} */
  reads = remember.reads;

  /** @param {App} app */
  constructor(app) {
    this.#app = app;
  }

  /** The marker follows a reader who sees the end of the open room (soon: lines come in bursts). */
  mark() {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.upTo(this.#app.viewed());
    }, READ_AFTER_MS);
  }

  /** The page is going: a marker still waiting goes now. */
  flush() {
    if (this.#timer !== undefined) this.upTo(this.#app.viewed(), true);
  }

  /**
   * Moves the marker of `conv` to its last message, now (it is on screen).
   * @param {Conversation} conv @param {boolean} [leaving] the page is going (and may be hidden already)
   */
  upTo(conv, leaving = false) {
    if (!conv.isRoom || (document.hidden && !leaving) || this.#app.search.isOpen) return;
    if (conv.lastId <= conv.readId) return;
    conv.readId = conv.lastId;
    this.reads[conv.name] = conv.lastId;
    remember.reads = this.reads;
    this.#app.send({ type: "read", room: conv.name, id: conv.lastId }, { kind: "read" });
  }

  /** Asks for the messages above the first one shown. @param {Conversation} conv @param {number} limit */
  older(conv, limit) {
    if (conv.loadingOlder || conv.reachedStart || conv.firstId <= 1) {
      if (conv.firstId === 1) conv.startReached();
      return;
    }
    const ref = this.#app.send(
      { type: "history", room: conv.name, before: conv.firstId, limit },
      { kind: "older", room: conv.name, id: limit },
    );
    if (ref !== false) conv.loadingOlder = true;
  }

  /**
   * Opens a room at one of its messages: shown at once when on the page, else
   * read back page by page until it is.
   * @param {string} room @param {number} id
   */
  open(room, id) {
    const app = this.#app;
    const conv = app.convs.get(room);
    if (conv === undefined || !conv.isRoom) {
      app.tell(`join ${room} to see that message`, "warn");
      return;
    }
    app.show(room, false);
    if (conv.reveal(id)) return;
    if (conv.reachedStart || id < 1) {
      app.tell("that message is no longer kept", "warn");
      return;
    }
    this.#jump = { room, id, pages: 0 };
    this.older(conv, JUMP_PAGE);
  }

  /** Older messages came in: show them where they belong, and go on looking if asked to. @param {Conversation} conv */
  olderCame(conv) {
    const jump = this.#jump;
    if (jump === null || jump.room !== conv.name) return;
    if (conv.reveal(jump.id)) {
      this.#jump = null;
    } else if (conv.reachedStart || ++jump.pages >= JUMP_PAGES) {
      this.#jump = null;
      this.#app.tell("that message is no longer kept (or too far back to show)", "warn");
    } else {
      this.older(conv, JUMP_PAGE);
    }
  }
}
