/**
 * The browser client: one WebSocket in the JSON format, rooms, direct
 * conversations (one per person), members, and a reconnect that fills the gap
 * from history.
 *
 * Text from the server only ever reaches the page through `textContent`
 * (see `el` in dom.js): nothing a user types is parsed as HTML.
 */

import { Composer, DEFAULT_MAX_LINE_BYTES, frameBytes } from "./composer.js";
import { Conversations, dmKey } from "./conversations.js";
import { byId, el, nickClass, srOnly } from "./dom.js";

/** @typedef {import("./conversations.js").Conversation} Conversation */

const LOBBY = "lobby";
/** Messages asked for per `history` request when filling a gap. */
const HISTORY_PAGE = 1000;
const ROOMS_REFRESH_MS = 10_000;
/**
 * A connection that has sent nothing for this long is given up: the room
 * list refresh gets a reply every ROOMS_REFRESH_MS on a live one.
 */
const STALE_MS = 35_000;
const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 5000;
const CONNECT_TIMEOUT_MS = 10_000;
const NICK_RETRY_MS = 3000;
const NICK_RETRIES = 10;

const HELP = [
  "text: says it in the open room, or to the person of the open direct conversation " +
  "(//text says /text)",
  "/me <text>: an action, shown as * nick text",
  "/msg <nick> <text>: a direct message (opens the conversation with nick)",
  "/join <room>: joins a room (or switches to it)",
  "/leave [<room>]: leaves the named or current room",
  "/nick <name> [<password>]: changes your nick (the password claims a registered one)",
  "/pass <password>: the server password, where there is one",
  "/register <password>: registers your nick",
  "/topic [<text>], /kick, /ban, /unban, /op, /deop <nick>, /lock <password>|off: room operators",
  "/admin <password>, /stats: server operators",
  "/who, /rooms: refreshes the member and room lists",
];

const ui = {
  status: byId("status"),
  nickForm: /** @type {HTMLFormElement} */ (byId("nick-form")),
  nick: /** @type {HTMLInputElement} */ (byId("nick")),
  nickError: byId("nick-error"),
  roomList: byId("room-list"),
  dmTitle: byId("dm-title"),
  dmList: byId("dm-list"),
  otherRooms: byId("other-rooms"),
  otherRoomsTitle: byId("other-rooms-title"),
  joinForm: /** @type {HTMLFormElement} */ (byId("join-form")),
  room: /** @type {HTMLInputElement} */ (byId("room")),
  joinError: byId("join-error"),
  viewTitle: byId("view-title"),
  logs: byId("logs"),
  composer: /** @type {HTMLFormElement} */ (byId("composer")),
  messageLabel: byId("message-label"),
  message: /** @type {HTMLInputElement} */ (byId("message")),
  composerCount: byId("composer-count"),
  composerLive: byId("composer-live"),
  composerError: byId("composer-error"),
  membersTitle: byId("members-heading"),
  memberList: byId("member-list"),
};

// --- state -------------------------------------------------------------------------------------

const state = {
  /** @type {WebSocket | null} */
  socket: null,
  connected: false,
  everConnected: false,
  /** No reconnect until released (see `chatClient.dropConnection`). */
  held: false,
  retries: 0,
  /** When the server last sent something. */
  lastFrameAt: 0,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  reconnectTimer: undefined,
  /** @type {ReturnType<typeof setInterval> | undefined} */
  roomsTimer: undefined,
  nick: "",
  /** The nick the user chose; claimed again after a reconnect. @type {string | null} */
  wantedNick: null,
  nickRetries: 0,
  /** The key of the conversation on screen: a room's name, `@nick`, or HOME. */
  view: LOBBY,
  nextRef: 1,
  /** What each request in flight was for (and, for lines, their text). @type {Map<number, Meta>} */
  pending: new Map(),
  /** Rooms the server puts us in that we do not want (the lobby after a reconnect). */
  expectLeave: new Set(),
  /** Member counts from the last `rooms` reply. @type {Map<string, number>} */
  serverRooms: new Map(),
  /** @type {string[]} */
  members: [],
};

/**
 * What a request was for, so its reply can be placed: `conv` is the key of the
 * conversation a line was said in, `open` shows that conversation once sent.
 * @typedef {{kind: string, room?: string, conv?: string, text?: string, open?: boolean}} Meta
 */

const convs = new Conversations(ui.logs, () => state.nick);

function joinedRooms() {
  return convs.rooms();
}

/** @returns {Conversation} */
function viewed() {
  return convs.get(state.view) ?? convs.home();
}

