/**
 * What the user does with a message from its actions: react (a small picker
 * of emoji; a count under the message toggles the user's own), reply, edit,
 * delete (after a yes), and jump from a reply's quote to what it answers.
 */

import { el } from "./dom.js";
import { PICKER } from "./messages.js";

/** @typedef {import("./app.js").App} App */
/** @typedef {import("./conversations.js").Conversation} Conversation */
/** @typedef {import("./messages.js").Shown} Shown */

export class MessageActions {
  /** @type {App} */
  #app;
  /** @type {HTMLElement | null} */
  #picker = null;

  /** @param {App} app */
  constructor(app) {
    this.#app = app;
    // A click elsewhere closes the picker.
    document.addEventListener("click", (event) => {
      const picker = this.#picker;
      if (picker !== null && !picker.parentElement?.contains(/** @type {Node} */ (event.target))) {
        this.#close();
      }
    });
  }

  #close() {
    this.#picker?.remove();
    this.#picker = null;
  }

  /**
   * A message's button was pressed (`data-act`).
   * @param {Conversation} conv @param {string} act @param {Shown} shown @param {HTMLElement} target
   */
  act(conv, act, shown, target) {
    const app = this.#app;
    const id = /** @type {number} */ (shown.id);
    const room = conv.name;
    switch (act) {
      case "react":
        return this.#openPicker(shown, target);
      case "pick":
      case "toggle": {
        const emoji = target.dataset.emoji ?? "";
        const mine = (shown.reactions.get(emoji) ?? []).includes(app.state.nick);
        app.send({ type: mine ? "unreact" : "react", room, id, emoji });
        if (act === "pick") {
          this.#close();
          shown.node.querySelector("[data-act=react]")?.focus();
        }
        return;
      }
      case "reply":
      case "edit":
        app.composer.setMode({ kind: act, room, id, nick: shown.nick, text: shown.text });
        return;
      case "delete":
        return this.#confirmDelete(shown);
      case "confirm-delete":
        app.send({ type: "delete", room, id });
        shown.node.querySelector(".confirm")?.remove();
        return;
      case "cancel-delete":
        shown.node.querySelector(".confirm")?.remove();
        shown.node.querySelector("[data-act=delete]")?.focus();
        return;
      case "jump":
        app.reading.open(room, Number(target.dataset.target));
        return;
    }
  }

  /** A delete is for everyone and cannot be undone: it asks first. @param {Shown} shown */
  #confirmDelete(shown) {
    shown.node.querySelector(".confirm")?.remove();
    const confirm = el("div", "confirm");
    confirm.setAttribute("role", "group");
    confirm.setAttribute("aria-label", "Delete this message?");
    const yes = el("button", "danger", "Delete");
    yes.type = "button";
    yes.dataset.act = "confirm-delete";
    const no = el("button", "", "Cancel");
    no.type = "button";
    no.dataset.act = "cancel-delete";
    confirm.append(el("span", "", "Delete this message for everyone? "), yes, " ", no);
    shown.node.append(confirm);
    no.focus();
  }

  /** The reactions offered, under the message. @param {Shown} shown @param {HTMLElement} target */
  #openPicker(shown, target) {
    const again = this.#picker !== null && shown.node.contains(this.#picker);
    this.#close();
    if (again) return;
    const picker = el("div", "picker");
    picker.setAttribute("role", "group");
    picker.setAttribute("aria-label", `react to ${shown.nick}'s message`);
    for (const emoji of PICKER) {
      const b = el("button", "pick", emoji);
      b.type = "button";
      b.dataset.act = "pick";
      b.dataset.emoji = emoji;
      b.setAttribute("aria-label", `react with ${emoji}`);
      picker.append(b);
    }
    picker.addEventListener("keydown", (event) => {
      if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        // Arrows move along the emoji, as in a toolbar.
        const buttons = [...picker.querySelectorAll("button")];
        const at = buttons.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
        const step = event.key === "ArrowRight" ? 1 : -1;
        buttons[(at + step + buttons.length) % buttons.length]?.focus();
        event.preventDefault();
        return;
      }
      if (event.key !== "Escape") return;
      event.stopPropagation();
      this.#close();
      target.focus();
    });
    shown.node.append(picker);
    this.#picker = picker;
    picker.querySelector("button")?.focus();
  }
}
