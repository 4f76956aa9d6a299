/**
 * The browser client: wires the parts together and holds what they share.
 * One WebSocket in the JSON format (connection.js); rooms and one conversation
 * per person (conversations.js, messages.js); the box (composer.js,
 * commands.js); the panels (sidebar.js); mentions and notifications
 * (attention.js); typing (typing.js); search (search.js); what is remembered
 * across reloads (remember.js). The server's events are handled in events.js.
 *
 * Text from the server only ever reaches the page through `textContent`
 * (see `el` in dom.js): nothing a user types is parsed as HTML.
 */

import { Attention } from "./attention.js";
import { MessageActions } from "./actions.js";
import { COMMANDS, HELP, planInput } from "./commands.js";
import { Composer, frameBytes } from "./composer.js";
import { Connection } from "./connection.js";
import { Conversations, dmKey, HOME } from "./conversations.js";
import { el, srOnly } from "./dom.js";
import { handle } from "./events.js";
import { lost } from "./session.js";
import { remember } from "./remember.js";
import { Reading } from "./reading.js";
import { Search } from "./search.js";
import { submit } from "./sending.js";
import { renderMembers, renderRooms, setupPanels } from "./sidebar.js";
import { setupTheme } from "./theme.js";
import { Typing } from "./typing.js";
import { ui } from "./ui.js";

export const LOBBY = "lobby";
/** Messages asked for per scrollback page. */
const OLDER_PAGE = 50;
const ROOMS_REFRESH_MS = 10_000;
/**
 * The box's count measures a line's frame with the widest ref there can be:
 * typing, read markers and list refreshes take refs at any moment, and a
 * line shown as fitting must still fit when it goes.
 */
const WIDEST_REF = Number.MAX_SAFE_INTEGER;

/** @typedef {import("./conversations.js").Conversation} Conversation */
/** @typedef {import("./connection.js").Meta} Meta */
/** @typedef {typeof app} App */

const state = {
  nick: "",
  /** Signed in with a token the server issued (a registered nick). */
  signedIn: false,
  /** The nick to take again after a reconnect or a reload. @type {string | null} */
  wantedNick: remember.nick,
  nickRetries: 0,
  /** The key of the conversation on screen: a room's name, `@nick`, or HOME. */
  view: HOME,
  /** Rooms the server puts us in that we do not want (the lobby, after a reload). */
  expectLeave: new Set(),
  /** Member counts (and unread) from the last `rooms` reply. @type {Map<string, number>} */
  serverRooms: new Map(),
  /** @type {string[]} */
  members: [],
};

const conn = new Connection({
  event: (ev, meta) => handle(app, ev, meta),
  lost: (metas) => lost(app, metas),
  waiting: (kind) => setStatus(kind, kind === "offline" ? "offline" : `${kind}…`),
});

const convs = new Conversations(ui.logs, () => state.nick, {
  older: (conv) => reading.older(conv, OLDER_PAGE),
  action: (conv, act, shown, target) => actions.act(conv, act, shown, target),
});

const composer = new Composer(
  {
    input: ui.message,
    count: ui.composerCount,
    live: ui.composerLive,
    error: ui.composerError,
    context: ui.composerContext,
    contextText: ui.composerContextText,
  },
  {
    measure(text) {
      const plan = planInput(text, where());
      if (!("steps" in plan)) return frameBytes({ type: "say", text, ref: WIDEST_REF });
      return Math.max(...plan.steps.map((s) => frameBytes({ ...s.request, ref: WIDEST_REF })));
    },
    nicks() {
      const conv = viewed();
      const pool = conv.kind === "dm" ? [conv.name] : state.members;
      return pool.filter((n) => n !== state.nick);
    },
    commands: () => COMMANDS,
    editLast() {
      const conv = viewed();
      const last = conv.isRoom ? conv.lastOwn() : undefined;
      if (last === undefined || last.id === undefined) return false;
      composer.setMode({
        kind: "edit",
        room: conv.name,
        id: last.id,
        nick: last.nick,
        text: last.text,
      });
      return true;
    },
    submit: () => submit(app),
  },
);

/** The conversation on screen. @returns {Conversation} */
function viewed() {
  return convs.get(state.view) ?? convs.home();
}

/** Where the box's text would go, for planning it. */
function where() {
  return {
    conv: viewed(),
    nick: state.nick,
    mode: composer.mode,
    local: {
      help: () => ({ local: () => HELP.forEach((text) => tell(text)) }),
      search: (/** @type {string} */ rest) =>
        rest === "" ? { error: "usage: /search <text>" } : { local: () => search.run(rest) },
      logout: (/** @type {string} */ rest) => ({
        steps: [{
          request: { type: "logout", ...(rest === "all" ? { all: true } : {}) },
          meta: { kind: "logout" },
        }],
      }),
    },
  };
}

/** A notice in the view the user is looking at. @param {string} text */
function tell(text, kind = "info") {
  viewed().notice(text, kind);
}

/** @param {string} kind @param {string} text */
function setStatus(kind, text) {
  ui.status.dataset.state = kind;
  if (ui.status.textContent !== text) ui.status.textContent = text;
}

