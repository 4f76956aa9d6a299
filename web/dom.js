/**
 * Small DOM helpers shared by the client's modules. Text only ever reaches
 * the page through `textContent` (see `el`): nothing a user types is parsed
 * as HTML.
 */

const NICK_COLORS = 8;

/** @param {string} id */
export function byId(id) {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`missing #${id}`);
  return node;
}

/**
 * An element with a class and plain text (never HTML).
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Text only screen readers announce. @param {string} text */
export function srOnly(text) {
  return el("span", "visually-hidden", text);
}

/** @param {number} n */
function pad(n) {
  return String(n).padStart(2, "0");
}

/** A `<time>` showing HH:MM (local), the full date as its tooltip. @param {number} ts */
export function timeNode(ts) {
  const date = new Date(Number.isFinite(ts) ? ts : Date.now());
  const node = el("time", "time", `${pad(date.getHours())}:${pad(date.getMinutes())}`);
  node.dateTime = date.toISOString();
  node.title = date.toLocaleString();
  return node;
}

/** A stable color class per nick (the palette lives in style.css). @param {string} nick */
export function nickClass(nick) {
  let h = 0;
  for (const ch of nick.toLowerCase()) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return `nick nick-c${h % NICK_COLORS}`;
}