const composer = new Composer(
  {
    input: ui.message,
    count: ui.composerCount,
    live: ui.composerLive,
    error: ui.composerError,
  },
  (line) => {
    const plan = planInput(line);
    return frameBytes({
      ...("request" in plan ? plan.request : { type: "say", text: line }),
      ref: state.nextRef,
    });
  },
);

/** A notice in the view the user is looking at. @param {string} text */
function tell(text, kind = "info") {
  viewed().notice(text, kind);
}

// --- the connection ----------------------------------------------------------------------------

/** @param {"connecting" | "connected" | "reconnecting" | "offline"} kind @param {string} text */
function setStatus(kind, text) {
  ui.status.dataset.state = kind;
  if (ui.status.textContent !== text) ui.status.textContent = text;
}

function connect() {
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = undefined;
  if (state.held || state.socket !== null) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  let socket;
  try {
    socket = new WebSocket(`${scheme}//${location.host}/ws?format=json`);
  } catch {
    scheduleReconnect();
    return;
  }
  state.socket = socket;
  const timer = setTimeout(() => {
    if (socket.readyState === WebSocket.CONNECTING) socket.close();
  }, CONNECT_TIMEOUT_MS);
  socket.addEventListener("open", () => clearTimeout(timer));
  socket.addEventListener("message", (event) => {
    if (socket !== state.socket || typeof event.data !== "string") return;
    state.lastFrameAt = Date.now();
    // A frame may hold several events, one JSON object per line.
    for (const item of event.data.split("\n")) {
      if (item.trim() === "") continue;
      let data;
      try {
        data = JSON.parse(item);
      } catch {
        continue;
      }
      if (data !== null && typeof data === "object" && typeof data.type === "string") {
        try {
          handle(data);
        } catch (err) {
          console.warn("event not handled", data.type, err);
        }
      }
    }
  });
  socket.addEventListener("close", () => {
    clearTimeout(timer);
    if (socket !== state.socket) return;
    disconnected();
  });
}

function disconnected() {
  const wasConnected = state.connected;
  state.socket = null;
  state.connected = false;
  // Lines sent but not acknowledged may or may not have arrived: say so.
  for (const meta of state.pending.values()) {
    if (meta.text === undefined) continue;
    const conv = convs.get(meta.conv ?? meta.room ?? "");
    conv?.notice(`not confirmed before the connection dropped: ${meta.text}`, "warn");
  }
  state.pending.clear();
  // A line sent from the box is still in it (or in its conversation's draft): it can go again.
  composer.pending = null;
  clearInterval(state.roomsTimer);
  clearTimeout(lists.timer);
  lists.timer = undefined;
  if (wasConnected) {
    for (const conv of convs.values()) conv.notice("disconnected; reconnecting…", "warn");
  }
  scheduleReconnect();
}

function scheduleReconnect() {
  if (state.held) {
    setStatus("offline", "offline");
    return;
  }
  if (state.everConnected) setStatus("reconnecting", "reconnecting…");
  else setStatus("connecting", "connecting…");
  // Exponential backoff with a little jitter, never above the cap.
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** state.retries);
  state.retries = Math.min(state.retries + 1, 10);
  const wait = Math.round(base * (0.8 + 0.2 * Math.random()));
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = setTimeout(connect, wait);
}

function online() {
  const socket = state.socket;
  return socket !== null && state.connected && socket.readyState === WebSocket.OPEN;
}

/**
 * Sends one request with a fresh `ref`; `meta` says what its reply is for.
 * Returns the ref, or false (and tells the user) when there is no connection.
 * @param {Record<string, unknown>} request
 * @param {Meta} meta
 * @returns {number | false}
 */
function send(request, meta = { kind: String(request.type) }) {
  const socket = state.socket;
  if (socket === null || !online()) {
    if (meta.kind !== "refresh") tell("not connected: try again in a moment", "error");
    return false;
  }
  const ref = state.nextRef++;
  state.pending.set(ref, meta);
  socket.send(JSON.stringify({ ...request, ref }));
  // The box's count measures the next request with its ref: one digit more is one byte more.
  if (String(ref).length !== String(state.nextRef).length) composer.update();
  return ref;
}

/** The request a reply answers (and forgets it). @param {unknown} ref */
function answered(ref) {
  if (typeof ref !== "number") return undefined;
  const meta = state.pending.get(ref);
  state.pending.delete(ref);
  return meta;
}

// --- lists, refreshed lazily -------------------------------------------------------------------

const lists = {
  rooms: false,
  who: false,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  timer: undefined,
};

