/**
 * Conversations: each joined room, and each person the user exchanges
 * direct messages with, is one of its own, with its log, read marker, unread
 * and mention counts, draft, and who is typing there. A room's log holds a
 * contiguous run of its messages, in id order: new ones arrive at the end,
 * older ones are loaded at the top as the reader scrolls up.
 */

import { el, timeNode } from "./dom.js";
import { decorate, fillQuote, renderReactions, setText, shownMessage } from "./messages.js";

/** Entries kept per conversation while the reader is at the bottom. */
const MAX_KEPT = 2000;
/** Scrolled this close to the top, older messages are asked for. */
const OLDER_AT_PX = 200;

/** Shown when there is no room and no direct conversation; `*` starts no room name. */
export const HOME = "*";

/**
 * The key of the conversation with `nick`: nicks are unique ignoring case,
 * and `@` starts no room name, so it never collides with a room.
 * @param {string} nick
 */
export function dmKey(nick) {
  return `@${nick.toLowerCase()}`;
}

/**
 * @typedef {import("./messages.js").Shown} Shown
 * @typedef {{room: string, nick: string, text: string, id: number, ts: number, kind?: string,
 *   reply_to?: number, edited?: number, reactions?: Record<string, string[]>}} RoomMessage
 * @typedef {{from: string, to: string, text: string, ts: number, id?: number}} DirectMessage
 * @typedef {(conv: Conversation, act: string, shown: Shown, target: HTMLElement) => void} OnAction
 */

/** One conversation: a room, the direct messages with one person, or the home view. */
export class Conversation {
  /** @type {() => string} */
  #me;
  /** @type {Map<number, Shown>} */
  #messages = new Map();
  /** @type {HTMLElement | null} */
  #newLine = null;

