// A minimal Bun chat server of the text protocol: Bun's own WebSocket pub/sub (a room is
// a topic; `server.publish` sends the line to every subscriber, the sender included),
// plus text lines over TCP with `Bun.listen` on a second address. A peer for
// ../shared/loadgen, not the project's server: rooms and `/join` only, guest nicks.
//
// Usage: bun bench/peers/bun_ws.js [--echo] 127.0.0.1:7001 [--tcp 127.0.0.1:7000]
//   WebSocket at ws://127.0.0.1:7001/ws; --echo: every line back to its sender only.

const MAX_QUEUED = 4 << 20; // outbound bytes before a member is cut off as too slow
const MAX_LINE = 64 << 10; // a longer line is dropped
const enc = new TextEncoder();
const dec = new TextDecoder();

const args = Bun.argv.slice(2);
const echo = args.includes("--echo");
const tcpAt = args.indexOf("--tcp");
const addr = args.find((a, i) => !a.startsWith("--") && (tcpAt < 0 || i !== tcpAt + 1));
if (!addr) {
  console.error("usage: bun_ws.js [--echo] HOST:PORT [--tcp HOST:PORT]");
  process.exit(2);
}

function hostPort(a) {
  const i = a.lastIndexOf(":");
  return { hostname: a.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(a.slice(i + 1)) };
}

let lastId = 0;
const tcpRooms = new Map(); // room -> Set of TcpMember (WebSocket members are topic subscribers)

function handleLine(m, line) {
  if (line.endsWith("\r")) line = line.slice(0, -1);
  if (line === "") return;
  if (line.startsWith("/join ")) {
    const room = line.slice(6).trim().replace(/^#/, "").toLowerCase();
    if (room === "") return m.reply("! usage: /join <room>");
    m.reply(`* ${m.nick} joined ${room}`);
    return m.join(room);
  }
  if (line.startsWith("/") && !line.startsWith("//")) {
    return m.reply("! unknown command (this peer knows /join)");
  }
  const text = `[${m.room}] ${m.nick}: ${line.startsWith("//") ? line.slice(1) : line}`;
  server.publish(m.room, text);
  const members = tcpRooms.get(m.room);
  if (!members) return;
  const bytes = enc.encode(text + "\n"); // once, for every TCP member
  for (const x of members) x.push(bytes);
}

function welcome(m) {
  m.reply(`* welcome to chat, you are ${m.nick} in lobby (this peer knows /join)`);
  m.join("lobby");
}

// ---------- WebSocket ----------

class WsMember {
  room = "";
  constructor(nick) {
    this.nick = nick;
  }
  reply(text) {
    this.ws.send(text);
  }
  join(room) {
    if (this.room) this.ws.unsubscribe(this.room);
    this.ws.subscribe(this.room = room);
  }
}

const server = Bun.serve({
  ...hostPort(addr),
  fetch(req, server) {
    if (new URL(req.url).pathname !== "/ws") {
      return new Response("WebSocket at /ws\n", { status: 404 });
    }
    if (server.upgrade(req, { data: new WsMember(`guest-${++lastId}`) })) return;
    return new Response("expected a WebSocket upgrade\n", { status: 400 });
  },
  websocket: {
    perMessageDeflate: false,
    backpressureLimit: MAX_QUEUED,
    closeOnBackpressureLimit: true,
    open(ws) {
      ws.data.ws = ws;
      if (!echo) welcome(ws.data);
    },
    message(ws, msg) {
      if (echo) return void ws.send(msg);
      for (const line of String(msg).split("\n")) handleLine(ws.data, line);
    },
    close() {}, // Bun drops a closed socket's topics itself
  },
});

// ---------- TCP (optional, --tcp) ----------

let dirty = []; // TCP members with lines queued since the last flush

class TcpMember {
  room = "";
  queue = []; // lines since the last write
  queued = 0; // bytes in queue and pending
  pending = null; // bytes the kernel has not taken yet; the rest waits for drain
  cut = false;
  rest = null; // bytes of an incomplete line
  constructor(s, nick) {
    this.s = s;
    this.nick = nick;
  }
  reply(text) {
    this.push(enc.encode(text + "\n"));
  }
  join(room) {
    this.leave();
    if (!tcpRooms.has(room)) tcpRooms.set(room, new Set());
    tcpRooms.get(room).add(this);
    this.room = room;
  }
  leave() {
    const set = tcpRooms.get(this.room);
    if (set?.delete(this) && set.size === 0) tcpRooms.delete(this.room);
  }
  push(bytes) {
    if (this.cut) return;
    if ((this.queued += bytes.length) > MAX_QUEUED) {
      this.cut = true;
      return void this.s.terminate();
    }
    // written from a microtask, so all the lines of one read chunk leave in one write
    if (this.queue.push(bytes) === 1 && !this.pending && dirty.push(this) === 1) {
      queueMicrotask(flushTcp);
    }
  }
  /** One write of everything queued; what the kernel does not take waits for `drain`. */
  write() {
    if (this.cut || this.pending || this.queue.length === 0) return;
    const buf = this.queue.length === 1 ? this.queue[0] : concat(this.queue);
    this.queue = [];
    const n = this.s.write(buf);
    this.pending = n < buf.length ? buf.subarray(Math.max(n, 0)) : null;
    this.queued = this.pending?.length ?? 0;
  }
  drain() {
    if (!this.pending) return;
    const n = this.s.write(this.pending);
    this.pending = n < this.pending.length ? this.pending.subarray(Math.max(n, 0)) : null;
    this.queued = (this.pending?.length ?? 0) + this.queue.reduce((k, p) => k + p.length, 0);
    this.write();
  }
}

function flushTcp() {
  const list = dirty;
  dirty = [];
  for (const m of list) m.write();
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((n, p) => (out.set(p, n), n + p.length), 0);
  return out;
}

if (tcpAt >= 0) {
  Bun.listen({
    ...hostPort(args[tcpAt + 1]),
    socket: {
      open(s) {
        s.setNoDelay?.(true);
        s.data = new TcpMember(s, `guest-${++lastId}`);
        if (!echo) welcome(s.data);
      },
      data(s, chunk) {
        const m = s.data;
        if (echo) return m.push(chunk.slice()); // lines come back verbatim
        let buf = m.rest ? concat([m.rest, chunk]) : chunk;
        let start = 0;
        for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
          handleLine(m, dec.decode(buf.subarray(start, nl)));
          start = nl + 1;
        }
        buf = buf.subarray(start);
        m.rest = buf.length === 0 || buf.length > MAX_LINE ? null : buf.slice();
      },
      drain(s) {
        s.data.drain();
      },
      close(s) {
        s.data.cut = true;
        s.data.leave();
      },
      error() {},
    },
  });
}

const tcp = tcpAt >= 0 ? `, tcp on ${args[tcpAt + 1]}` : "";
console.error(`ws on ${addr}/ws${tcp} (${echo ? "echo" : "chat"} mode, bun ${Bun.version})`);