/** Asks for the room list and/or the viewed room's members soon (bursts become one request). */
function refresh(rooms = true, who = true) {
  lists.rooms ||= rooms;
  lists.who ||= who;
  lists.timer ??= setTimeout(() => {
    lists.timer = undefined;
    if (!state.connected) return;
    if (lists.rooms) send({ type: "rooms" }, { kind: "refresh" });
    if (lists.who && viewed().isRoom) {
      send({ type: "who", room: state.view }, { kind: "refresh", room: state.view });
    }
    lists.rooms = false;
    lists.who = false;
  }, 120);
}

// --- events from the server --------------------------------------------------------------------

/** @param {any} ev */
function handle(ev) {
  if (settleComposer(ev)) return;
  switch (ev.type) {
    case "welcome":
      return onWelcome(ev);
    case "message": {
      answered(ev.ref);
      const conv = convs.get(ev.room);
      if (conv === undefined || !conv.isRoom) return;
      if (conv.addMessage(ev) && ev.nick !== state.nick) countUnread(conv, 1);
      return;
    }
    case "history":
      return onHistory(ev, answered(ev.ref));
    case "dm":
      return onDm(ev, answered(ev.ref));
    case "joined":
      return onJoined(ev, answered(ev.ref));
    case "left":
      return onLeft(ev, answered(ev.ref));
    case "nick":
      return onNick(ev, answered(ev.ref));
    case "summary": {
      const conv = convs.get(ev.room);
      const moves = `${ev.joined} joined, ${ev.left} left in the last ${ev.seconds} s`;
      conv?.notice(moves);
      refresh(true, ev.room === state.view);
      return;
    }
    case "current": {
      const meta = answered(ev.ref);
      // A join of a room we are already in: the server just made it current.
      const join = meta?.kind === "join" || meta?.kind === "join-form";
      if (join && typeof ev.room === "string" && convs.has(ev.room)) {
        show(ev.room, true);
      }
      return;
    }
    case "rooms": {
      const meta = answered(ev.ref);
      state.serverRooms = new Map(ev.rooms.map((r) => [r.room, r.members]));
      renderRooms();
      if (meta?.kind === "rooms") {
        const names = ev.rooms.map((r) => `${r.room} (${r.members})`).join(", ");
        tell(`rooms: ${names || "none"}`);
      }
      return;
    }
    case "who": {
      const meta = answered(ev.ref);
      if (ev.room === state.view) {
        state.members = ev.members;
        state.serverRooms.set(ev.room, ev.members.length);
        renderMembers();
        renderRooms();
      }
      if (meta?.kind === "who") tell(`members of ${ev.room}: ${ev.members.join(", ")}`);
      return;
    }
    case "help":
      answered(ev.ref);
      return;
    case "notice":
      answered(ev.ref);
      tell(ev.text, "ok");
      return;
    case "moderation":
      convs.get(ev.room)?.notice(moderationText(ev));
      return;
    case "topic": {
      answered(ev.ref);
      const text = ev.changed
        ? ev.topic === null ? `${ev.by} cleared the topic` : `${ev.by} set the topic: ${ev.topic}`
        : ev.topic === null
        ? `no topic in ${ev.room}`
        : `topic: ${ev.topic} (set by ${ev.by})`;
      (convs.get(ev.room) ?? viewed()).notice(text);
      return;
    }
    case "stats": {
      answered(ev.ref);
      const by = Object.entries(ev.connections).map(([t, n]) => `${t} ${n}`).join(", ");
      tell(
        `stats: connections ${by}, ${ev.rooms} rooms, ${ev.messagesPerSecond.toFixed(1)} ` +
          `messages/s in, ${ev.eventsPerSecond.toFixed(1)} events/s out, up ${ev.uptimeSeconds} s`,
      );
      return;
    }
    case "bye":
      return;
    case "shutdown":
      for (const conv of convs.values()) conv.notice("server shutting down", "warn");
      // Give it time to go (and a successor time to start) before the first retry.
      state.retries = Math.max(state.retries, 2);
      return;
    case "error":
      return onError(ev, answered(ev.ref));
  }
}

/**
 * The server's answer to the line the box sent: taken, the box is cleared (or
 * the draft it went into when another conversation was opened meanwhile);
 * refused, the text stays and the error shows next to it. A frame too long is
 * refused unread, so its error has no ref. Returns true when the event is
 * fully handled here.
 * @param {any} ev
 */
