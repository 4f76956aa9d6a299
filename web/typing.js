/**
 * Typing: the user's own ("active" at most once every 3 s while they type in
 * the box, "done" once it is sent or emptied) and others' ("alice is
 * typing…" under the messages, gone after 6 s without news, as the protocol
 * says clients expire them).
 */

/** @typedef {import("./app.js").App} App */
/** @typedef {import("./conversations.js").Conversation} Conversation */

/** The server takes one typing event per room every 3 s. */
const SEND_EVERY_MS = 3000;
/** Others' typing ends on its own after this long. */
const EXPIRE_MS = 6000;

export class Typing {
  /** @type {App} */
  #app;
  /** The conversation the user's "active" was last sent to ("": none since). */
  #sentTo = "";
  /** When a typing event last went to each conversation: the server takes one per 3 s. */
  /** @type {Map<string, number>} */
  #at = new Map();
  /** @type {ReturnType<typeof setInterval> | undefined} */
  #timer;

  /** @param {App} app */
  constructor(app) {
    this.#app = app;
  }

  /** Where a typing event for `conv` goes: `room` or `to`, or null for none. @param {Conversation} conv */
  #target(conv) {
    if (conv.isRoom) return { room: conv.name };
    if (conv.kind === "dm") return { to: conv.name };
    return null;
  }

  /** The box changed: the user is typing in the open conversation, or stopped. */
  input() {
    const app = this.#app;
    const conv = app.viewed();
    const text = app.composer.value;
    const typing = text.trim() !== "" && !text.startsWith("/") &&
      app.composer.mode?.kind !== "edit";
    if (!typing) {
      this.stop();
      return;
    }
    const now = Date.now();
    if (now - (this.#at.get(conv.key) ?? 0) < SEND_EVERY_MS) return;
    const target = this.#target(conv);
    if (target === null) return;
    if (this.#sentTo !== "" && this.#sentTo !== conv.key) this.stop();
    if (app.send({ type: "typing", ...target, state: "active" }, { kind: "typing" }) !== false) {
      this.#sentTo = conv.key;
      this.#at.set(conv.key, now);
    }
  }

  /**
   * The box emptied or another conversation opened: "done". After a line is
   * sent nothing is (`said`): the message itself ends the typing for others.
   */
  stop(tell = true) {
    const key = this.#sentTo;
    if (key === "") return;
    this.#sentTo = "";
    const conv = this.#app.convs.get(key);
    const target = conv === undefined ? null : this.#target(conv);
    if (!tell || target === null) return;
    this.#app.send({ type: "typing", ...target, state: "done" }, { kind: "typing" });
    this.#at.set(key, Date.now());
  }

  /** Someone else's typing event. @param {{nick: string, room?: string, to?: string, state: string}} ev */
  event(ev) {
    const app = this.#app;
    if (ev.nick === app.state.nick) return;
    const conv = typeof ev.room === "string"
      ? app.convs.get(ev.room)
      : app.convs.get(`@${ev.nick.toLowerCase()}`);
    if (conv === undefined) return;
    if (ev.state === "done") conv.typing.delete(ev.nick);
    else conv.typing.set(ev.nick, Date.now() + (ev.state === "paused" ? EXPIRE_MS / 2 : EXPIRE_MS));
    this.render();
  }

  /** A message from `nick` ends its typing. @param {Conversation} conv @param {string} nick */
  said(conv, nick) {
    if (conv.typing.delete(nick)) this.render();
  }

  /** The line under the open conversation's messages. */
  render() {
    const app = this.#app;
    const conv = app.viewed();
    const now = Date.now();
    for (const [nick, until] of conv.typing) if (until <= now) conv.typing.delete(nick);
    const nicks = [...conv.typing.keys()];
    const text = nicks.length === 0
      ? ""
      : nicks.length === 1
      ? `${nicks[0]} is typing…`
      : nicks.length <= 3
      ? `${nicks.slice(0, -1).join(", ")} and ${nicks.at(-1)} are typing…`
      : "several people are typing…";
    if (app.ui.typing.textContent !== text) app.ui.typing.textContent = text;
    const anyone = [...app.convs.values()].some((c) => c.typing.size > 0);
    if (anyone && this.#timer === undefined) this.#timer = setInterval(() => this.render(), 1000);
    if (!anyone && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
