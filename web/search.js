/**
 * Search: the box in the top bar asks the server (`search`, every room the
 * user is in) and shows the results in place of the messages; choosing one
 * opens its room at that message, with what was said around it.
 */

import { el, nickClass, srOnly, timeNode } from "./dom.js";
import { linkify } from "./links.js";

/** @typedef {import("./app.js").App} App */

export class Search {
  /** @type {App} */
  #app;
  #open = false;

  /** @param {App} app */
  constructor(app) {
    this.#app = app;
    const { ui } = app;
    ui.searchForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run(ui.search.value);
    });
    ui.searchClose.addEventListener("click", () => this.close(true));
    ui.searchToggle.addEventListener("click", () => {
      const opening = ui.searchForm.classList.toggle("open");
      ui.searchToggle.setAttribute("aria-expanded", String(opening));
      if (opening) ui.search.focus();
    });
  }

  get isOpen() {
    return this.#open;
  }

  /** @param {string} text */
  run(text) {
    const query = text.trim();
    const { ui } = this.#app;
    if (query === "") {
      ui.search.focus();
      return;
    }
    const sent = this.#app.send({ type: "search", text: query, limit: 50 }, {
      kind: "search",
      text: query,
    });
    if (sent === false) return;
    this.#show(`Searching for “${query}”…`, []);
  }

  /** The server's answer. @param {any[]} results @param {string} query */
  results(results, query) {
    this.#show(
      results.length === 0
        ? `Nothing found for “${query}”`
        : `${results.length} ${results.length === 1 ? "message" : "messages"} for “${query}”`,
      results,
    );
  }

  /** @param {string} error */
  failed(error) {
    this.#show(`Search failed: ${error}`, []);
  }

  /** @param {string} heading @param {any[]} results */
  #show(heading, results) {
    const { ui } = this.#app;
    this.#open = true;
    ui.searchView.hidden = false;
    ui.logs.hidden = true;
    ui.searchHeading.textContent = heading;
    ui.searchResults.replaceChildren(...results.map((m) => {
      const li = el("li", "result");
      const b = el("button", "result-button");
      b.type = "button";
      b.append(
        el("span", "result-room", `#${m.room}`),
        " ",
        timeNode(m.ts, true),
        " ",
        el("span", nickClass(m.nick), m.nick),
        srOnly(":"),
        " ",
      );
      const text = el("span", "text");
      text.append(...linkify(m.text));
      b.append(text);
      b.addEventListener("click", () => {
        this.close(false);
        this.#app.reading.open(m.room, m.id);
      });
      li.append(b);
      return li;
    }));
  }

  /** Back to the messages. @param {boolean} focusBox */
  close(focusBox) {
    const { ui } = this.#app;
    if (!this.#open) return;
    this.#open = false;
    ui.searchView.hidden = true;
    ui.logs.hidden = false;
    if (focusBox) ui.message.focus();
  }
}