function settleComposer(ev) {
  const sent = composer.pending;
  if (sent === null) return false;
  const unread = ev.ref === undefined && ev.code === "line_too_long";
  if (ev.ref !== sent.ref && !(ev.type === "error" && unread)) return false;
  composer.pending = null;
  if (ev.type === "error") {
    state.pending.delete(sent.ref);
    const text = String(ev.message ?? ev.code ?? "error");
    if (sent.key === state.view) composer.refuse(text);
    else convs.get(sent.key)?.notice(`not sent (${text}): ${sent.line}`, "error");
    return true;
  }
  const conv = convs.get(sent.key);
  if (sent.key === state.view && ui.message.value === sent.line) {
    ui.message.value = "";
    composer.update();
  } else if (conv !== undefined && conv.draft === sent.line) {
    conv.draft = "";
  }
  return false;
}

/**
 * A direct message, sent or received: it goes to the conversation with the
 * other person, never to another one.
 * @param {any} ev @param {Meta | undefined} meta
 */
function onDm(ev, meta) {
  const peer = ev.from === state.nick ? ev.to : ev.from;
  const conv = convs.dm(peer);
  conv.addDm(ev);
  if (meta?.open) {
    show(conv.key, true);
    return;
  }
  if (ev.from !== state.nick && conv.key !== state.view) conv.unread++;
  if (conv.key === state.view) {
    // The nick as the server spells it now.
    showTitle(conv);
    updateComposer();
  }
  renderRooms();
}

/** @param {any} ev */
function moderationText(ev) {
  switch (ev.action) {
    case "op":
      return `${ev.by} made ${ev.nick} an operator`;
    case "deop":
      return `${ev.by} removed ${ev.nick} as an operator`;
    case "ban":
      return `${ev.by} banned ${ev.nick}`;
    case "unban":
      return `${ev.by} lifted the ban on ${ev.nick}`;
    case "lock":
      return `${ev.by} locked ${ev.room}`;
    default:
      return `${ev.by} unlocked ${ev.room}`;
  }
}

/** @param {any} ev */
function onWelcome(ev) {
  state.nick = ev.nick;
  const max = ev.maxLineBytes;
  composer.setLimit(Number.isSafeInteger(max) && max > 0 ? max : DEFAULT_MAX_LINE_BYTES);
  state.connected = true;
  state.retries = 0;
  state.nickRetries = 0;
  showNick();
  setStatus("connected", "connected");
  if (ev.password) tell("this server needs a password: /pass <password>", "warn");
  const reconnect = state.everConnected;
  state.everConnected = true;
  if (reconnect) {
    // The server knows nothing of us: claim the nick again, rejoin, and fill the gap.
    if (state.wantedNick !== null && state.wantedNick !== ev.nick) claimNick();
    const rooms = joinedRooms();
    if (!convs.has(LOBBY)) {
      state.expectLeave.add(LOBBY);
      send({ type: "leave", room: LOBBY }, { kind: "unlobby" });
    }
    for (const conv of rooms) {
      if (conv.name !== LOBBY) send({ type: "join", room: conv.name }, { kind: "rejoin" });
    }
    for (const conv of rooms) fillGap(conv, conv.lastId);
    for (const conv of convs.values()) conv.notice("reconnected", "ok");
  } else {
    tell(`welcome to ${ev.server}: you are ${ev.nick} (set your nick above)`, "ok");
  }
  clearInterval(state.roomsTimer);
  state.roomsTimer = setInterval(() => {
    const socket = state.socket;
    if (socket !== null && Date.now() - state.lastFrameAt > STALE_MS) {
      // Silent for too long (a network that vanished without a close): start over.
      disconnected();
      socket.close();
      return;
    }
    refresh(true, false);
  }, ROOMS_REFRESH_MS);
  refresh();
}

function claimNick() {
  if (state.wantedNick === null) return;
  send({ type: "nick", nick: state.wantedNick }, { kind: "reclaim" });
}

/** Asks for what the room got after `after`. @param {Conversation} conv @param {number} after */
function fillGap(conv, after) {
  send(
    { type: "history", room: conv.name, after, limit: HISTORY_PAGE },
    { kind: "gap", room: conv.name },
  );
}

/** @param {any} ev @param {Meta | undefined} meta */
function onHistory(ev, meta) {
  const conv = convs.get(ev.room);
  if (conv === undefined || !conv.isRoom) return;
  // The replay on a first join is old news; anything else is new to the reader.
  const fresh = meta?.kind === "gap" || conv.lastId > 0;
  let added = 0;
  for (const m of ev.messages) {
    if (conv.addMessage(m) && m.nick !== state.nick) added++;
  }
  if (fresh) countUnread(conv, added);
  const messages = ev.messages;
  if (meta?.kind === "gap" && messages.length >= HISTORY_PAGE) {
    fillGap(conv, messages[messages.length - 1].id);
  }
}

