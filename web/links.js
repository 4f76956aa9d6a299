/**
 * Links in message text: `http(s)://…` and `www.…` become anchors that open
 * in a new tab without handing the page to the site (`noopener noreferrer`).
 * Text is never parsed as HTML: the result is text nodes and anchors built
 * with `textContent`.
 */

/** A URL runs to the next space or to a character no URL is written with. */
const URL_PATTERN = /\b(?:https?:\/\/|www\.)[^\s<>"'`]+/gi;
/** Punctuation that ends a sentence rather than the URL. */
const TRAILING = /[.,;:!?'"*_~]+$/;

/**
 * Drops trailing punctuation and a closing bracket that has no opening one
 * inside the URL (`(see https://x.org/a)`).
 * @param {string} url
 */
function trim(url) {
  let out = url.replace(TRAILING, "");
  for (const [open, close] of [["(", ")"], ["[", "]"]]) {
    while (out.endsWith(close) && out.split(close).length > out.split(open).length) {
      out = out.slice(0, -1).replace(TRAILING, "");
    }
  }
  return out;
}

/**
 * The text as nodes: plain text, with each URL an anchor to it.
 * @param {string} text
 * @returns {Node[]}
 */
export function linkify(text) {
  /** @type {Node[]} */
  const nodes = [];
  let at = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const url = trim(match[0]);
    const start = match.index ?? 0;
    if (url.length < 5 || url.toLowerCase() === "www.") continue;
    const href = /^www\./i.test(url) ? `https://${url}` : url;
    let parsed;
    try {
      parsed = new URL(href);
    } catch {
      continue;
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") continue;
    if (start > at) nodes.push(document.createTextNode(text.slice(at, start)));
    const a = document.createElement("a");
    a.href = parsed.href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.textContent = url;
    nodes.push(a);
    at = start + url.length;
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  return nodes;
}
