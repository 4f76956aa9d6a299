/**
 * What calls for the user: mentions of their nick (highlighted, counted apart
 * from unread), direct messages, desktop notifications for both while the
 * tab is hidden (opt-in: the browser asks first), and the tab title counting
 * them.
 */

import { remember } from "./remember.js";

/** @typedef {import("./app.js").App} App */

/** @param {string} s */
function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Whether `text` names `nick` as a word of its own (any case): `alice:`,
 * `@alice`, `thanks alice!`, but not `malice`.
 * @param {string} text @param {string} nick
 */
export function mentions(text, nick) {
  if (nick === "") return false;
  const pattern = new RegExp(`(^|[^A-Za-z0-9_-])@?${escapeRegExp(nick)}($|[^A-Za-z0-9_-])`, "i");
  return pattern.test(text);
}

export class Attention {
  /** @type {App} */
  #app;

  /** @param {App} app */
  constructor(app) {
    this.#app = app;
    const toggle = app.ui.notifyToggle;
    this.#showToggle();
    toggle.addEventListener("click", async () => {
      if (remember.notify) {
        remember.notify = false;
      } else if ("Notification" in globalThis) {
        const answer = Notification.permission === "granted"
          ? "granted"
          : await Notification.requestPermission();
        remember.notify = answer === "granted";
        if (answer !== "granted") app.tell("the browser did not allow notifications", "warn");
      }
      this.#showToggle();
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) app.seen();
    });
  }

  get enabled() {
    return remember.notify && "Notification" in globalThis && Notification.permission === "granted";
  }

  #showToggle() {
    const toggle = this.#app.ui.notifyToggle;
    toggle.hidden = !("Notification" in globalThis);
    toggle.setAttribute("aria-pressed", String(this.enabled));
    toggle.textContent = this.enabled ? "Notifications on" : "Notify me";
  }

  /** The tab's title: how many mentions and direct messages wait, then the open conversation. */
  title() {
    let waiting = 0;
    for (const conv of this.#app.convs.values()) {
      waiting += conv.kind === "dm" ? conv.unread : conv.mentions;
    }
    const view = this.#app.viewed();
    const where = view.kind === "dm" ? `@${view.name}` : view.isRoom ? `#${view.name}` : "";
    const title = `${waiting > 0 ? `(${waiting}) ` : ""}${where ? `${where} · ` : ""}chat`;
    if (document.title !== title) document.title = title;
  }

  /**
   * A mention or direct message arrived: a desktop notification when the
   * user cannot see it (clicking it opens the conversation).
   * @param {string} key the conversation @param {string} title @param {string} body
   */
  notify(key, title, body) {
    if (!this.enabled || !document.hidden) return;
    try {
      const note = new Notification(title, { body: body.slice(0, 200), tag: key });
      note.addEventListener("click", () => {
        globalThis.focus();
        this.#app.show(key, true);
        note.close();
      });
    } catch (err) {
      console.warn("no notification", err);
    }
  }
}