/** @param {any} ev @param {Meta | undefined} meta */
function onJoined(ev, meta) {
  if (ev.nick === state.nick) {
    if (state.expectLeave.has(ev.room)) return;
    const isNew = !convs.has(ev.room);
    const conv = convs.room(ev.room);
    if (isNew && meta?.kind !== "rejoin") conv.notice(`you joined ${ev.room}`, "ok");
    if (meta?.kind === "join-form") ui.room.value = "";
    if (meta?.kind === "join" || meta?.kind === "join-form") show(ev.room, true);
    renderRooms();
    refresh(true, ev.room === state.view);
    return;
  }
  convs.get(ev.room)?.notice(`${ev.nick} joined ${ev.room}`);
  refresh(true, ev.room === state.view);
}

/** @param {any} ev @param {Meta | undefined} meta */
function onLeft(ev, meta) {
  if (ev.nick === state.nick) {
    if (state.expectLeave.delete(ev.room) || meta?.kind === "unlobby") return;
    if (ev.reason === "kick" || ev.reason === "ban") {
      const done = ev.reason === "kick" ? "kicked" : "banned";
      tell(`you were ${done} from ${ev.room} by ${ev.by}${ev.message ? ` (${ev.message})` : ""}`);
    }
    const conv = convs.get(ev.room);
    if (conv === undefined || !conv.isRoom) return;
    convs.delete(ev.room);
    if (state.view === ev.room) {
      const next = joinedRooms().at(-1) ?? convs.dms().at(-1) ?? convs.home();
      show(next.key, false);
    }
    tell(`you left ${ev.room}`);
    renderRooms();
    refresh(true, false);
    return;
  }
  let why = "";
  if (ev.reason === "quit") why = ev.message ? ` (quit: ${ev.message})` : " (quit)";
  if (ev.reason === "kick" || ev.reason === "ban") {
    const done = ev.reason === "kick" ? "kicked" : "banned";
    const text = `${ev.nick} was ${done} by ${ev.by}${ev.message ? ` (${ev.message})` : ""}`;
    convs.get(ev.room)?.notice(text, "warn");
  } else {
    convs.get(ev.room)?.notice(`${ev.nick} left ${ev.room}${why}`);
  }
  refresh(true, ev.room === state.view);
}

/** @param {any} ev @param {Meta | undefined} meta */
function onNick(ev, meta) {
  if (ev.old === state.nick) {
    state.nick = ev.nick;
    state.wantedNick = ev.nick;
    ui.nickError.textContent = "";
    showNick(meta?.kind === "nick");
    const text = ev.old === ev.nick
      ? `you are already known as ${ev.nick}`
      : `you are now known as ${ev.nick}`;
    if (meta?.kind === "reclaim") return refresh(false, true);
    for (const conv of convs.values()) conv.notice(text, "ok");
    refresh(false, true);
    return;
  }
  const text = `${ev.old} is now known as ${ev.nick}`;
  tell(text);
  // The conversation with them follows, and so does the box when it is open.
  const wasViewed = state.view === dmKey(ev.old);
  const conv = convs.rename(ev.old, ev.nick);
  if (conv !== undefined) {
    if (wasViewed) {
      state.view = conv.key;
      showTitle(conv);
      updateComposer();
    } else {
      conv.notice(text);
    }
    renderRooms();
  }
  refresh(false, true);
}

/** @param {any} ev @param {Meta | undefined} meta */
function onError(ev, meta) {
  const text = String(ev.message ?? ev.code ?? "error");
  switch (meta?.kind) {
    case "nick":
      ui.nickError.textContent = text;
      ui.nick.setAttribute("aria-invalid", "true");
      return;
    case "join-form":
      ui.joinError.textContent = text;
      ui.room.setAttribute("aria-invalid", "true");
      return;
    case "reclaim":
      // After a reconnect the old connection may not be gone yet: try again a few times.
      if (ev.code === "nick_taken" && state.nickRetries++ < NICK_RETRIES) {
        if (state.nickRetries === 1) tell(`${text}; trying again`, "warn");
        setTimeout(() => {
          if (state.connected && state.wantedNick !== state.nick) claimNick();
        }, NICK_RETRY_MS);
        return;
      }
      tell(text, "error");
      return;
    case "refresh":
    case "unlobby":
      return;
    default:
      tell(text, "error");
  }
}

