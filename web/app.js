/**
 * The browser client: one WebSocket in the JSON format, rooms, members,
 * direct messages, and a reconnect that fills the gap from history.
 *
 * Text from the server only ever reaches the page through `textContent`
 * (see `el`): nothing a user types is parsed as HTML.
 */

const LOBBY = "lobby";
/** The direct-messages view; `@` cannot start a room name, so it never collides. */
const DMS = "@dms";
/** Entries kept per view; older ones are dropped from the page. */
const MAX_KEPT = 2000;
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
const NICK_COLORS = 8;

const HELP = [
  "text: says it in the current room (//text says /text)",
  "/me <text>: an action, shown as * nick text",
  "/msg <nick> <text>: a direct message",
  "/join <room>: joins a room (or switches to it)",
  "/leave [<room>]: leaves the named or current room",
  "/nick <name> [<password>]: changes your nick (the password claims a registered one)",
  "/pass <password>: the server password, where there is one",
  "/register <password>: registers your nick",
  "/topic [<text>], /kick, /ban, /unban, /op, /deop <nick>, /lock <password>|off: room operators",
  "/admin <password>, /stats: server operators",
  "/who, /rooms: refreshes the member and room lists",
];

// --- DOM helpers -------------------------------------------------------------------------------

/** @param {string} id */
function byId(id) {
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
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Text only screen readers announce. @param {string} text */
function srOnly(text) {
  return el("span", "visually-hidden", text);
}

/** @param {number} n */
function pad(n) {
  return String(n).padStart(2, "0");
}

/** A `<time>` showing HH:MM (local), the full date as its tooltip. @param {number} ts */
function timeNode(ts) {
  const date = new Date(Number.isFinite(ts) ? ts : Date.now());
  const node = el("time", "time", `${pad(date.getHours())}:${pad(date.getMinutes())}`);
  node.dateTime = date.toISOString();
  node.title = date.toLocaleString();
  return node;
}

/** A stable color class per nick (the palette lives in style.css). @param {string} nick */
function nickClass(nick) {
  let h = 0;
  for (const ch of nick.toLowerCase()) h = (h * 31 + (ch.codePointAt(0) ?? 0)) >>> 0;
  return `nick nick-c${h % NICK_COLORS}`;
}

const ui = {
  status: byId("status"),
  nickForm: /** @type {HTMLFormElement} */ (byId("nick-form")),
  nick: /** @type {HTMLInputElement} */ (byId("nick")),
  nickError: byId("nick-error"),
  roomList: byId("room-list"),
  otherRooms: byId("other-rooms"),
  otherRoomsTitle: byId("other-rooms-title"),
  joinForm: /** @type {HTMLFormElement} */ (byId("join-form")),
  room: /** @type {HTMLInputElement} */ (byId("room")),
  joinError: byId("join-error"),
  viewTitle: byId("view-title"),
  logs: byId("logs"),
  composer: /** @type {HTMLFormElement} */ (byId("composer")),
  message: /** @type {HTMLInputElement} */ (byId("message")),
  membersTitle: byId("members-heading"),
  memberList: byId("member-list"),
};

// --- conversations -----------------------------------------------------------------------------

/** One view: a joined room, or the direct messages. Each has its own log element. */
class Conversation {
  /** @param {string} name */
  constructor(name) {
    this.name = name;
    /** Message ids shown (rooms only): the dedupe set. */
    this.ids = new Set();
    /** The largest message id seen: where a gap fill starts. */
    this.lastId = 0;
    /** Ids at or below this were dropped from the page; they are not shown again. */
    this.floor = 0;
    this.unread = 0;
    /** Whether the log follows new entries (the reader is at the bottom). */
    this.stick = true;
    this.log = el("ol", "log");
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-live", "polite");
    this.log.tabIndex = 0;
    this.log.hidden = true;
    this.log.addEventListener("scroll", () => {
      const log = this.log;
      this.stick = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
    });
    ui.logs.append(this.log);
  }

  get isDms() {
    return this.name === DMS;
  }

  /** Adds an entry, keeping the reader at the bottom if they were there. @param {Node} node */
  #place(node, before = /** @type {Element | null} */ (null)) {
    this.log.insertBefore(node, before);
    while (this.log.childElementCount > MAX_KEPT) {
      const first = /** @type {HTMLElement} */ (this.log.firstElementChild);
      if (first.dataset.id !== undefined) {
        const id = Number(first.dataset.id);
        this.ids.delete(id);
        this.floor = Math.max(this.floor, id);
      }
      first.remove();
    }
    if (this.stick && !this.log.hidden) this.scrollToEnd();
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  /**
   * Shows a room message once, in id order. Returns false for a duplicate.
   * @param {{room: string, nick: string, text: string, id: number, ts: number, kind: string}} m
   */
  addMessage(m) {
    if (!Number.isSafeInteger(m.id) || this.ids.has(m.id) || m.id <= this.floor) return false;
    this.ids.add(m.id);
    const node = messageNode(m);
    if (m.id > this.lastId) {
      this.lastId = m.id;
      this.#place(node);
      return true;
    }
    // Older than the newest shown (a gap being filled): before the first larger id.
    let next = null;
    for (let n = this.log.lastElementChild; n !== null; n = n.previousElementSibling) {
      const id = /** @type {HTMLElement} */ (n).dataset.id;
      if (id === undefined) continue;
      if (Number(id) > m.id) next = n;
      else break;
    }
    this.#place(node, next);
    return true;
  }

  /** @param {{from: string, to: string, text: string, ts: number}} dm */
  addDm(dm) {
    const li = el("li", "entry dm");
    if (dm.from === state.nick) li.classList.add("mine");
    li.append(
      timeNode(dm.ts),
      " ",
      el("span", "marker", "DM"),
      " ",
      el("span", nickClass(dm.from), dm.from),
      el("span", "arrow", " → "),
      el("span", nickClass(dm.to), dm.to),
      el("span", "sep", ":"),
      " ",
      el("span", "text", dm.text),
    );
    this.#place(li);
  }

  /** A line from the client itself (joins, errors, ...). @param {string} text */
  notice(text, kind = "info") {
    const li = el("li", `entry notice notice-${kind}`);
    li.append(timeNode(Date.now()), " ", el("span", "notice-text", text));
    this.#place(li);
  }

  remove() {
    this.log.remove();
  }
}

/** @param {{nick: string, text: string, id: number, ts: number, kind: string}} m */
function messageNode(m) {
  const li = el("li", "entry msg");
  li.dataset.id = String(m.id);
  if (m.nick === state.nick) li.classList.add("mine");
  if (m.kind === "action") {
    li.classList.add("action");
    li.append(
      timeNode(m.ts),
      " ",
      el("span", "star", "*"),
      " ",
      el("span", nickClass(m.nick), m.nick),
      " ",
      el("span", "text", m.text),
    );
  } else {
    li.append(
      timeNode(m.ts),
      " ",
      el("span", nickClass(m.nick), m.nick),
      el("span", "sep", ":"),
      " ",
      el("span", "text", m.text),
    );
  }
  return li;
}

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
  view: LOBBY,
  /** The other end of the latest direct message: plain text in the DMs view goes there. */
  dmPeer: "",
  nextRef: 1,
  /**
   * What each request in flight was for (and, for lines, their text).
   * @type {Map<number, {kind: string, room?: string, text?: string}>}
   */
  pending: new Map(),
  /** Rooms the server puts us in that we do not want (the lobby after a reconnect). */
  expectLeave: new Set(),
  /** Member counts from the last `rooms` reply. @type {Map<string, number>} */
  serverRooms: new Map(),
  /** @type {string[]} */
  members: [],
};

