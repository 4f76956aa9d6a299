/**
 * Conversations: each joined room, and each person the user exchanges
 * direct messages with, is one of its own, with its own log, unread count
 * and draft. The page keeps them while it lives.
 */

import { el, nickClass, timeNode } from "./dom.js";

/** Entries kept per conversation; older ones are dropped from the page. */
const MAX_KEPT = 2000;

/** Shown when there is no room and no direct conversation; `*` starts no room name. */
const HOME = "*";

/**
 * The key of the conversation with `nick`: nicks are unique ignoring case,
 * and `@` starts no room name, so it never collides with a room.
 * @param {string} nick
 */
export function dmKey(nick) {
  return `@${nick.toLowerCase()}`;
}

/**
 * @typedef {{room: string, nick: string, text: string, id: number, ts: number, kind: string}} RoomMessage
 * @typedef {{from: string, to: string, text: string, ts: number}} DirectMessage
 */

/** One conversation: a room, the direct messages with one person, or the home view. */
export class Conversation {
  /** @type {() => string} */
  #me;

  /**
   * @param {"room" | "dm" | "home"} kind
   * @param {string} name the room's name, or the other person's nick as last seen
   * @param {HTMLElement} container where its log goes
   * @param {() => string} me the user's nick now (their own lines are marked)
   */
  constructor(kind, name, container, me) {
    this.kind = kind;
    this.name = name;
    this.#me = me;
    /** Message ids shown (rooms only): the dedupe set. */
    this.ids = new Set();
    /** The largest message id seen: where a gap fill starts. */
    this.lastId = 0;
    /** Ids at or below this were dropped from the page; they are not shown again. */
    this.floor = 0;
    this.unread = 0;
    /** What was typed here and not sent yet, kept while another conversation is open. */
    this.draft = "";
    /** Whether the log follows new entries (the reader is at the bottom). */
    this.stick = true;
    this.log = el("ol", "log");
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-live", "polite");
    this.log.tabIndex = 0;
    this.log.hidden = true;
    this.log.addEventListener("scroll", () => {
      const log = this.log;
      this.stick = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
    });
    container.append(this.log);
  }

  get key() {
    if (this.kind === "dm") return dmKey(this.name);
    return this.kind === "home" ? HOME : this.name;
  }

  get isRoom() {
    return this.kind === "room";
  }

  /** Adds an entry, keeping the reader at the bottom if they were there. @param {Node} node */
  #place(node, before = /** @type {Element | null} */ (null)) {
    this.log.insertBefore(node, before);
    while (this.log.childElementCount > MAX_KEPT) {
      const first = /** @type {HTMLElement} */ (this.log.firstElementChild);
      if (first.dataset.id !== undefined) {
        const id = Number(first.dataset.id);
        this.ids.delete(id);
        this.floor = Math.max(this.floor, id);
      }
      first.remove();
    }
    if (this.stick && !this.log.hidden) this.scrollToEnd();
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  /**
   * Shows a room message once, in id order. Returns false for a duplicate.
   * @param {RoomMessage} m
   */
  addMessage(m) {
    if (!Number.isSafeInteger(m.id) || this.ids.has(m.id) || m.id <= this.floor) return false;
    this.ids.add(m.id);
    const node = this.#line(m.nick, m.text, m.ts, m.kind === "action");
    node.dataset.id = String(m.id);
    if (m.id > this.lastId) {
      this.lastId = m.id;
      this.#place(node);
      return true;
    }
    // Older than the newest shown (a gap being filled): before the first larger id.
    let next = null;
    for (let n = this.log.lastElementChild; n !== null; n = n.previousElementSibling) {
      const id = /** @type {HTMLElement} */ (n).dataset.id;
      if (id === undefined) continue;
      if (Number(id) > m.id) next = n;
      else break;
    }
    this.#place(node, next);
    return true;
  }

  /** A direct message, shown like a room message: who wrote it and what. @param {DirectMessage} dm */
  addDm(dm) {
    const node = this.#line(dm.from, dm.text, dm.ts, false);
    node.classList.add("dm");
    this.#place(node);
  }

  /**
   * `nick: text`, or `* nick text` for an action.
   * @param {string} nick @param {string} text @param {number} ts @param {boolean} action
   */
  #line(nick, text, ts, action) {
    const li = el("li", "entry msg");
    if (nick === this.#me()) li.classList.add("mine");
    if (action) {
      li.classList.add("action");
      li.append(timeNode(ts), " ", el("span", "star", "*"), " ", el("span", nickClass(nick), nick));
      li.append(" ", el("span", "text", text));
    } else {
      li.append(timeNode(ts), " ", el("span", nickClass(nick), nick), el("span", "sep", ":"));
      li.append(" ", el("span", "text", text));
    }
    return li;
  }

  /** A line from the client itself (joins, errors, ...). @param {string} text */
  notice(text, kind = "info") {
    const li = el("li", `entry notice notice-${kind}`);
    li.append(timeNode(Date.now()), " ", el("span", "notice-text", text));
    this.#place(li);
  }

  remove() {
    this.log.remove();
  }
}

/** Every conversation, in the order they were opened, by key. */
export class Conversations {
  /** @type {Map<string, Conversation>} */
  #all = new Map();
  #container;
  #me;

  /** @param {HTMLElement} container @param {() => string} me */
  constructor(container, me) {
    this.#container = container;
    this.#me = me;
  }

  /** @param {string} key */
  get(key) {
    return this.#all.get(key);
  }

  /** @param {string} key */
  has(key) {
    return this.#all.has(key);
  }

  values() {
    return this.#all.values();
  }

  /** Joined rooms, in join order. */
  rooms() {
    return [...this.#all.values()].filter((c) => c.kind === "room");
  }

  /** Direct conversations, in the order they began. */
  dms() {
    return [...this.#all.values()].filter((c) => c.kind === "dm");
  }

  /** @param {"room" | "dm" | "home"} kind @param {string} name @param {string} key */
  #open(kind, name, key) {
    let conv = this.#all.get(key);
    if (conv === undefined) {
      conv = new Conversation(kind, name, this.#container, this.#me);
      this.#all.set(key, conv);
    }
    return conv;
  }

  /** The room's conversation, opened if new. @param {string} room */
  room(room) {
    return this.#open("room", room, room);
  }

  /** The conversation with `nick`, opened if new; it takes the nick as spelled now. @param {string} nick */
  dm(nick) {
    const conv = this.#open("dm", nick, dmKey(nick));
    conv.name = nick;
    return conv;
  }

  /** Where notices go when nothing else is open. */
  home() {
    return this.#open("home", "", HOME);
  }

  /** @param {string} key */
  delete(key) {
    const conv = this.#all.get(key);
    if (conv === undefined) return;
    this.#all.delete(key);
    conv.remove();
  }

  /**
   * The conversation with `old` follows a nick change, keeping its place in
   * the list. Returns it, or undefined when there is none (or the new nick
   * has one already).
   * @param {string} old @param {string} nick
   */
  rename(old, nick) {
    const conv = this.#all.get(dmKey(old));
    if (conv === undefined) return undefined;
    const key = dmKey(nick);
    if (key !== conv.key && this.#all.has(key)) return undefined;
    conv.name = nick;
    this.#all = new Map([...this.#all].map(([k, c]) => (c === conv ? [key, c] : [k, c])));
    return conv;
  }
}
