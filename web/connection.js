/**
 * The one WebSocket to the server, in the JSON format: requests go out with a
 * fresh `ref` and what they were for (`Meta`), so each reply can be placed;
 * a lost connection comes back with exponential backoff, and one that falls
 * silent (a network that vanished without a close) is given up.
 */

const BACKOFF_FIRST_MS = 250;
const BACKOFF_MAX_MS = 5000;
const CONNECT_TIMEOUT_MS = 10_000;
/** Silent this long while the page asks for the room list every 10 s: start over. */
const STALE_MS = 35_000;

/**
 * What a request was for, so its reply can be placed: `conv` is the key of the
 * conversation a line was said in, `open` shows that conversation once sent.
 * @typedef {{kind: string, room?: string, conv?: string, text?: string, open?: boolean,
 *   id?: number}} Meta
 */

/**
 * @typedef {object} Handlers
 * @property {(ev: any, meta: Meta | undefined) => void} event an event, with what its ref was for
 * @property {() => void} lost the connection dropped (unanswered requests are in `lost`'s argument)
 * @property {(state: "connecting" | "reconnecting" | "offline") => void} waiting
 */

export class Connection {
  /** @type {WebSocket | null} */
  #socket = null;
  /** Set by the caller once the server said welcome. */
  ready = false;
  everReady = false;
  /** No reconnect until released (`hold(false)`). */
  #held = false;
  #retries = 0;
  #lastFrameAt = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #reconnectTimer;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  #staleTimer;
  nextRef = 1;
  /** @type {Map<number, Meta>} */
  pending = new Map();
  /** @type {Handlers} */
  #on;

  /** @param {Handlers} on */
  constructor(on) {
    this.#on = on;
  }

  get online() {
    return this.#socket !== null && this.ready && this.#socket.readyState === WebSocket.OPEN;
  }

  connect() {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    if (this.#held || this.#socket !== null) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let socket;
    try {
      socket = new WebSocket(`${scheme}//${location.host}/ws?format=json`);
    } catch (err) {
      console.warn("no WebSocket", err);
      this.#schedule();
      return;
    }
    this.#socket = socket;
    const timer = setTimeout(() => {
      if (socket.readyState === WebSocket.CONNECTING) socket.close();
    }, CONNECT_TIMEOUT_MS);
    socket.addEventListener("open", () => clearTimeout(timer));
    socket.addEventListener("message", (event) => {
      if (socket !== this.#socket || typeof event.data !== "string") return;
      this.#lastFrameAt = Date.now();
      // A frame may hold several events, one JSON object per line.
      for (const item of event.data.split("\n")) {
        if (item.trim() === "") continue;
        let data;
        try {
          data = JSON.parse(item);
        } catch {
          continue;
        }
        if (data === null || typeof data !== "object" || typeof data.type !== "string") continue;
        try {
          this.#on.event(data, this.#answered(data.ref));
        } catch (err) {
          console.warn("event not handled", data.type, err);
        }
      }
    });
    socket.addEventListener("close", () => {
      clearTimeout(timer);
      if (socket === this.#socket) this.#dropped();
    });
  }

  /** The server said welcome: the connection is usable. */
  welcomed() {
    this.ready = true;
    this.everReady = true;
    this.#retries = 0;
    this.#lastFrameAt = Date.now();
    clearInterval(this.#staleTimer);
    this.#staleTimer = setInterval(() => {
      if (this.#socket !== null && Date.now() - this.#lastFrameAt > STALE_MS) this.drop();
    }, 5000);
  }

  /** The request `ref` answers (forgotten once answered: one reply per request). @param {unknown} ref */
  #answered(ref) {
    if (typeof ref !== "number") return undefined;
    const meta = this.pending.get(ref);
    this.pending.delete(ref);
    return meta;
  }

  /** Peeks at what `ref` was for without forgetting it (an error may follow a partial reply). */
  meta(/** @type {number} */ ref) {
    return this.pending.get(ref);
  }

  #dropped() {
    const lost = [...this.pending.values()];
    this.#socket = null;
    this.ready = false;
    this.pending.clear();
    clearInterval(this.#staleTimer);
    this.#on.lost(lost);
    this.#schedule();
  }

  #schedule() {
    if (this.#held) {
      this.#on.waiting("offline");
      return;
    }
    this.#on.waiting(this.everReady ? "reconnecting" : "connecting");
    // Exponential backoff with a little jitter, never above the cap.
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.#retries);
    this.#retries = Math.min(this.#retries + 1, 10);
    const wait = Math.round(base * (0.8 + 0.2 * Math.random()));
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = setTimeout(() => this.connect(), wait);
  }

  /** The server is going away: give a successor time to start before the first retry. */
  slowDown() {
    this.#retries = Math.max(this.#retries, 2);
  }

  /**
   * Sends one request with a fresh `ref`. Returns the ref, or false when
   * there is no connection.
   * @param {Record<string, unknown>} request @param {Meta} meta
   * @returns {number | false}
   */
  send(request, meta) {
    const socket = this.#socket;
    if (socket === null || !this.online) return false;
    const ref = this.nextRef++;
    this.pending.set(ref, meta);
    socket.send(JSON.stringify({ ...request, ref }));
    return ref;
  }

  /** Closes the socket as a network failure would; `stayOffline` holds it closed. */
  drop(stayOffline = false) {
    this.#held = stayOffline;
    const socket = this.#socket;
    if (socket !== null) {
      this.#dropped();
      socket.close();
    } else if (this.#held) this.#schedule();
  }

  /** Connects now (after `drop(true)`, or a browser back online). */
  resume() {
    this.#held = false;
    this.#retries = 0;
    if (this.#socket === null) this.connect();
  }
}