/** Joined rooms in join order, plus the DMs view. @type {Map<string, Conversation>} */
const convs = new Map();
const dms = new Conversation(DMS);
convs.set(DMS, dms);

/** @param {string} name */
function conversation(name) {
  let conv = convs.get(name);
  if (conv === undefined) {
    conv = new Conversation(name);
    convs.set(name, conv);
  }
  return conv;
}

function joinedRooms() {
  return [...convs.values()].filter((c) => !c.isDms);
}

function viewed() {
  return convs.get(state.view) ?? dms;
}

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
    const conv = meta.kind === "msg" ? dms : convs.get(meta.room ?? "");
    conv?.notice(`not confirmed before the connection dropped: ${meta.text}`, "warn");
  }
  state.pending.clear();
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

/**
 * Sends one request with a fresh `ref`; `meta` says what its reply is for.
 * Returns false (and tells the user) when there is no connection.
 * @param {Record<string, unknown>} request
 * @param {{kind: string, room?: string, text?: string}} meta
 */
function send(request, meta = { kind: request.type }) {
  const socket = state.socket;
  if (socket === null || !state.connected || socket.readyState !== WebSocket.OPEN) {
    if (meta.kind !== "refresh") tell("not connected: try again in a moment", "error");
    return false;
  }
  const ref = state.nextRef++;
  state.pending.set(ref, meta);
  socket.send(JSON.stringify({ ...request, ref }));
  return true;
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
    if (lists.who && state.view !== DMS) {
      send({ type: "who", room: state.view }, { kind: "refresh", room: state.view });
    }
    lists.rooms = false;
    lists.who = false;
  }, 120);
}

