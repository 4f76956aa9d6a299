/**
 * The panels beside the messages: the conversations (rooms, then one entry
 * per person of a direct conversation, then rooms not joined) with their
 * unread and mention counts, and the members of the open room. On a phone
 * both are panels that slide in over the messages, opened from the top bar.
 */

import { el, nickClass, srOnly } from "./dom.js";

/** @typedef {import("./conversations.js").Conversation} Conversation */
/** @typedef {import("./app.js").App} App */

/**
 * Rebuilds a list, keeping keyboard focus on the element with the same key.
 * @param {App} app @param {HTMLElement} list @param {HTMLElement[]} items
 */
function replaceList(app, list, items) {
  const active = document.activeElement;
  const key = active instanceof HTMLElement && list.contains(active)
    ? active.dataset.key
    : undefined;
  list.replaceChildren(...items);
  if (key !== undefined) {
    const again = list.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again instanceof HTMLElement) again.focus();
    else app.ui.message.focus();
  }
}

/** @param {string} key @param {string} label @param {string} [className] */
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

/** @param {number} n @param {string} one @param {string} many */
function count(n, one, many) {
  return ` ${n === 1 ? one : many}`;
}

/**
 * The entry of a conversation in the list: its name, member count (rooms),
 * unread and mention badges, and whether it is the one on screen.
 * @param {App} app @param {Conversation} conv @param {string} sigil
 */
function conversationItem(app, conv, sigil) {
  const li = el("li", `room-item ${conv.kind}`);
  const open = button(`view:${conv.key}`, "", "room-button");
  open.append(roomName(sigil, conv.name));
  if (conv.key === app.state.view) {
    open.setAttribute("aria-current", "true");
    li.classList.add("current");
  }
  const members = conv.isRoom ? app.state.serverRooms.get(conv.name) : undefined;
  if (members !== undefined) {
    const c = el("span", "room-count", String(members));
    c.append(srOnly(count(members, "member", "members")));
    open.append(" ", c);
  }
  if (conv.mentions > 0) {
    const badge = el("span", "badge mention-badge", `@${conv.mentions}`);
    badge.append(srOnly(count(conv.mentions, "mention", "mentions")));
    open.append(" ", badge);
  }
  if (conv.unread > 0) {
    const badge = el("span", "badge", String(conv.unread));
    badge.append(srOnly(" unread"));
    open.append(" ", badge);
  }
  if (conv.unread > 0 || conv.mentions > 0) li.classList.add("has-unread");
  open.addEventListener("click", () => app.show(conv.key, false));
  li.append(open);
  return li;
}

/** @param {App} app */
export function renderRooms(app) {
  const { ui, convs, state } = app;
  const rooms = convs.rooms().map((conv) => {
    const li = conversationItem(app, conv, "#");
    // The cross alone says nothing: the button is named by hidden text.
    const leave = button(`leave:${conv.name}`, "", "leave-button");
    const cross = el("span", "", "×");
    cross.setAttribute("aria-hidden", "true");
    leave.append(cross, srOnly(`Leave ${conv.name}`));
    leave.title = `Leave ${conv.name}`;
    leave.addEventListener("click", () => app.leaveRoom(conv.name));
    li.append(leave);
    return li;
  });
  replaceList(app, ui.roomList, rooms);

  const people = convs.dms().map((conv) => {
    const li = conversationItem(app, conv, "@");
    li.querySelector("button")?.setAttribute("title", `Direct messages with ${conv.name}`);
    return li;
  });
  ui.dmTitle.hidden = people.length === 0;
  replaceList(app, ui.dmList, people);

  const others = [...state.serverRooms].filter(([room]) => !convs.get(room)?.isRoom);
  const otherItems = others.map(([room, members]) => {
    const li = el("li", "room-item other");
    const join = button(`join:${room}`, "", "room-button");
    join.append(srOnly("Join "), roomName("#", room), " ");
    const c = el("span", "room-count", String(members));
    c.append(srOnly(count(members, "member", "members")));
    join.append(c);
    join.title = `Join ${room}`;
    join.addEventListener("click", () => app.joinRoom(room));
    li.append(join);
    return li;
  });
  ui.otherRoomsTitle.hidden = otherItems.length === 0;
  replaceList(app, ui.otherRooms, otherItems);
  app.attention.title();
  const waiting = [...convs.values()].some((c) => c.unread > 0 && c.key !== state.view);
  ui.openRooms.classList.toggle("has-unread", waiting);
}

/** @param {App} app */
export function renderMembers(app) {
  const { ui, state } = app;
  const conv = app.viewed();
  if (!conv.isRoom) {
    ui.membersTitle.textContent = "Members";
    const text = conv.kind === "dm" ? `only you and ${conv.name} see these` : "not in a room";
    replaceList(app, ui.memberList, [el("li", "member-empty", text)]);
    return;
  }
  const members = [...state.members].sort((a, b) =>
    a.localeCompare(b, undefined, { sensitivity: "base" })
  );
  ui.membersTitle.textContent = `Members (${members.length})`;
  replaceList(
    app,
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
      b.addEventListener("click", () => app.openDm(nick));
      li.append(b);
      return li;
    }),
  );
}

/**
 * The phone's sliding panels: a toggle button each in the top bar; Escape, the
 * scrim, or choosing a conversation closes them and gives focus back.
 * @param {App} app
 */
export function setupPanels(app) {
  const { ui } = app;
  const pairs =
    /** @type {const} */ ([[ui.openRooms, ui.roomsPanel], [ui.openMembers, ui.membersPanel]]);
  const close = () => {
    for (const [toggle, panel] of pairs) {
      if (!panel.classList.contains("open")) continue;
      panel.classList.remove("open");
      toggle.setAttribute("aria-expanded", "false");
      if (panel.contains(document.activeElement)) toggle.focus();
    }
    ui.scrim.hidden = true;
  };
  for (const [toggle, panel] of pairs) {
    toggle.addEventListener("click", () => {
      const opening = !panel.classList.contains("open");
      close();
      if (!opening) return;
      panel.classList.add("open");
      toggle.setAttribute("aria-expanded", "true");
      ui.scrim.hidden = false;
      const first = panel.querySelector("[aria-current=true], button, input");
      if (first instanceof HTMLElement) first.focus();
    });
  }
  ui.scrim.addEventListener("click", close);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !ui.scrim.hidden) close();
  });
  return close;
}
