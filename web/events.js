/**
 * What the client does with each event from the server. Replies are matched
 * to their request by `ref` (the `meta` the request was sent with).
 */

import { mentions } from "./attention.js";
import { dmKey } from "./conversations.js";
import { remember } from "./remember.js";
import { settle } from "./sending.js";
import { fillGap, GAP_PAGE, identityError, onNick, onWelcome } from "./session.js";

/** @typedef {import("./app.js").App} App */
/** @typedef {import("./connection.js").Meta} Meta */
/** @typedef {import("./conversations.js").Conversation} Conversation */

/** @param {App} app @param {any} ev @param {Meta | undefined} meta */
export function handle(app, ev, meta) {
  if (settle(app, ev)) return;
  const { convs, state } = app;
  switch (ev.type) {
    case "welcome":
      return onWelcome(app, ev);
    case "message":
      return onMessage(app, ev);
    case "history":
      return onHistory(app, ev, meta);
    case "dm":
      return onDm(app, ev, meta);
    case "joined":
      return onJoined(app, ev, meta);
    case "left":
      return onLeft(app, ev, meta);
    case "nick":
      return onNick(app, ev, meta);
    case "edit":
      convs.get(ev.room)?.edit(ev.id, ev.text, ev.ts);
      if (meta?.kind === "edit") app.composer.setMode(null);
      return;
    case "delete":
      if (typeof ev.room === "string") convs.get(ev.room)?.remove(ev.id);
      return;
    case "react":
      convs.get(ev.room)?.react(ev.id, ev.nick, ev.emoji, ev.on);
      return;
    case "typing":
      return app.typing.event(ev);
    case "read":
      return onRead(app, ev);
    case "search":
      return app.search.results(ev.results, meta?.text ?? "");
    case "kept":
      for (const room of ev.rooms) {
        if (!convs.get(room)?.isRoom) app.send({ type: "join", room }, { kind: "rejoin", room });
      }
      return;
    case "token":
      remember.token = ev.token;
      state.signedIn = true;
      app.showNick();
      app.tell(`signed in as ${ev.nick} on this browser until you sign out (/logout)`, "ok");
      return;
    case "logout":
      remember.forgetIdentity();
      state.signedIn = false;
      app.tell("signed out: starting again as a guest", "ok");
      setTimeout(() => location.reload(), 600);
      return;
    case "summary": {
      const moves = `${ev.joined} joined, ${ev.left} left in the last ${ev.seconds} s`;
      convs.get(ev.room)?.notice(moves);
      app.refresh(true, ev.room === state.view);
      return;
    }
    case "current":
      // A join of a room we are already in: the server just made it current.
      if ((meta?.kind === "join" || meta?.kind === "join-form") && convs.get(ev.room)?.isRoom) {
        app.show(ev.room, true);
      }
      return;
    case "rooms":
      return onRooms(app, ev, meta);
    case "who":
      if (ev.room === state.view) {
        state.members = ev.members;
        state.serverRooms.set(ev.room, ev.members.length);
        app.renderMembers();
        app.renderRooms();
      }
      if (meta?.kind === "who") app.tell(`members of ${ev.room}: ${ev.members.join(", ")}`);
      return;
    case "notice":
      app.tell(ev.text, "ok");
      // Registered: this browser keeps the nick with a token, never the password.
      if (meta?.kind === "claim") app.send({ type: "token" }, { kind: "token" });
      return;
    case "invited":
      if (ev.nick === state.nick) {
        app.tell(`${ev.by} invites you to ${ev.room}: /join ${ev.room}`, "ok");
      }
      return;
    case "moderation":
      convs.get(ev.room)?.notice(moderationText(ev));
      return;
    case "topic": {
      const text = ev.changed
        ? ev.topic === null ? `${ev.by} cleared the topic` : `${ev.by} set the topic: ${ev.topic}`
        : ev.topic === null
        ? `no topic in ${ev.room}`
        : `topic: ${ev.topic} (set by ${ev.by})`;
      (convs.get(ev.room) ?? app.viewed()).notice(text);
      return;
    }
    case "stats": {
      const by = Object.entries(ev.connections).map(([t, n]) => `${t} ${n}`).join(", ");
      app.tell(
        `stats: connections ${by}, ${ev.rooms} rooms, ${ev.messagesPerSecond.toFixed(1)} ` +
          `messages/s in, ${ev.eventsPerSecond.toFixed(1)} events/s out, up ${ev.uptimeSeconds} s`,
      );
      return;
    }
    case "shutdown":
      for (const conv of convs.values()) conv.notice("server shutting down", "warn");
      app.conn.slowDown();
      return;
    case "error":
      return onError(app, ev, meta);
  }
}