/**
 * Sends a request; `meta` says what its reply is for. Returns the ref, or
 * false (telling the user, unless it was a background request) when offline.
 * @param {Record<string, unknown>} request @param {Meta} [meta]
 */
function send(request, meta = { kind: String(request.type) }) {
  const ref = conn.send(request, meta);
  const quiet = ["refresh", "typing", "read", "older"].includes(meta.kind);
  if (ref === false && !quiet) tell("not connected: try again in a moment", "error");
  return ref;
}

// --- lists, refreshed lazily -------------------------------------------------------------------

const lists = { rooms: false, who: false, /** @type {any} */ timer: undefined };

/** Asks for the room list and/or the viewed room's members soon (bursts become one request). */
function refresh(rooms = true, who = true) {
  lists.rooms ||= rooms;
  lists.who ||= who;
  lists.timer ??= setTimeout(() => {
    lists.timer = undefined;
    if (!conn.online) return;
    if (lists.rooms) send({ type: "rooms" }, { kind: "refresh" });
    if (lists.who && viewed().isRoom) {
      send({ type: "who", room: state.view }, { kind: "refresh", room: state.view });
    }
    lists.rooms = false;
    lists.who = false;
  }, 120);
}
setInterval(() => refresh(true, false), ROOMS_REFRESH_MS);

// --- the box -------------------------------------------------------------------------------------

ui.composerForm.addEventListener("submit", (event) => {
  event.preventDefault();
  submit(app);
});
ui.message.addEventListener("input", () => typing.input());
ui.composerContextCancel.addEventListener("click", () => {
  composer.setMode(null);
  ui.message.focus();
});

// --- showing conversations -------------------------------------------------------------------------

function showNick(force = false) {
  if (force || document.activeElement !== ui.nick) ui.nick.value = state.nick;
  ui.nick.removeAttribute("aria-invalid");
  ui.account.replaceChildren();
  if (state.signedIn) {
    const out = el("button", "link-button", "Sign out");
    out.type = "button";
    out.addEventListener("click", () => send({ type: "logout" }, { kind: "logout" }));
    ui.account.append(`Signed in as ${state.nick}. `, out);
  } else {
    ui.account.append("Guest: /register <password> keeps this nick.");
  }
}

/** The header of the open conversation: the room, or who the direct messages are with. @param {Conversation} conv */
function showTitle(conv) {
  if (conv.kind === "dm") {
    ui.viewTitle.replaceChildren(
      el("span", "view-kind", "Direct messages with "),
      el("span", "", conv.name),
    );
  } else {
    ui.viewTitle.textContent = conv.isRoom ? conv.name : "No conversation open";
  }
  attention.title();
}

/** The box's label and placeholder name where Enter sends the line. */
function updateComposer() {
  const conv = viewed();
  const label = ui.messageLabel;
  if (conv.kind === "dm") {
    // Visible next to the box: a direct message goes to one person, named here.
    label.className = "composer-to";
    label.replaceChildren(srOnly("Message "), "to ", el("span", "", conv.name));
    ui.message.placeholder = `Direct message to ${conv.name}`;
  } else if (conv.isRoom) {
    label.className = "visually-hidden";
    label.textContent = `Message to ${conv.name}`;
    ui.message.placeholder = `Message ${conv.name}`;
  } else {
    label.className = "visually-hidden";
    label.textContent = "Message";
    ui.message.placeholder = "Join a room, or /msg nick text";
  }
  composer.update();
}

/** Remembers what is open, for the next visit. */
function rememberOpen() {
  remember.rooms = convs.rooms().map((c) => c.name);
  remember.people = convs.dms().map((c) => c.name);
}

/**
 * Shows a conversation; the box takes its draft, and keeps the one left.
 * @param {string} key @param {boolean} focusComposer
 */
function show(key, focusComposer) {
  const conv = convs.get(key);
  if (conv === undefined) return;
  const before = convs.get(state.view);
  search.close(false);
  closePanels();
  if (before !== undefined && before !== conv) {
    // What was on screen until now is read, even if the marker had not caught up yet.
    if (!before.log.hidden) reading.upTo(before);
    before.log.hidden = true;
    before.clearNew();
    before.draft = composer.value;
    typing.stop();
    if (composer.mode !== null) composer.setMode(null);
    composer.value = conv.draft;
    composer.clearError();
    state.members = [];
  }
  state.view = key;
  if (key !== HOME) remember.view = key;
  conv.log.hidden = false;
  if (conv.unread > 0 && before !== conv) conv.markNew();
  conv.unread = 0;
  conv.mentions = 0;
  if (conv.stick) conv.scrollToEnd();
  showTitle(conv);
  renderMembers(app);
  updateComposer();
  renderRooms(app);
  typing.render();
  reading.mark();
  refresh(false, true);
  if (focusComposer) ui.message.focus();
}

