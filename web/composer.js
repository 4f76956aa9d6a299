/**
 * The message box's limits and answers: how much room is left in the frame
 * the server accepts (its `maxLineBytes`, in UTF-8 bytes of the whole JSON
 * frame), why a line was not sent, and which sent line is still waiting for
 * the server. The box is only cleared once the server took the line; what it
 * refuses stays in the box.
 */

/** What a server that does not say takes (`--max-line-bytes` by default). */
export const DEFAULT_MAX_LINE_BYTES = 4096;
/** The count shows once a line uses this share of the limit. */
const SHOW_COUNT_AT = 0.8;
/** Screen readers hear the count once typing pauses this long, not at every key. */
const ANNOUNCE_AFTER_MS = 800;

const encoder = new TextEncoder();

/** The UTF-8 size of what `send` puts on the wire for `request`. @param {object} request */
export function frameBytes(request) {
  return encoder.encode(JSON.stringify(request)).length;
}

/** @param {number} n @param {string} unit */
function plural(n, unit) {
  return `${n} ${unit}${n === 1 ? "" : "s"}`;
}

/**
 * @typedef {{ref: number, key: string, line: string}} Sent a line sent from the box, and where
 * @typedef {{input: HTMLInputElement, count: HTMLElement, live: HTMLElement, error: HTMLElement}} Parts
 */

export class Composer {
  /** The largest frame the server takes, in bytes. */
  limit = DEFAULT_MAX_LINE_BYTES;
  /** The line sent and not answered yet. @type {Sent | null} */
  pending = null;
  /** @type {Parts} */
  #parts;
  /** @type {(line: string) => number} */
  #measure;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #announce;

  /**
   * @param {Parts} parts the box, the visible count, a live region for the count, the error
   * @param {(line: string) => number} measure the size of the frame a line would make
   */
  constructor(parts, measure) {
    this.#parts = parts;
    this.#measure = measure;
  }

  /** Bytes `line` would be over the limit (0 or less: it fits). @param {string} line */
  overBy(line) {
    return this.#measure(line) - this.limit;
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

  /** @param {boolean} invalid */
  #invalid(invalid) {
    if (invalid) this.#parts.input.setAttribute("aria-invalid", "true");
    else this.#parts.input.removeAttribute("aria-invalid");
  }
}