/** Whether the user sees `conv` now. @param {App} app @param {Conversation} conv */
function inSight(app, conv) {
  return conv.key === app.state.view && !document.hidden && !app.search.isOpen;
}

/** @param {App} app @param {any} ev */
function onMessage(app, ev) {
  const { convs, state } = app;
  const conv = convs.get(ev.room);
  if (conv === undefined || !conv.isRoom) return;
  const mine = ev.nick === state.nick;
  const mention = !mine && mentions(ev.text, state.nick);
  if (conv.addMessage(ev, mention) === undefined) return;
  app.typing.said(conv, ev.nick);
  if (mine || inSight(app, conv)) {
    if (conv.key === state.view) app.reading.mark();
    return;
  }
  conv.unread++;
  if (mention) {
    conv.mentions++;
    app.attention.notify(conv.key, `${ev.nick} mentioned you in #${conv.name}`, ev.text);
  }
  app.renderRooms();
}

/** @param {App} app @param {any} ev @param {Meta | undefined} meta */
function onHistory(app, ev, meta) {
  const { convs, state } = app;
  if (meta?.kind === "dm-history") {
    const conv = convs.get(meta.conv ?? "");
    // Lines that came live first are in the history too: fill only an empty conversation.
    if (conv === undefined || conv.log.querySelector("li.msg") !== null) return;
    for (const m of ev.messages) {
      conv.addDm({ from: m.nick, to: "", text: m.text, ts: m.ts }, false);
    }
    return;
  }
  const conv = convs.get(ev.room);
  if (conv === undefined || !conv.isRoom) return;
  if (meta?.kind === "older") conv.loadingOlder = false;
  let mentioned = 0;
  for (const m of ev.messages) {
    const mention = m.nick !== state.nick && mentions(m.text, state.nick);
    if (conv.addMessage(m, mention) !== undefined && mention && m.id > conv.readId) mentioned++;
  }
  if (meta?.kind === "older") {
    if (ev.messages.length < Number(meta.id)) conv.startReached();
    app.reading.olderCame(conv);
    return;
  }
  if (meta?.kind === "gap" && ev.messages.length >= GAP_PAGE) {
    fillGap(app, conv, ev.messages[ev.messages.length - 1].id);
  }
  if (conv.unreadUnknown) conv.unread = conv.countAbove();
  if (ev.messages.length > 0 && ev.messages[0].id === 1) conv.startReached();
  if (conv.key === state.view) {
    // Back in the conversation open before: the line shows where reading stopped.
    if (conv.unread > 0) conv.markNew();
    conv.unread = 0;
    app.reading.mark();
    // Too few lines to scroll: fetch older ones until the log can scroll (or the start).
    if (conv.log.scrollHeight <= conv.log.clientHeight) app.reading.older(conv, 50);
  } else {
    conv.mentions += mentioned;
  }
  app.renderRooms();
}

/**
 * A direct message, sent or received: it goes to the conversation with the
 * other person, never to another one.
 * @param {App} app @param {any} ev @param {Meta | undefined} meta
 */
function onDm(app, ev, meta) {
  const { convs, state } = app;
  const peer = ev.from === state.nick ? ev.to : ev.from;
  const isNew = !convs.has(dmKey(peer));
  const conv = convs.dm(peer);
  conv.addDm(ev, false);
  if (isNew) app.rememberOpen();
  app.typing.said(conv, ev.from);
  if (meta?.open) {
    app.show(conv.key, true);
    return;
  }
  if (ev.from !== state.nick && !inSight(app, conv)) {
    conv.unread++;
    app.attention.notify(conv.key, `${ev.from} (direct message)`, ev.text);
  }
  if (conv.key === state.view) {
    // The nick as the server spells it now.
    app.showTitle(conv);
    app.updateComposer();
  }
  app.renderRooms();
}

/** @param {App} app @param {any} ev @param {Meta | undefined} meta */
function onJoined(app, ev, meta) {
  const { convs, state } = app;
  if (ev.nick !== state.nick) {
    convs.get(ev.room)?.notice(`${ev.nick} joined ${ev.room}`);
    app.refresh(true, ev.room === state.view);
    return;
  }
  if (state.expectLeave.has(ev.room)) return;
  const isNew = !convs.get(ev.room)?.isRoom;
  const conv = convs.room(ev.room);
  if (isNew && meta?.kind !== "rejoin") conv.notice(`you joined ${ev.room}`, "ok");
  // The marker: the server's, or this browser's when it is further (a guest's come back from here).
  const server = Number.isSafeInteger(ev.read) ? ev.read : 0;
  const local = app.reading.reads[ev.room] ?? 0;
  conv.readId = Math.max(conv.readId, server, local);
  conv.unreadUnknown = conv.readId > server;
  if (conv.unreadUnknown) {
    app.send({ type: "read", room: ev.room, id: conv.readId }, { kind: "read" });
  } else if (!inSight(app, conv)) conv.unread = Number.isSafeInteger(ev.unread) ? ev.unread : 0;
  if (meta?.kind === "join-form") app.ui.room.value = "";
  app.rememberOpen();
  if (meta?.kind === "join" || meta?.kind === "join-form") app.show(ev.room, true);
  app.renderRooms();
  app.refresh(true, ev.room === state.view);
}

