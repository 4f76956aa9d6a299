/**
 * The message box: how much room is left in the frame the server accepts
 * (its `maxLineBytes`, in UTF-8 bytes of the whole JSON frame), why a line was
 * not sent, which sent lines are still waiting for the server, and the keys:
 * Enter sends, Shift+Enter starts another line (each line is sent as a
 * message), Tab completes nicks and commands, Ctrl+Up/Ctrl+Down recall what
 * was sent, Up on an empty box edits the last message, Escape cancels an edit
 * or a reply. The box is only cleared once the server took the lines; what it
 * refuses stays in the box.
 */

import { remember } from "./remember.js";

/** What a server that does not say takes (`--max-line-bytes` by default). */
export const DEFAULT_MAX_LINE_BYTES = 4096;
/** The count shows once a line uses this share of the limit. */
const SHOW_COUNT_AT = 0.8;
/** Screen readers hear the count once typing pauses this long, not at every key. */
const ANNOUNCE_AFTER_MS = 800;
/** Lines remembered for Ctrl+Up. */
const RECALL_KEPT = 50;
/** The box grows up to this many lines, then scrolls. */
const MAX_ROWS = 6;

const encoder = new TextEncoder();

/** The UTF-8 size of what is put on the wire for `request`. @param {object} request */
export function frameBytes(request) {
  return encoder.encode(JSON.stringify(request)).length;
}