/** The tab is in sight again: what arrived meanwhile in the open conversation is read. */
function seen() {
  const conv = viewed();
  if (conv.unread > 0) conv.markNew();
  conv.unread = 0;
  conv.mentions = 0;
  renderRooms(app);
  reading.mark();
}

/** Opens (or starts) the conversation with `nick`, ready to type. @param {string} nick */
function openDm(nick) {
  const conv = convs.dm(nick);
  rememberOpen();
  show(conv.key, true);
}

/**
 * Joins a room, or shows it when already in it (the server checks the name).
 * @param {string} room @param {string} kind what the reply answers
 */
function joinRoom(room, kind = "join") {
  const wanted = room.trim();
  const name = wanted.replace(/^#/, "").toLowerCase();
  if (name === "") return false;
  if (convs.get(name)?.isRoom) {
    show(name, true);
    return true;
  }
  return send({ type: "join", room: wanted }, { kind });
}

/** @param {string} room */
function leaveRoom(room) {
  if (!convs.get(room)?.isRoom) return false;
  return send({ type: "leave", room }, { kind: "leave" });
}

ui.nickForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const nick = ui.nick.value.trim();
  ui.nickError.textContent = "";
  ui.nick.removeAttribute("aria-invalid");
  if (nick === "" || nick === state.nick) return;
  send({ type: "nick", nick }, { kind: "nick" });
});

ui.joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  ui.joinError.textContent = "";
  ui.room.removeAttribute("aria-invalid");
  const room = ui.room.value.trim();
  if (room === "") return;
  // Cleared once joined, so a refused name can be corrected.
  if (convs.get(room.replace(/^#/, "").toLowerCase())?.isRoom) ui.room.value = "";
  joinRoom(room, "join-form");
});

ui.nick.addEventListener("input", () => {
  ui.nickError.textContent = "";
  ui.nick.removeAttribute("aria-invalid");
});

ui.room.addEventListener("input", () => {
  ui.joinError.textContent = "";
  ui.room.removeAttribute("aria-invalid");
});

addEventListener("online", () => conn.resume());
/** Drafts are kept in storage as they are typed: a crash or a closed tab loses nothing. */
let draftTimer = 0;
function saveDrafts() {
  clearTimeout(draftTimer);
  const conv = convs.get(state.view);
  if (conv !== undefined) conv.draft = composer.value;
  remember.drafts = Object.fromEntries(
    [...convs.values()].filter((c) => c.draft !== "").map((c) => [c.key, c.draft]),
  );
}
ui.message.addEventListener("input", () => {
  clearTimeout(draftTimer);
  draftTimer = setTimeout(saveDrafts, 300);
});
addEventListener("pagehide", () => {
  saveDrafts();
  // A reload right after a line arrived: the marker must not lag behind what was seen.
  reading.flush();
});

export const app = {
  ui,
  state,
  conn,
  convs,
  composer,
  send,
  tell,
  refresh,
  show,
  seen,
  openDm,
  joinRoom,
  leaveRoom,
  where,
  setStatus,
  showNick,
  showTitle,
  updateComposer,
  rememberOpen,
  saveDrafts,
  viewed,
  renderRooms: () => renderRooms(app),
  renderMembers: () => renderMembers(app),
  /** @type {Attention} */
  attention: /** @type {any} */ (null),
  /** @type {Typing} */
  typing: /** @type {any} */ (null),
  /** @type {Search} */
  search: /** @type {any} */ (null),
  /** @type {Reading} */
  reading: /** @type {any} */ (null),
};
const attention = new Attention(app);
const typing = new Typing(app);
const search = new Search(app);
const reading = new Reading(app);
const actions = new MessageActions(app);
app.reading = reading;
app.attention = attention;
app.typing = typing;
app.search = search;
const closePanels = setupPanels(app);
setupTheme(ui.themeToggle);

/**
 * A small handle for debugging and tests: `dropConnection()` closes the
 * socket as a network failure would (with `stayOffline`, no reconnect until
 * `reconnect()`).
 */
Object.defineProperty(globalThis, "chatClient", {
  value: Object.freeze({
    get nick() {
      return state.nick;
    },
    get connected() {
      return conn.online;
    },
    get view() {
      return state.view;
    },
    get signedIn() {
      return state.signedIn;
    },
    /** The largest message id seen per room. */
    lastIds() {
      return Object.fromEntries(convs.rooms().map((c) => [c.name, c.lastId]));
    },
    dropConnection(stayOffline = false) {
      conn.drop(Boolean(stayOffline));
    },
    reconnect() {
      conn.resume();
    },
  }),
});

// The conversations of the last visit are back at once (empty until the server fills them).
const drafts = remember.drafts;
const rooms = remember.rooms;
for (const room of rooms.length > 0 ? rooms : [LOBBY]) convs.room(room).draft = drafts[room] ?? "";
for (const nick of remember.people) convs.dm(nick).draft = drafts[dmKey(nick)] ?? "";
const first = convs.get(remember.view ?? "") ?? convs.rooms()[0] ?? convs.home();
show(first.key, false);
composer.value = first.draft;
showNick();
setStatus("connecting", "connecting…");
conn.connect();