/** @param {App} app @param {any} ev @param {Meta | undefined} meta */
function onLeft(app, ev, meta) {
  const { convs, state } = app;
  if (ev.nick === state.nick) {
    if (state.expectLeave.delete(ev.room) || meta?.kind === "unlobby") return;
    if (ev.reason === "kick" || ev.reason === "ban") {
      const done = ev.reason === "kick" ? "kicked" : "banned";
      app.tell(
        `you were ${done} from ${ev.room} by ${ev.by}${ev.message ? ` (${ev.message})` : ""}`,
      );
    }
    const conv = convs.get(ev.room);
    if (conv === undefined || !conv.isRoom) return;
    convs.delete(ev.room);
    app.rememberOpen();
    if (state.view === ev.room) {
      const next = convs.rooms().at(-1) ?? convs.dms().at(-1) ?? convs.home();
      app.show(next.key, false);
    }
    app.tell(`you left ${ev.room}`);
    app.renderRooms();
    app.refresh(true, false);
    return;
  }
  let why = "";
  if (ev.reason === "quit") why = ev.message ? ` (quit: ${ev.message})` : " (quit)";
  const conv = convs.get(ev.room);
  conv?.typing.delete(ev.nick);
  if (ev.reason === "kick" || ev.reason === "ban") {
    const done = ev.reason === "kick" ? "kicked" : "banned";
    conv?.notice(
      `${ev.nick} was ${done} by ${ev.by}${ev.message ? ` (${ev.message})` : ""}`,
      "warn",
    );
  } else {
    conv?.notice(`${ev.nick} left ${ev.room}${why}`);
  }
  app.refresh(true, ev.room === state.view);
}

/** Another connection of the same nick read on. @param {App} app @param {any} ev */
function onRead(app, ev) {
  const conv = typeof ev.room === "string" ? app.convs.get(ev.room) : undefined;
  if (conv === undefined || !Number.isSafeInteger(ev.id) || ev.id <= conv.readId) return;
  conv.readId = ev.id;
  if (conv.key !== app.state.view) {
    conv.unread = conv.countAbove();
    if (conv.unread === 0) conv.mentions = 0;
    app.renderRooms();
  }
}

/** @param {App} app @param {any} ev @param {Meta | undefined} meta */
function onRooms(app, ev, meta) {
  const { convs, state } = app;
  state.serverRooms = new Map(ev.rooms.map((/** @type {any} */ r) => [r.room, r.members]));
  for (const r of ev.rooms) {
    const conv = convs.get(r.room);
    // The server counts from the marker it keeps: that count is the one to show.
    if (conv?.isRoom && Number.isSafeInteger(r.unread) && !inSight(app, conv)) {
      conv.unread = r.unread;
      conv.unreadUnknown = false;
      if (conv.unread === 0) conv.mentions = 0;
    }
  }
  app.renderRooms();
  if (meta?.kind === "rooms") {
    const names = ev.rooms.map((/** @type {any} */ r) => `${r.room} (${r.members})`).join(", ");
    app.tell(`rooms: ${names || "none"}`);
  }
}

/** @param {App} app @param {any} ev @param {Meta | undefined} meta */
function onError(app, ev, meta) {
  const { ui, convs } = app;
  const text = String(ev.message ?? ev.code ?? "error");
  if (identityError(app, ev, meta)) return;
  switch (meta?.kind) {
    case "nick":
      ui.nickError.textContent = text;
      ui.nick.setAttribute("aria-invalid", "true");
      return;
    case "join-form":
      ui.joinError.textContent = text;
      ui.room.setAttribute("aria-invalid", "true");
      return;
    case "older": {
      const conv = convs.get(meta.room ?? "");
      if (conv !== undefined) conv.loadingOlder = false;
      app.tell(text, "error");
      return;
    }
    case "rejoin":
      convs.get(meta.room ?? "")?.notice(text, "error");
      app.tell(text, "error");
      return;
    case "search":
      return app.search.failed(text);
    case "refresh":
    case "dm-history":
    case "unlobby":
    case "typing":
    case "read":
      return;
    default:
      app.tell(text, "error");
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
