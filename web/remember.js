/**
 * What the page remembers across reloads, in `localStorage`: the sign-in
 * token the server issued (never a password), the nick to take back, the
 * rooms and conversations that were open, drafts, what was sent (for
 * Ctrl+Up), and the theme and notification choices. Storage that is full or
 * refused (a private window) only means nothing is remembered.
 */

const PREFIX = "chat.";

/** @param {string} name @returns {string | null} */
function read(name) {
  try {
    return localStorage.getItem(PREFIX + name);
  } catch {
    return null;
  }
}

/** @param {string} name @param {string | null} value */
function write(name, value) {
  try {
    if (value === null || value === "") localStorage.removeItem(PREFIX + name);
    else localStorage.setItem(PREFIX + name, value);
  } catch (err) {
    console.warn("not remembered", name, err);
  }
}

/** @template T @param {string} name @param {T} fallback @returns {T} */
function readJson(name, fallback) {
  const text = read(name);
  if (text === null) return fallback;
  try {
    const value = JSON.parse(text);
    return typeof value === typeof fallback && Array.isArray(value) === Array.isArray(fallback)
      ? value
      : fallback;
  } catch {
    return fallback;
  }
}

export const remember = {
  /** The server's sign-in token for a registered nick. */
  get token() {
    return read("token");
  },
  set token(value) {
    write("token", value);
  },
  /** The nick to take again on the next visit (a guest's too, while it is free). */
  get nick() {
    return read("nick");
  },
  set nick(value) {
    write("nick", value);
  },
  /** @returns {string[]} */
  get rooms() {
    return readJson("rooms", /** @type {string[]} */ ([])).filter((r) => typeof r === "string");
  },
  set rooms(value) {
    write("rooms", JSON.stringify(value));
  },
  /** @returns {string[]} the people of the direct conversations open */
  get people() {
    return readJson("people", /** @type {string[]} */ ([])).filter((r) => typeof r === "string");
  },
  set people(value) {
    write("people", JSON.stringify(value));
  },
  /** The key of the conversation on screen. */
  get view() {
    return read("view");
  },
  set view(value) {
    write("view", value);
  },
  /** @returns {Record<string, number>} the id read up to, per room (a guest's markers) */
  get reads() {
    return readJson("reads", /** @type {Record<string, number>} */ ({}));
  },
  set reads(value) {
    write("reads", JSON.stringify(value));
  },
  /** @returns {Record<string, string>} */
  get drafts() {
    return readJson("drafts", /** @type {Record<string, string>} */ ({}));
  },
  set drafts(value) {
    write("drafts", JSON.stringify(value));
  },
  /** @returns {string[]} lines sent, oldest first */
  get sent() {
    return readJson("sent", /** @type {string[]} */ ([])).filter((r) => typeof r === "string");
  },
  set sent(value) {
    write("sent", JSON.stringify(value));
  },
  /** "dark", "light", or null to follow the system. */
  get theme() {
    const value = read("theme");
    return value === "dark" || value === "light" ? value : null;
  },
  set theme(value) {
    write("theme", value);
  },
  get notify() {
    return read("notify") === "on";
  },
  set notify(value) {
    write("notify", value ? "on" : null);
  },
  /** Forgets who the user was (after /logout): the next visit starts as a new guest. */
  forgetIdentity() {
    for (const name of ["token", "nick", "rooms", "people", "view", "drafts", "reads"]) {
      write(name, null);
    }
  },
};