/** @param {Conversation} conv @param {number} n */
function countUnread(conv, n) {
  if (n <= 0 || conv.name === state.view) return;
  conv.unread += n;
  renderRooms();
}

// --- rendering ---------------------------------------------------------------------------------

/**
 * Rebuilds a list, keeping keyboard focus on the element with the same key.
 * @param {HTMLElement} list
 * @param {HTMLElement[]} items
 */
function replaceList(list, items) {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && list.contains(active)
    ? active.dataset.key
    : undefined;
  list.replaceChildren(...items);
  if (key !== undefined) {
    const again = list.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again instanceof HTMLElement) again.focus();
    else ui.message.focus();
  }
}

/**
 * @param {string} key
 * @param {string} label
 * @param {string} [className]
 */
function button(key, label, className) {
  const b = el("button", className, label);
  b.type = "button";
  b.dataset.key = key;
  return b;
}

/** A room's name, with a sigil screen readers skip. @param {string} sigil @param {string} name */
function roomName(sigil, name) {
  const span = el("span", "room-name");
  if (sigil !== "") {
    const mark = el("span", "sigil", sigil);
    mark.setAttribute("aria-hidden", "true");
    span.append(mark);
  }
  span.append(name);
  return span;
}

/**
 * The entry of a conversation in the list: its name, member count (rooms),
 * unread badge, and whether it is the one on screen.
 * @param {Conversation} conv @param {string} sigil
 */
function conversationItem(conv, sigil) {
  const li = el("li", `room-item ${conv.kind}`);
  const open = button(`view:${conv.key}`, "", "room-button");
  open.append(roomName(sigil, conv.name));
  if (conv.key === state.view) {
    open.setAttribute("aria-current", "true");
    li.classList.add("current");
  }
  const count = conv.isRoom ? state.serverRooms.get(conv.name) : undefined;
  if (count !== undefined) {
    const c = el("span", "room-count", String(count));
    c.append(srOnly(count === 1 ? " member" : " members"));
    open.append(" ", c);
  }
  if (conv.unread > 0) {
    const badge = el("span", "badge", String(conv.unread));
    badge.append(srOnly(" unread"));
    open.append(" ", badge);
  }
  open.addEventListener("click", () => show(conv.key, false));
  li.append(open);
  return li;
}

function renderRooms() {
  const rooms = joinedRooms().map((conv) => {
    const li = conversationItem(conv, "#");
    // The cross alone says nothing: the button is named by hidden text.
    const leave = button(`leave:${conv.name}`, "", "leave-button");
    const cross = el("span", "", "×");
    cross.setAttribute("aria-hidden", "true");
    leave.append(cross, srOnly(`Leave ${conv.name}`));
    leave.title = `Leave ${conv.name}`;
    leave.addEventListener("click", () => leaveRoom(conv.name));
    li.append(leave);
    return li;
  });
  replaceList(ui.roomList, rooms);

  const people = convs.dms().map((conv) => {
    const li = conversationItem(conv, "@");
    li.querySelector("button")?.setAttribute("title", `Direct messages with ${conv.name}`);
    return li;
  });
  ui.dmTitle.hidden = people.length === 0;
  replaceList(ui.dmList, people);

  const others = [...state.serverRooms].filter(([room]) => !convs.get(room)?.isRoom);
  const otherItems = others.map(([room, members]) => {
    const li = el("li", "room-item other");
    const join = button(`join:${room}`, "", "room-button");
    join.append(srOnly("Join "), roomName("#", room), " ");
    const c = el("span", "room-count", String(members));
    c.append(srOnly(members === 1 ? " member" : " members"));
    join.append(c);
    join.title = `Join ${room}`;
    join.addEventListener("click", () => joinRoom(room));
    li.append(join);
    return li;
  });
  ui.otherRoomsTitle.hidden = otherItems.length === 0;
  replaceList(ui.otherRooms, otherItems);

  const unread = [...convs.values()].reduce((n, c) => n + c.unread, 0);
  document.title = unread > 0 ? `(${unread}) chat` : "chat";
}

function renderMembers() {
  const conv = viewed();
  if (!conv.isRoom) {
    ui.membersTitle.textContent = "Members";
    const text = conv.kind === "dm" ? `only you and ${conv.name} see these` : "not in a room";
    replaceList(ui.memberList, [el("li", "member-empty", text)]);
    return;
  }
  const members = [...state.members].sort((a, b) =>
    a.localeCompare(b, undefined, { sensitivity: "base" })
  );
  ui.membersTitle.textContent = `Members (${members.length})`;
  replaceList(
    ui.memberList,
    members.map((nick) => {
      const li = el("li", "member");
      if (nick === state.nick) {
        li.append(el("span", nickClass(nick), nick), el("span", "you", " (you)"));
        return li;
      }
      const b = button(`member:${nick}`, "", "member-button");
      b.append(el("span", nickClass(nick), nick));
      b.title = `Send ${nick} a direct message`;
      b.addEventListener("click", () => openDm(nick));
      li.append(b);
      return li;
    }),
  );
}

