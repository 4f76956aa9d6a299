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

/** The local day a time falls on, as a key (`2026-12-06`). @param {number} ts */
export function dayKey(ts) {
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** "Today", "Yesterday", or the date ("Thursday 3 December 2026"). @param {number} ts */
export function dayLabel(ts, now = Date.now()) {
  if (dayKey(ts) === dayKey(now)) return "Today";
  if (dayKey(ts) === dayKey(now - 86_400_000)) return "Yesterday";
  return new Date(ts).toLocaleDateString(undefined, {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
  });
}

/**
 * A `<time>` showing HH:MM (local), with the date in front when `dated` (a
 * message out of its day's context, such as a search result); the full date
 * is its tooltip either way.
 * @param {number} ts @param {boolean} [dated]
 */
export function timeNode(ts, dated = false) {
  const date = new Date(Number.isFinite(ts) ? ts : Date.now());
  const hm = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const text = dated
    ? `${
      date.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" })
    } ${hm}`
    : hm;
  const node = el("time", "time", text);
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