// --- events from the server --------------------------------------------------------------------

/** @param {any} ev */
function handle(ev) {
  switch (ev.type) {
    case "welcome":
      return onWelcome(ev);
    case "message": {
      answered(ev.ref);
      const conv = convs.get(ev.room);
      if (conv === undefined || conv.isDms) return;
      if (conv.addMessage(ev) && ev.nick !== state.nick) countUnread(conv, 1);
      return;
    }
    case "history":
      return onHistory(ev, answered(ev.ref));
    case "dm": {
      dms.addDm(ev);
      state.dmPeer = ev.from === state.nick ? ev.to : ev.from;
      if (state.view === DMS) updateComposer();
      if (ev.from !== state.nick) countUnread(dms, 1);
      return;
    }
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

/** @param {any} ev @param {{kind: string} | undefined} meta */
function onHistory(ev, meta) {
  const conv = convs.get(ev.room);
  if (conv === undefined || conv.isDms) return;
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

/** @param {any} ev @param {{kind: string} | undefined} meta */
function onJoined(ev, meta) {
  if (ev.nick === state.nick) {
    if (state.expectLeave.has(ev.room)) return;
    const isNew = !convs.has(ev.room);
    const conv = conversation(ev.room);
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

/** @param {any} ev @param {{kind: string} | undefined} meta */
function onLeft(ev, meta) {
  if (ev.nick === state.nick) {
    if (state.expectLeave.delete(ev.room) || meta?.kind === "unlobby") return;
    if (ev.reason === "kick" || ev.reason === "ban") {
      const done = ev.reason === "kick" ? "kicked" : "banned";
      tell(`you were ${done} from ${ev.room} by ${ev.by}${ev.message ? ` (${ev.message})` : ""}`);
    }
    const conv = convs.get(ev.room);
    if (conv === undefined || conv.isDms) return;
    convs.delete(ev.room);
    conv.remove();
    if (state.view === ev.room) {
      const rest = joinedRooms();
      show(rest.length > 0 ? rest[rest.length - 1].name : DMS, false);
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

/** @param {any} ev @param {{kind: string} | undefined} meta */
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
  if (state.dmPeer === ev.old) state.dmPeer = ev.nick;
  refresh(false, true);
}

/** @param {any} ev @param {{kind: string, room?: string} | undefined} meta */
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

function renderRooms() {
  const items = [];
  const views = [dms, ...joinedRooms()];
  for (const conv of views) {
    const li = el("li", conv.isDms ? "room-item dms" : "room-item");
    const open = button(`view:${conv.name}`, "", "room-button");
    if (conv.isDms) {
      // Only one of the two is displayed (and so named), depending on the screen's width.
      const name = el("span", "room-name");
      name.append(el("span", "long", "Direct messages"), el("span", "short", "DMs"));
      open.append(name);
    } else {
      open.append(roomName("#", conv.name));
    }
    if (conv.name === state.view) {
      open.setAttribute("aria-current", "true");
      li.classList.add("current");
    }
    const count = state.serverRooms.get(conv.name);
    if (!conv.isDms && count !== undefined) {
      const c = el("span", "room-count", String(count));
      c.append(srOnly(count === 1 ? " member" : " members"));
      open.append(" ", c);
    }
    if (conv.unread > 0) {
      const badge = el("span", "badge", String(conv.unread));
      badge.append(srOnly(" unread"));
      open.append(" ", badge);
    }
    open.addEventListener("click", () => show(conv.name, false));
    li.append(open);
    if (!conv.isDms) {
      // The cross alone says nothing: the button is named by hidden text.
      const leave = button(`leave:${conv.name}`, "", "leave-button");
      const cross = el("span", "", "×");
      cross.setAttribute("aria-hidden", "true");
      leave.append(cross, srOnly(`Leave ${conv.name}`));
      leave.title = `Leave ${conv.name}`;
      leave.addEventListener("click", () => leaveRoom(conv.name));
      li.append(leave);
    }
    items.push(li);
  }
  replaceList(ui.roomList, items);

  const others = [...state.serverRooms].filter(([room]) => !convs.has(room));
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
  if (state.view === DMS) {
    ui.membersTitle.textContent = "Members";
    replaceList(ui.memberList, [el("li", "member-empty", "not in a room")]);
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
      b.addEventListener("click", () => {
        ui.message.value = `/msg ${nick} `;
        ui.message.focus();
      });
      li.append(b);
      return li;
    }),
  );
}

function showNick(force = false) {
  if (force || document.activeElement !== ui.nick) ui.nick.value = state.nick;
  ui.nick.removeAttribute("aria-invalid");
}

function updateComposer() {
  if (state.view === DMS) {
    ui.message.placeholder = state.dmPeer
      ? `Reply to ${state.dmPeer} (or /msg nick text)`
      : "/msg nick text";
  } else {
    ui.message.placeholder = `Message ${state.view}`;
  }
}

/** On a phone the rooms are a sideways strip: keeps the current one in sight. */
function revealCurrentRoom() {
  ui.roomList.querySelector(".current")?.scrollIntoView({ block: "nearest", inline: "nearest" });
}

/** Shows a view. @param {string} name @param {boolean} focusComposer */
function show(name, focusComposer) {
  const conv = convs.get(name);
  if (conv === undefined) return;
  const before = convs.get(state.view);
  if (before !== undefined && before !== conv) before.log.hidden = true;
  state.view = name;
  conv.log.hidden = false;
  conv.unread = 0;
  if (conv.stick) conv.scrollToEnd();
  ui.viewTitle.textContent = conv.isDms ? "Direct messages" : name;
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
  if (convs.has(name) && name !== DMS) {
    show(name, true);
    return true;
  }
  return send({ type: "join", room: wanted }, { kind });
}

/** @param {string} room */
function leaveRoom(room) {
  if (!convs.has(room) || room === DMS) return false;
  return send({ type: "leave", room }, { kind: "leave" });
}

/** Says a line in the viewed room (or, in the DMs view, to the latest peer). @param {string} text */
function sayText(text) {
  if (state.view === DMS) {
    if (!state.dmPeer) {
      tell("nobody to reply to here: use /msg <nick> <text>", "error");
      return false;
    }
    return send({ type: "msg", to: state.dmPeer, text }, { kind: "msg", text });
  }
  return send({ type: "say", room: state.view, text }, { kind: "say", room: state.view, text });
}

/**
 * Runs what was typed in the message box. Returns true when it was handled
 * (the box is cleared), false to leave it for the user to fix.
 * @param {string} line
 */
function runInput(line) {
  if (line.startsWith("//")) return sayText(line.slice(1));
  if (!line.startsWith("/")) return sayText(line);
  const match = /^\/(\S+)\s*([\s\S]*)$/.exec(line);
  const command = (match?.[1] ?? "").toLowerCase();
  const rest = (match?.[2] ?? "").trim();
  const usage = (/** @type {string} */ text) => {
    tell(`usage: ${text}`, "error");
    return false;
  };
  switch (command) {
    case "me":
      if (rest === "") return usage("/me <text>");
      if (state.view === DMS) {
        tell("/me works in a room, not in direct messages", "error");
        return false;
      }
      return send(
        { type: "me", room: state.view, text: rest },
        { kind: "me", room: state.view, text: `* ${state.nick} ${rest}` },
      );
    case "msg":
    case "m": {
      const parts = /^(\S+)\s+([\s\S]+)$/.exec(rest);
      if (parts === null) return usage("/msg <nick> <text>");
      const text = parts[2].trim();
      return send({ type: "msg", to: parts[1], text }, { kind: "msg", text });
    }
    case "join":
    case "j": {
      const parts = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      if (parts === null) return usage("/join <room> [<password>]");
      const password = parts[2].trim();
      return send(
        { type: "join", room: parts[1], ...(password ? { password } : {}) },
        { kind: "join" },
      );
    }
    case "leave":
    case "part": {
      const room = rest === "" ? state.view : rest.replace(/^#/, "").toLowerCase();
      if (room === DMS) return usage("/leave <room>");
      return send({ type: "leave", room }, { kind: "leave" });
    }
    case "nick": {
      const parts = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      if (parts === null) return usage("/nick <name> [<password>]");
      const password = parts[2].trim();
      return send(
        { type: "nick", nick: parts[1], ...(password ? { password } : {}) },
        { kind: "nick" },
      );
    }
    case "pass":
    case "register":
    case "admin":
      if (rest === "") return usage(`/${command} <password>`);
      return send({ type: command, password: rest }, { kind: command });
    case "stats":
      return send({ type: "stats" }, { kind: "stats" });
    case "kick":
    case "ban":
    case "unban":
    case "op":
    case "deop": {
      const parts = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      if (parts === null || state.view === DMS) return usage(`/${command} <nick> (in a room)`);
      const reason = command === "kick" && parts[2].trim() ? { reason: parts[2].trim() } : {};
      return send({ type: command, nick: parts[1], room: state.view, ...reason }, {
        kind: command,
      });
    }
    case "topic":
      if (state.view === DMS) return usage("/topic [<text>] (in a room)");
      return send(
        rest === ""
          ? { type: "topic", room: state.view }
          : { type: "topic", room: state.view, text: rest === "-" ? "" : rest },
        { kind: "topic" },
      );
    case "lock":
      if (rest === "" || state.view === DMS) {
        return usage("/lock <password> or /lock off (in a room)");
      }
      return send(
        rest === "off"
          ? { type: "unlock", room: state.view }
          : { type: "lock", room: state.view, password: rest },
        { kind: "lock" },
      );
    case "who":
      if (state.view === DMS && rest === "") return usage("/who <room>");
      return send({ type: "who", room: rest || state.view }, { kind: "who" });
    case "rooms":
    case "list":
      return send({ type: "rooms" }, { kind: "rooms" });
    case "help":
      for (const text of HELP) tell(text);
      return true;
    default:
      tell(`unknown command /${command} (try /help)`, "error");
      return false;
  }
}

ui.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  const line = ui.message.value;
  if (line.trim() === "") return;
  if (runInput(line)) ui.message.value = "";
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
  if (convs.has(room.replace(/^#/, "").toLowerCase())) ui.room.value = "";
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

conversation(LOBBY);
show(LOBBY, false);
setStatus("connecting", "connecting…");
connect();
