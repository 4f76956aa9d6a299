/**
 * One message on the page: who, when, what (links clickable, never HTML), the
 * quote of the message it answers, "(edited)", the reactions under it, and
 * its actions (react, reply, edit, delete). Grouping of one sender's lines
 * and the day dividers are worked out from the message before it.
 */

import { dayKey, dayLabel, el, nickClass, srOnly, timeNode } from "./dom.js";
import { linkify } from "./links.js";

/** Lines of one sender closer than this are shown as one group. */
const GROUP_MS = 5 * 60_000;
/** The emoji the picker offers (any other can be sent with `/react`). */
export const PICKER = ["👍", "❤️", "😂", "🎉", "😮", "😢", "👀", "✅"];

/**
 * @typedef {object} Shown a message as the page knows it
 * @property {number | undefined} id (a room message's; undefined for a direct message not kept)
 * @property {string} nick
 * @property {string} text
 * @property {number} ts
 * @property {boolean} action
 * @property {number | undefined} replyTo
 * @property {Map<string, string[]>} reactions
 * @property {HTMLLIElement} node
 */

/**
 * @param {{id?: number, nick: string, text: string, ts: number, kind?: string,
 *   reply_to?: number, edited?: number, reactions?: Record<string, string[]>}} m
 * @param {{me: string, mention: boolean, actions: boolean}} how
 * @returns {Shown}
 */
export function shownMessage(m, how) {
  const node = /** @type {HTMLLIElement} */ (el("li", "entry msg"));
  const action = m.kind === "action";
  /** @type {Shown} */
  const shown = {
    id: m.id,
    nick: m.nick,
    text: m.text,
    ts: m.ts,
    action,
    replyTo: Number.isSafeInteger(m.reply_to) ? m.reply_to : undefined,
    reactions: new Map(Object.entries(m.reactions ?? {})),
    node,
  };
  if (m.id !== undefined) node.dataset.id = String(m.id);
  node.dataset.nick = m.nick;
  node.dataset.ts = String(m.ts);
  if (m.nick === how.me) node.classList.add("mine");
  if (how.mention) node.classList.add("mention");
  if (action) node.classList.add("action");

  const head = el("div", "head");
  head.append(el("span", nickClass(m.nick), m.nick), " ", timeNode(m.ts));
  const body = el("div", "body");
  if (action) body.append(el("span", "star", "*"), " ", el("span", nickClass(m.nick), m.nick), " ");
  else body.append(srOnly(": "));
  body.append(el("span", "text"));
  node.append(head);
  if (shown.replyTo !== undefined) node.append(quoteNode(shown.replyTo));
  node.append(body);
  setText(shown, m.text, m.edited);
  if (how.actions && m.id !== undefined) node.append(actionsNode(m.nick === how.me, action));
  renderReactions(shown, how.me);
  return shown;
}

/** The placeholder of the quote of message `id`, filled by `fillQuote`. @param {number} id */
function quoteNode(id) {
  const quote = el("button", "quote");
  quote.type = "button";
  quote.dataset.act = "jump";
  quote.dataset.target = String(id);
  quote.append(srOnly("In reply to "), el("span", "quote-text", "an earlier message"));
  quote.title = "Show the message this answers";
  return quote;
}

/**
 * Fills the quote of a reply with the message it answers (or says it is gone).
 * @param {Shown} reply @param {Shown | null} answered null: deleted or no longer kept
 */
export function fillQuote(reply, answered) {
  const quote = reply.node.querySelector(".quote-text");
  if (quote === null) return;
  if (answered === null) {
    quote.replaceChildren("a message that is no longer here");
    return;
  }
  const excerpt = answered.text.length > 140 ? `${answered.text.slice(0, 140)}…` : answered.text;
  quote.replaceChildren(el("span", nickClass(answered.nick), answered.nick), ": ", excerpt);
}