  /**
   * @param {"room" | "dm" | "home"} kind
   * @param {string} name the room's name, or the other person's nick as last seen
   * @param {HTMLElement} container where its log goes
   * @param {() => string} me the user's nick now (their own lines are marked)
   * @param {{older: (conv: Conversation) => void, action: OnAction}} on
   */
  constructor(kind, name, container, me, on) {
    this.kind = kind;
    this.name = name;
    this.#me = me;
    /** The largest and smallest message ids on the page (0: none). */
    this.lastId = 0;
    this.firstId = 0;
    /** The first message of the room is on the page: nothing older to load. */
    this.reachedStart = false;
    /** Older messages were asked for and have not come yet. */
    this.loadingOlder = false;
    /** The id read up to (the read marker), as the server last said or as sent. */
    this.readId = 0;
    /** The server's unread count is not ours (our marker is ahead of its): count the page. */
    this.unreadUnknown = false;
    this.unread = 0;
    this.mentions = 0;
    /** What was typed here and not sent yet, kept while another conversation is open. */
    this.draft = "";
    /** Whether the log follows new entries (the reader is at the bottom). */
    this.stick = true;
    /** Who is typing here, until when (ms). @type {Map<string, number>} */
    this.typing = new Map();
    this.log = el("ol", "log");
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-live", "polite");
    this.log.setAttribute("aria-label", kind === "dm" ? `Direct messages with ${name}` : name);
    this.log.tabIndex = 0;
    this.log.hidden = true;
    this.log.addEventListener("scroll", () => {
      const log = this.log;
      this.stick = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
      if (log.scrollTop < OLDER_AT_PX && this.isRoom && !this.reachedStart) on.older(this);
    });
    this.log.addEventListener("click", (event) => {
      const target = /** @type {HTMLElement} */ (event.target);
      const button = target.closest("button[data-act]");
      const item = target.closest("li.msg");
      if (!(item instanceof HTMLElement)) return;
      if (!(button instanceof HTMLElement)) {
        // A tap on a message (no hover on a touch screen) shows its actions.
        if (target.closest("a") !== null) return;
        for (const other of this.log.querySelectorAll(".touched")) {
          if (other !== item) other.classList.remove("touched");
        }
        item.classList.toggle("touched");
        return;
      }
      const shown = this.#messages.get(Number(item.dataset.id));
      if (shown !== undefined) on.action(this, button.dataset.act ?? "", shown, button);
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

  /** @param {number} id */
  message(id) {
    return this.#messages.get(id);
  }

  /** The user's latest line here that can be edited (Up arrow on an empty box). */
  lastOwn() {
    const me = this.#me();
    for (let n = this.log.lastElementChild; n !== null; n = n.previousElementSibling) {
      const node = /** @type {HTMLElement} */ (n);
      if (node.dataset.nick !== me || node.dataset.id === undefined) continue;
      const shown = this.#messages.get(Number(node.dataset.id));
      if (shown !== undefined && !shown.action) return shown;
    }
    return undefined;
  }

  /**
   * Inserts an entry before `before` (null: at the end); a reader at the
   * bottom stays there, one reading older lines keeps them where they were.
   * @param {HTMLElement} node @param {Element | null} [before]
   */
  #place(node, before = null) {
    const log = this.log;
    const height = log.scrollHeight;
    log.insertBefore(node, before);
    decorate(node);
    const next = node.nextElementSibling;
    if (next instanceof HTMLElement) decorate(next);
    if (this.stick) {
      this.#trim();
      if (!log.hidden) this.scrollToEnd();
    } else if (before !== null && !log.hidden) {
      log.scrollTop += log.scrollHeight - height;
    }
  }

  /** Keeps the page light: the oldest entries go once there are too many. */
  #trim() {
    while (this.log.childElementCount > MAX_KEPT) {
      const first = /** @type {HTMLElement} */ (this.log.firstElementChild);
      if (first.dataset.id !== undefined) this.#messages.delete(Number(first.dataset.id));
      first.remove();
      this.reachedStart = false;
    }
    const first = this.log.querySelector("li.msg[data-id]");
    this.firstId = first instanceof HTMLElement ? Number(first.dataset.id) : this.lastId;
    if (first instanceof HTMLElement) decorate(first);
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  /**
   * Shows a room message once, in id order. Returns it, or undefined for a duplicate.
   * @param {RoomMessage} m @param {boolean} mention
   */
  addMessage(m, mention) {
    if (!Number.isSafeInteger(m.id) || this.#messages.has(m.id)) return undefined;
    const shown = shownMessage(m, { me: this.#me(), mention, actions: true });
    this.#messages.set(m.id, shown);
    if (m.id > this.lastId) {
      this.lastId = m.id;
      if (this.firstId === 0) this.firstId = m.id;
      this.#place(shown.node);
    } else {
      // Older than the newest shown (scrollback, or a gap being filled): before the first larger id.
      let next = null;
      if (m.id < this.firstId) {
        next = this.log.querySelector("li.msg[data-id]");
        this.firstId = m.id;
      } else {
        for (let n = this.log.lastElementChild; n !== null; n = n.previousElementSibling) {
          const id = /** @type {HTMLElement} */ (n).dataset.id;
          if (id === undefined) continue;
          if (Number(id) > m.id) next = n;
          else break;
        }
      }
      this.#place(shown.node, next);
    }
    this.#quotes(shown);
    return shown;
  }

  /** Fills the quote of `shown` (a reply) and the quotes of the replies to it. @param {Shown} shown */
  #quotes(shown) {
    if (shown.replyTo !== undefined) {
      const answered = this.#messages.get(shown.replyTo);
      if (answered !== undefined) fillQuote(shown, answered);
    }
    if (shown.id !== undefined) this.#requote(shown.id, shown);
  }

  /** The replies to message `id` quote it again (null: it is gone). @param {number} id @param {Shown | null} answered */
  #requote(id, answered) {
    for (const q of this.log.querySelectorAll(`.quote[data-target="${id}"]`)) {
      const reply = q.closest("li.msg");
      const other = reply instanceof HTMLElement
        ? this.#messages.get(Number(reply.dataset.id))
        : undefined;
      if (other !== undefined) fillQuote(other, answered);
    }
  }

  /** A direct message, shown like a room message: who wrote it and what. @param {DirectMessage} dm @param {boolean} mention */
  addDm(dm, mention) {
    const shown = shownMessage({ nick: dm.from, text: dm.text, ts: dm.ts }, {
      me: this.#me(),
      mention,
      actions: false,
    });
    shown.node.classList.add("dm");
    this.#place(shown.node);
    return shown;
  }

  /** @param {number} id @param {string} text @param {number} ts */
  edit(id, text, ts) {
    const shown = this.#messages.get(id);
    if (shown === undefined) return;
    setText(shown, text, ts);
    this.#quotes(shown);
  }

  /** A deleted message leaves the page; quotes of it say so. @param {number} id */
  remove(id) {
    const shown = this.#messages.get(id);
    if (shown === undefined) return;
    this.#messages.delete(id);
    const next = shown.node.nextElementSibling;
    shown.node.remove();
    if (next instanceof HTMLElement) decorate(next);
    this.#requote(id, null);
  }

  /** @param {number} id @param {string} nick @param {string} emoji @param {boolean} on */
  react(id, nick, emoji, on) {
    const shown = this.#messages.get(id);
    if (shown === undefined) return;
    const nicks = (shown.reactions.get(emoji) ?? []).filter((n) => n !== nick);
    if (on) nicks.push(nick);
    shown.reactions.set(emoji, nicks);
    renderReactions(shown, this.#me());
  }

  /** Messages of others above the read marker on the page. */
  countAbove() {
    const me = this.#me();
    let n = 0;
    for (const [id, shown] of this.#messages) if (id > this.readId && shown.nick !== me) n++;
    return n;
  }

  /** A reader coming back sees where they stopped: a line above the first unread message. */
  markNew() {
    this.clearNew();
    const me = this.#me();
    for (const node of this.log.querySelectorAll("li.msg[data-id]")) {
      const item = /** @type {HTMLElement} */ (node);
      if (Number(item.dataset.id) <= this.readId || item.dataset.nick === me) continue;
      const line = el("li", "new-line");
      line.setAttribute("role", "separator");
      line.append(el("span", "", "New messages"));
      this.log.insertBefore(line, item);
      decorate(item);
      this.#newLine = line;
      return;
    }
  }

  clearNew() {
    const next = this.#newLine?.nextElementSibling;
    this.#newLine?.remove();
    this.#newLine = null;
    if (next instanceof HTMLElement) decorate(next);
  }

  /** Brings message `id` into view and flashes it. Returns false when it is not on the page. @param {number} id */
  reveal(id) {
    const shown = this.#messages.get(id);
    if (shown === undefined) return false;
    shown.node.scrollIntoView({ block: "center" });
    shown.node.classList.remove("flash");
    void shown.node.offsetWidth;
    shown.node.classList.add("flash");
    shown.node.tabIndex = -1;
    shown.node.focus({ preventScroll: true });
    return true;
  }

  /** A line from the client itself (joins, errors, ...). @param {string} text */
  notice(text, kind = "info") {
    const li = el("li", `entry notice notice-${kind}`);
    li.append(timeNode(Date.now()), " ", el("span", "notice-text", text));
    this.#place(li);
  }

  /** Says the room's first message is above: nothing older to load. */
  startReached() {
    if (this.reachedStart) return;
    this.reachedStart = true;
    const li = el("li", "entry notice start");
    li.append(el("span", "notice-text", `This is the beginning of ${this.name}.`));
    this.log.prepend(li);
  }

  close() {
    this.log.remove();
  }
}

/** Every conversation, in the order they were opened, by key. */
export class Conversations {
  /** @type {Map<string, Conversation>} */
  #all = new Map();
  #container;
  #me;
  #on;

  /**
   * @param {HTMLElement} container @param {() => string} me
   * @param {{older: (conv: Conversation) => void, action: OnAction}} on
   */
  constructor(container, me, on) {
    this.#container = container;
    this.#me = me;
    this.#on = on;
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
      conv = new Conversation(kind, name, this.#container, this.#me, this.#on);
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
    conv.close();
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