/** @param {number} n @param {string} unit */
function plural(n, unit) {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/**
 * @typedef {{refs: Map<number, string>, refused: string[], key: string, line: string}} Sent
 *   lines sent from the box (by ref), those refused so far, and where
 * @typedef {{kind: "edit" | "reply", room: string, id: number, nick: string, text: string}} Mode
 * @typedef {{input: HTMLTextAreaElement, count: HTMLElement, live: HTMLElement,
 *   error: HTMLElement, context: HTMLElement, contextText: HTMLElement}} Parts
 * @typedef {object} Hooks
 * @property {(line: string) => number} measure the size of the frame the longest line would make
 * @property {() => string[]} nicks who Tab completes to, best first
 * @property {() => string[]} commands the commands Tab completes to (without `/`)
 * @property {() => boolean} editLast Up on an empty box: starts editing the last message
 * @property {() => void} submit Enter
 */

export class Composer {
  /** The largest frame the server takes, in bytes. */
  limit = DEFAULT_MAX_LINE_BYTES;
  /** The lines sent and not all answered yet. @type {Sent | null} */
  pending = null;
  /** Editing or answering a message. @type {Mode | null} */
  mode = null;
  /** @type {Parts} */
  #parts;
  /** @type {Hooks} */
  #hooks;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #announce;
  /** What was sent, oldest first, and where Ctrl+Up is in it (length: not recalling). */
  #sent = remember.sent;
  #recall = this.#sent.length;
  /** What was in the box before recalling. */
  #stash = "";
  /** Tab cycling: the candidates for the word being completed, and which one is in. */
  /** @type {{start: number, candidates: string[], index: number, suffix: string} | null} */
  #tab = null;

  /** @param {Parts} parts @param {Hooks} hooks */
  constructor(parts, hooks) {
    this.#parts = parts;
    this.#hooks = hooks;
    const input = parts.input;
    input.addEventListener("keydown", (event) => this.#key(event));
    input.addEventListener("input", () => {
      this.#tab = null;
      this.clearError();
      this.update();
    });
  }

  get value() {
    return this.#parts.input.value;
  }

  set value(text) {
    this.#parts.input.value = text;
    this.update();
  }

  /** Bytes `line` would be over the limit (0 or less: it fits). @param {string} line */
  overBy(line) {
    return this.#hooks.measure(line) - this.limit;
  }

  /** @param {number} limit */
  setLimit(limit) {
    this.limit = limit;
    this.update();
  }

  /** Shows, near the limit, how many bytes are left (or how many too many). */
  update() {
    const { input, count, live } = this.#parts;
    const line = input.value;
    const left = line === "" ? this.limit : -this.overBy(line);
    const near = left < this.limit * (1 - SHOW_COUNT_AT);
    const text = !near
      ? ""
      : left >= 0
      ? `${plural(left, "byte")} left`
      : `${plural(-left, "byte")} too many`;
    count.hidden = !near;
    count.textContent = text;
    count.classList.toggle("over", left < 0);
    this.#invalid(left < 0 || this.#parts.error.textContent !== "");
    clearTimeout(this.#announce);
    if (text === "") {
      live.textContent = "";
    } else {
      this.#announce = setTimeout(() => {
        live.textContent = left >= 0 ? text : `${text}: the line is too long to send`;
      }, ANNOUNCE_AFTER_MS);
    }
    // Grow with the text, up to MAX_ROWS lines.
    const rows = Math.min(MAX_ROWS, line.split("\n").length);
    if (input.rows !== rows) input.rows = rows;
  }

  /** Says why the text was not sent; it stays in the box. @param {string} text */
  refuse(text) {
    this.#parts.error.textContent = text;
    this.#invalid(true);
  }

  clearError() {
    if (this.#parts.error.textContent === "") return;
    this.#parts.error.textContent = "";
    this.update();
  }

  /**
   * Starts editing or answering a message (null: back to plain sending).
   * @param {Mode | null} mode
   */
  setMode(mode) {
    const { context, contextText, input } = this.#parts;
    const editing = this.mode?.kind === "edit";
    this.mode = mode;
    context.hidden = mode === null;
    context.dataset.kind = mode?.kind ?? "";
    if (mode === null) {
      contextText.textContent = "";
      if (editing) this.value = "";
      return;
    }
    const excerpt = mode.text.length > 80 ? `${mode.text.slice(0, 80)}…` : mode.text;
    contextText.textContent = mode.kind === "edit"
      ? `Editing your message (Escape cancels): ${excerpt}`
      : `Replying to ${mode.nick}: ${excerpt}`;
    if (mode.kind === "edit") this.value = mode.text;
    input.focus();
  }

  /** Remembers a line sent, for Ctrl+Up. @param {string} line */
  sent(line) {
    if (this.#sent.at(-1) !== line) this.#sent.push(line);
    this.#sent = this.#sent.slice(-RECALL_KEPT);
    this.#recall = this.#sent.length;
    remember.sent = this.#sent;
  }

  /** @param {KeyboardEvent} event */
  #key(event) {
    const input = this.#parts.input;
    if (event.isComposing) return;
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      this.#hooks.submit();
      return;
    }
    if (event.key === "Tab" && !event.shiftKey && !event.ctrlKey && !event.altKey) {
      // Nothing to complete: Tab moves focus on, as everywhere (keyboard users rely on it).
      if (this.#complete()) event.preventDefault();
      return;
    }
    if (event.key !== "Shift") this.#tab = null;
    if (event.key === "Escape" && this.mode !== null) {
      event.preventDefault();
      this.setMode(null);
      return;
    }
    if (event.ctrlKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
      event.preventDefault();
      this.#recallStep(event.key === "ArrowUp" ? -1 : 1);
      return;
    }
    if (event.key === "ArrowUp" && input.value === "" && !event.altKey && !event.metaKey) {
      if (this.#hooks.editLast()) event.preventDefault();
    }
  }

  /** @param {number} step */
  #recallStep(step) {
    const next = Math.max(0, Math.min(this.#sent.length, this.#recall + step));
    if (next === this.#recall) return;
    if (this.#recall === this.#sent.length) this.#stash = this.value;
    this.#recall = next;
    this.value = next === this.#sent.length ? this.#stash : this.#sent[next];
    const end = this.value.length;
    this.#parts.input.setSelectionRange(end, end);
  }

  /**
   * Completes the word before the caret: a command at the start of the box,
   * otherwise a nick (with ": " after it at the start of the line). Tab again
   * gives the next candidate. Returns false when there is nothing to complete.
   */
  #complete() {
    const input = this.#parts.input;
    const caret = input.selectionStart ?? input.value.length;
    if (input.selectionEnd !== caret) return false;
    let tab = this.#tab;
    if (tab === null) {
      const before = input.value.slice(0, caret);
      const start = before.search(/[^\s]*$/);
      const word = before.slice(start);
      if (word === "") return false;
      const isCommand = start === 0 && word.startsWith("/");
      const prefix = (isCommand ? word.slice(1) : word.replace(/^@/, "")).toLowerCase();
      const pool = isCommand ? this.#hooks.commands() : this.#hooks.nicks();
      const candidates = pool.filter((c) => c.toLowerCase().startsWith(prefix))
        .map((
          c,
        ) => (isCommand
          ? `/${c} `
          : `${word.startsWith("@") ? "@" : ""}${c}${start === 0 ? ": " : " "}`)
        );
      if (candidates.length === 0) return false;
      tab = { start, candidates, index: -1, suffix: input.value.slice(caret) };
    }
    tab.index = (tab.index + 1) % tab.candidates.length;
    const word = tab.candidates[tab.index];
    input.value = input.value.slice(0, tab.start) + word + tab.suffix;
    const at = tab.start + word.length;
    input.setSelectionRange(at, at);
    this.#tab = tab;
    this.clearError();
    this.update();
    return true;
  }

  /** @param {boolean} invalid */
  #invalid(invalid) {
    if (invalid) this.#parts.input.setAttribute("aria-invalid", "true");
    else this.#parts.input.removeAttribute("aria-invalid");
  }
}
