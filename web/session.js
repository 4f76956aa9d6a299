/**
 * Who the user is and where they were, across connections: on welcome the
 * token (or a guest's nick) is claimed again, the rooms open before are
 * joined again and the gap since the last message seen is filled; a lost
 * connection says what may not have arrived.
 */

import { DEFAULT_MAX_LINE_BYTES } from "./composer.js";
import { dmKey } from "./conversations.js";
import { remember } from "./remember.js";

/** @typedef {import("./app.js").App} App */
/** @typedef {import("./connection.js").Meta} Meta */
/** @typedef {import("./conversations.js").Conversation} Conversation */

const LOBBY = "lobby";
/** Messages asked for per `history` request when filling a gap. */
export const GAP_PAGE = 1000;
const NICK_RETRY_MS = 3000;
const NICK_RETRIES = 10;

/** The connection dropped: what was not answered may not have arrived. @param {App} app @param {Meta[]} metas */
export function lost(app, metas) {
  const { convs, composer } = app;
  for (const meta of metas) {
    if (meta.text === undefined) continue;
    const conv = convs.get(meta.conv ?? meta.room ?? "");
    conv?.notice(`not confirmed before the connection dropped: ${meta.text}`, "warn");
  }
  // Lines sent from the box are still in it (or in a draft): they can go again.
  composer.pending = null;
  for (const conv of convs.values()) {
    conv.loadingOlder = false;
    conv.typing.clear();
  }
  app.typing.render();
  if (app.conn.everReady) {
    for (const conv of convs.values()) conv.notice("disconnected; reconnecting…", "warn");
  }
}

/** @param {App} app @param {any} ev */
export function onWelcome(app, ev) {
  const { state, conn, convs, composer } = app;
  const reconnect = conn.everReady;
  state.nick = ev.nick;
  conn.welcomed();
  const max = ev.maxLineBytes;
  composer.setLimit(Number.isSafeInteger(max) && max > 0 ? max : DEFAULT_MAX_LINE_BYTES);
  state.nickRetries = 0;
  state.signedIn = false;
  app.showNick();
  app.setStatus("connected", "connected");
  if (ev.password) app.tell("this server needs a password: /pass <password>", "warn");
  // Who we were: the token brings a registered nick back; a guest asks for its nick again.
  const token = remember.token;
  if (token !== null) app.send({ type: "resume", token }, { kind: "resume" });
  else if (state.wantedNick !== null && state.wantedNick !== ev.nick) claimNick(app);
  else remember.nick = ev.nick;
  // Where we were: the rooms open before (the server put us in the lobby).
  const rooms = convs.rooms();
  if (!rooms.some((c) => c.name === LOBBY)) {
    state.expectLeave.add(LOBBY);
    app.send({ type: "leave", room: LOBBY }, { kind: "unlobby" });
  }
  for (const conv of rooms) {
    if (conv.name !== LOBBY) {
      app.send({ type: "join", room: conv.name }, { kind: "rejoin", room: conv.name });
    }
  }
  for (const conv of rooms) if (conv.lastId > 0) fillGap(app, conv, conv.lastId);
  if (token !== null) app.send({ type: "kept" }, { kind: "kept" });
  if (reconnect) {
    for (const conv of convs.values()) conv.notice("reconnected", "ok");
  } else {
    app.tell(`welcome to ${ev.server}: you are ${ev.nick}`, "ok");
  }
  app.refresh();
}

/** @param {App} app */
function claimNick(app) {
  const nick = app.state.wantedNick;
  if (nick !== null) app.send({ type: "nick", nick }, { kind: "reclaim" });
}

/** Asks for what the room got after `after`. @param {App} app @param {Conversation} conv @param {number} after */
export function fillGap(app, conv, after) {
  app.send({ type: "history", room: conv.name, after, limit: GAP_PAGE }, {
    kind: "gap",
    room: conv.name,
  });
}

/** @param {App} app @param {any} ev @param {Meta | undefined} meta */
export function onNick(app, ev, meta) {
  const { convs, state } = app;
  if (ev.old === state.nick || meta?.kind === "resume") {
    state.nick = ev.nick;
    state.wantedNick = ev.nick;
    remember.nick = ev.nick;
    app.ui.nickError.textContent = "";
    if (meta?.kind === "resume") {
      state.signedIn = true;
      // A signed-in nick's direct messages are kept: the conversations fill again.
      for (const conv of convs.dms()) {
        app.send({ type: "history", with: conv.name, limit: 100 }, {
          kind: "dm-history",
          conv: conv.key,
        });
      }
    }
    app.showNick(meta?.kind === "nick");
    if (meta?.kind === "claim") app.send({ type: "token" }, { kind: "token" });
    if (meta?.kind === "reclaim" || meta?.kind === "resume") return app.refresh(false, true);
    const text = ev.old === ev.nick
      ? `you are already known as ${ev.nick}`
      : `you are now known as ${ev.nick}`;
    for (const conv of convs.values()) conv.notice(text, "ok");
    app.refresh(false, true);
    return;
  }
  const text = `${ev.old} is now known as ${ev.nick}`;
  app.tell(text);
  // The conversation with them follows, and so does the box when it is open.
  const wasViewed = state.view === dmKey(ev.old);
  const conv = convs.rename(ev.old, ev.nick);
  if (conv !== undefined) {
    if (wasViewed) {
      state.view = conv.key;
      app.showTitle(conv);
      app.updateComposer();
    } else {
      conv.notice(text);
    }
    app.rememberOpen();
    app.renderRooms();
  }
  app.refresh(false, true);
}

/**
 * A reply about who the user is went wrong: a guest's nick is still held by
 * the connection before a reload (tried again a few times), or the sign-in
 * has ended. Returns true when handled here.
 * @param {App} app @param {any} ev @param {Meta | undefined} meta
 */
export function identityError(app, ev, meta) {
  const { state } = app;
  const text = String(ev.message ?? ev.code ?? "error");
  switch (meta?.kind) {
    case "reclaim":
      // After a reload the old connection may not be gone yet: try again a few times.
      if (ev.code === "nick_taken" && state.nickRetries++ < NICK_RETRIES) {
        if (state.nickRetries === 1) app.tell(`${text}; trying again`, "warn");
        setTimeout(() => {
          if (app.conn.online && state.wantedNick !== state.nick) claimNick(app);
        }, NICK_RETRY_MS);
        return true;
      }
      app.tell(text, "error");
      state.wantedNick = state.nick;
      remember.nick = state.nick;
      return true;
    case "resume":
      remember.token = null;
      app.tell(`${text}`, "warn");
      return true;
    default:
      return false;
  }
}