/** @param {boolean} mine @param {boolean} action */
function actionsNode(mine, action) {
  const bar = el("div", "actions");
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", "Actions");
  /** @param {string} act @param {string} icon @param {string} name */
  const add = (act, icon, name) => {
    const b = el("button", `act act-${act}`);
    b.type = "button";
    b.dataset.act = act;
    const mark = el("span", "", icon);
    mark.setAttribute("aria-hidden", "true");
    b.append(mark, srOnly(name));
    b.title = name;
    bar.append(b);
  };
  add("react", "☺", "react");
  add("reply", "↩", "reply");
  if (mine && !action) add("edit", "✎", "edit");
  if (mine) add("delete", "🗑", "delete");
  return bar;
}

/** New text (an edit), marked "(edited)" when it was. @param {Shown} shown @param {string} text @param {number} [edited] */
export function setText(shown, text, edited) {
  shown.text = text;
  const span = shown.node.querySelector(".body > .text");
  span?.replaceChildren(...linkify(text));
  const old = shown.node.querySelector(".edited");
  if (edited === undefined) return;
  const mark = old ?? el("span", "edited", " (edited)");
  mark.title = `edited ${new Date(edited).toLocaleString()}`;
  if (old === null) span?.after(mark);
}

/**
 * The counts under a message: one button per emoji, pressed when the user
 * reacted with it (pressing it again takes the reaction back).
 * @param {Shown} shown @param {string} me
 */
export function renderReactions(shown, me) {
  let list = shown.node.querySelector(".reactions");
  const entries = [...shown.reactions].filter(([, nicks]) => nicks.length > 0);
  if (entries.length === 0) {
    list?.remove();
    return;
  }
  if (list === null) {
    list = el("ul", "reactions");
    list.setAttribute("aria-label", "Reactions");
    const body = shown.node.querySelector(".body");
    body?.after(list);
  }
  list.replaceChildren(...entries.map(([emoji, nicks]) => {
    const li = el("li");
    const b = el("button", "reaction");
    b.type = "button";
    b.dataset.act = "toggle";
    b.dataset.emoji = emoji;
    const mine = nicks.includes(me);
    b.setAttribute("aria-pressed", String(mine));
    const face = el("span", "emoji", emoji);
    b.append(face, " ", el("span", "count", String(nicks.length)));
    b.title = `${nicks.join(", ")} reacted with ${emoji}`;
    b.setAttribute("aria-label", `${emoji} ${nicks.length}: ${nicks.join(", ")}`);
    li.append(b);
    return li;
  }));
}

/**
 * Sets a message's day divider and grouping from the message before it.
 * @param {HTMLElement} node
 */
export function decorate(node) {
  if (!node.classList.contains("msg")) return;
  let prevMsg = node.previousElementSibling;
  while (prevMsg !== null && !prevMsg.classList.contains("msg")) {
    prevMsg = prevMsg.previousElementSibling;
  }
  const ts = Number(node.dataset.ts);
  const newDay = !(prevMsg instanceof HTMLElement) ||
    dayKey(Number(prevMsg.dataset.ts)) !== dayKey(ts);
  let divider = node.querySelector(":scope > .day");
  if (newDay && divider === null) {
    divider = el("div", "day");
    divider.setAttribute("role", "separator");
    node.prepend(divider);
  }
  if (divider !== null) {
    if (newDay) divider.textContent = dayLabel(ts);
    else divider.remove();
  }
  // Only the line right after another of the same sender joins its group.
  const grouped = !newDay && prevMsg instanceof HTMLElement &&
    prevMsg === node.previousElementSibling && prevMsg.dataset.nick === node.dataset.nick &&
    ts - Number(prevMsg.dataset.ts) < GROUP_MS && !node.classList.contains("action") &&
    !prevMsg.classList.contains("action") && node.querySelector(":scope > .quote") === null;
  node.classList.toggle("grouped", grouped);
}
