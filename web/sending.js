/**
 * What the user typed, on its way: each line of the box goes to the server
 * as one request and stays in the box until the server has answered them
 * all; lines it refuses stay (with the reason next to the box), so nothing
 * typed is lost on an error.
 */

import { carriesSecret, planInput } from "./commands.js";
import { frameBytes } from "./composer.js";

/** @typedef {import("./app.js").App} App */

/**
 * Enter in the box: each line goes to the server and stays in the box until
 * the server took it (see `settle`). What cannot go is explained
 * next to the box, and kept.
 */
/** @param {App} app */
export function submit(app) {
  const { composer, conn, state } = app;
  const text = composer.value;
  if (text.trim() === "") return;
  const waiting = composer.pending;
  if (waiting !== null && waiting.line === text && waiting.key === state.view) return;
  composer.clearError();
  const plan = planInput(text, app.where());
  if ("error" in plan) return composer.refuse(plan.error);
  if ("local" in plan) {
    plan.local();
    if (!carriesSecret(text)) composer.sent(text);
    composer.value = "";
    return;
  }
  for (const step of plan.steps) {
    const bytes = frameBytes({ ...step.request, ref: conn.nextRef });
    if (bytes > composer.limit) {
      return composer.refuse(
        `too long to send (the server takes ${composer.limit} bytes a line): ` +
          "shorten it or send it in parts",
      );
    }
  }
  if (!conn.online) return composer.refuse("not connected: try again in a moment");
  /** @type {Map<number, string>} */
  const refs = new Map();
  for (const step of plan.steps) {
    const ref = app.send(step.request, step.meta);
    if (ref !== false) refs.set(ref, String(step.request.text ?? text));
  }
  composer.pending = { refs, refused: [], key: state.view, line: text };
  if (!carriesSecret(text)) composer.sent(text);
  app.typing.stop(false);
}

/**
 * The server's answer to lines the box sent: once every line is answered, the
 * box is cleared (or the draft it went into when another conversation was
 * opened meanwhile); refused lines stay in the box, with the error next to
 * it. A frame too long is refused unread, so its error has no ref. Returns
 * true when the event is fully handled here.
 * @param {App} app @param {any} ev
 */
export function settle(app, ev) {
  const { composer, state, convs } = app;
  const sent = composer.pending;
  if (sent === null) return false;
  const unread = ev.ref === undefined && ev.type === "error" && ev.code === "line_too_long";
  if (!unread && !sent.refs.has(ev.ref)) return false;
  const error = ev.type === "error" ? String(ev.message ?? ev.code ?? "error") : null;
  if (unread) {
    sent.refused.push(...sent.refs.values());
    sent.refs.clear();
  } else {
    const line = /** @type {string} */ (sent.refs.get(ev.ref));
    sent.refs.delete(ev.ref);
    if (error !== null) sent.refused.push(line);
  }
  if (error !== null) sent.error = error;
  if (sent.refs.size > 0) return error !== null;
  composer.pending = null;
  const conv = convs.get(sent.key);
  const here = sent.key === state.view && composer.value === sent.line;
  if (sent.refused.length > 0) {
    const keep = sent.refs.size === 0 && sent.refused.length === sent.line.split("\n").length
      ? sent.line
      : sent.refused.join("\n");
    const why = sent.error ?? "error";
    if (here) {
      composer.value = keep;
      composer.refuse(why);
    } else if (conv !== undefined) {
      conv.notice(`not sent (${why}): ${keep}`, "error");
      if (conv.draft === sent.line) conv.draft = keep;
    }
    return error !== null;
  }
  if (here) {
    composer.value = "";
    if (composer.mode?.kind === "reply") composer.setMode(null);
  } else if (conv !== undefined && conv.draft === sent.line) {
    conv.draft = "";
  }
  app.saveDrafts();
  return false;
}