function showNick(force = false) {
  if (force || document.activeElement !== ui.nick) ui.nick.value = state.nick;
  ui.nick.removeAttribute("aria-invalid");
}

/**
 * The header of the open conversation: the room, or who the direct messages are with.
 * @param {Conversation} conv
 */
function showTitle(conv) {
  if (conv.kind === "dm") {
    ui.viewTitle.replaceChildren(
      el("span", "view-kind", "Direct messages with "),
      el("span", nickClass(conv.name), conv.name),
    );
  } else {
    ui.viewTitle.textContent = conv.isRoom ? conv.name : "No conversation open";
  }
}

/** The box's label and placeholder name where Enter sends the line. */
function updateComposer() {
  const conv = viewed();
  const label = ui.messageLabel;
  if (conv.kind === "dm") {
    // Visible next to the box: a direct message goes to one person, named here.
    label.className = "composer-to";
    label.replaceChildren(srOnly("Message "), "to ", el("span", nickClass(conv.name), conv.name));
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

/** On a phone the conversations are a sideways strip: keeps the current one in sight. */
function revealCurrentRoom() {
  ui.roomList.parentElement?.querySelector(".current")?.scrollIntoView({
    block: "nearest",
    inline: "nearest",
  });
}

/**
 * Shows a conversation; the box takes its draft, and keeps the one left.
 * @param {string} key @param {boolean} focusComposer
 */
function show(key, focusComposer) {
  const conv = convs.get(key);
  if (conv === undefined) return;
  const before = convs.get(state.view);
  if (before !== undefined && before !== conv) {
    before.log.hidden = true;
    before.draft = ui.message.value;
    ui.message.value = conv.draft;
    composer.clearError();
  }
  state.view = key;
  conv.log.hidden = false;
  conv.unread = 0;
  if (conv.stick) conv.scrollToEnd();
  showTitle(conv);
  if (before !== conv) {
    state.members = [];
    renderMembers();
  }
  updateComposer();
  renderRooms();
  revealCurrentRoom();
  refresh(false, true);
  if (focusComposer) ui.message.focus();
}

/** Opens (or starts) the conversation with `nick`, ready to type. @param {string} nick */
function openDm(nick) {
  show(convs.dm(nick).key, true);
}

// --- what the user does ------------------------------------------------------------------------

/**
 * Joins a room, or shows it when already in it (the server checks the name).
 * @param {string} room
 * @param {string} kind what the reply answers: `join-form` clears the form on success
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

/**
 * What a line typed in the box asks for: a request to send and what its reply
 * is for, something done here, or why it cannot be done.
 * @typedef {{request: Record<string, unknown>, meta: Meta}
 *   | {local: () => void} | {error: string}} Plan
 */

/** Plain text: to the open room, or to the person of the open conversation. @param {string} text */
function sayPlan(text) {
  const conv = viewed();
  if (conv.kind === "dm") {
    return {
      request: { type: "msg", to: conv.name, text },
      meta: { kind: "msg", conv: conv.key, text },
    };
  }
  if (conv.isRoom) {
    return {
      request: { type: "say", room: conv.name, text },
      meta: { kind: "say", room: conv.name, text },
    };
  }
  return { error: "no room open here: join one, or use /msg <nick> <text>" };
}

/**
 * Reads what was typed in the message box (without doing it).
 * @param {string} line
 * @returns {Plan}
 */
function planInput(line) {
  if (line.startsWith("//")) return sayPlan(line.slice(1));
  if (!line.startsWith("/")) return sayPlan(line);
  const match = /^\/(\S+)\s*([\s\S]*)$/.exec(line);
  const command = (match?.[1] ?? "").toLowerCase();
  const rest = (match?.[2] ?? "").trim();
  const conv = viewed();
  const room = conv.isRoom ? conv.name : null;
  const usage = (/** @type {string} */ text) => ({ error: `usage: ${text}` });
  /** @param {Record<string, unknown>} request @param {Meta} [meta] */
  const plan = (request, meta = { kind: String(request.type) }) => ({ request, meta });
  switch (command) {
    case "me":
      if (rest === "") return usage("/me <text>");
      if (room === null) return { error: "/me works in a room, not in direct messages" };
      return plan({ type: "me", room, text: rest }, {
        kind: "me",
        room,
        text: `* ${state.nick} ${rest}`,
      });
    case "msg":
    case "m": {
      const parts = /^(\S+)\s+([\s\S]+)$/.exec(rest);
      if (parts === null) return usage("/msg <nick> <text>");
      const text = parts[2].trim();
      return plan({ type: "msg", to: parts[1], text }, {
        kind: "msg",
        conv: dmKey(parts[1]),
        text,
        open: true,
      });
    }
    case "join":
    case "j": {
      const parts = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      if (parts === null) return usage("/join <room> [<password>]");
      const password = parts[2].trim();
      return plan({ type: "join", room: parts[1], ...(password ? { password } : {}) });
    }
    case "leave":
    case "part": {
      const name = rest === "" ? room : rest.replace(/^#/, "").toLowerCase();
      if (name === null) return usage("/leave <room>");
      return plan({ type: "leave", room: name });
    }
    case "nick": {
      const parts = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      if (parts === null) return usage("/nick <name> [<password>]");
      const password = parts[2].trim();
      return plan({ type: "nick", nick: parts[1], ...(password ? { password } : {}) });
    }
    case "pass":
    case "register":
    case "admin":
      if (rest === "") return usage(`/${command} <password>`);
      return plan({ type: command, password: rest });
    case "stats":
      return plan({ type: "stats" });
    case "kick":
    case "ban":
    case "unban":
    case "op":
    case "deop": {
      const parts = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      if (parts === null || room === null) return usage(`/${command} <nick> (in a room)`);
      const reason = command === "kick" && parts[2].trim() ? { reason: parts[2].trim() } : {};
      return plan({ type: command, nick: parts[1], room, ...reason });
    }
    case "topic":
      if (room === null) return usage("/topic [<text>] (in a room)");
      return plan(
        rest === ""
          ? { type: "topic", room }
          : { type: "topic", room, text: rest === "-" ? "" : rest },
      );
    case "lock":
      if (rest === "" || room === null) return usage("/lock <password> or /lock off (in a room)");
      return plan(
        rest === "off" ? { type: "unlock", room } : { type: "lock", room, password: rest },
        { kind: "lock" },
      );
    case "who":
      if (room === null && rest === "") return usage("/who <room>");
      return plan({ type: "who", room: rest || room });
    case "rooms":
    case "list":
      return plan({ type: "rooms" });
    case "help":
      return {
        local() {
          for (const text of HELP) tell(text);
        },
      };
    default:
      return { error: `unknown command /${command} (try /help)` };
  }
}

/**
 * Enter in the box: the line goes to the server, and stays in the box until
 * the server took it (see `settleComposer`). What cannot go is explained next
 * to the box, and kept.
 */
ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const line = ui.message.value;
  if (line.trim() === "") return;
  const waiting = composer.pending;
  if (waiting !== null && waiting.line === line && waiting.key === state.view) return;
  composer.clearError();
  const plan = planInput(line);
  if ("error" in plan) return composer.refuse(plan.error);
  if ("local" in plan) {
    plan.local();
    ui.message.value = "";
    composer.update();
    return;
  }
  const over = composer.overBy(line);
  if (over > 0) {
    return composer.refuse(
      `too long to send (the server takes ${composer.limit} bytes a line): ` +
        "shorten it or send it in parts",
    );
  }
  if (!online()) return composer.refuse("not connected: try again in a moment");
  const ref = send(plan.request, plan.meta);
  if (ref !== false) composer.pending = { ref, key: state.view, line };
});

ui.message.addEventListener("input", () => {
  composer.clearError();
  composer.update();
});

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

matchMedia("(max-width: 700px)").addEventListener("change", revealCurrentRoom);

addEventListener("online", () => {
  if (state.socket === null) connect();
});

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
      return state.connected;
    },
    get view() {
      return state.view;
    },
    /** The largest message id seen per room. */
    lastIds() {
      return Object.fromEntries(joinedRooms().map((c) => [c.name, c.lastId]));
    },
    dropConnection(stayOffline = false) {
      state.held = Boolean(stayOffline);
      const socket = state.socket;
      if (socket !== null) socket.close();
      else if (state.held) scheduleReconnect();
    },
    reconnect() {
      state.held = false;
      state.retries = 0;
      if (state.socket === null) connect();
    },
  }),
});

convs.room(LOBBY);
show(LOBBY, false);
setStatus("connecting", "connecting…");
connect();
