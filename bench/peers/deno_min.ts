/**
 * A minimal Deno chat server of the text protocol in the "careful" form of
 * ../shared/PERFORMANCE.md: the runtime's own cost, a reference for the real server.
 * Rooms and `/join` only, guest nicks, no history, no limits but the outbound bound.
 *
 * TCP: `conn.read` into a small buffer, lines split on bytes, a broadcast encoded once
 * and the same bytes queued to every member, one write in flight per connection with
 * everything queued meanwhile joined into the next write. WebSocket (`--ws`, path
 * `/ws`): `Deno.serve` + `upgradeWebSocket`, a member's pending events joined into one
 * frame, every dirty member flushed from one `setImmediate` callback.
 *
 * Cluster (`--redis HOST:PORT`): every process publishes the broadcasts of
 * its own members to Redis and fans out the others' to its own. A turn's
 * lines to one room leave in one `PUBLISH` (`<process>\n<line>\n<line>...`),
 * commands pipelined in one write; one `PSUBSCRIBE` receives every room, its
 * own process's skipped. Hand-rolled RESP, no store: what the shape costs.
 *
 * Usage: deno run -A bench/peers/deno_min.ts [--echo] 127.0.0.1:7000 [--ws 127.0.0.1:7001]
 *          [--redis 127.0.0.1:6379]
 */
import { setImmediate } from "node:timers";

const MAX_QUEUED = 4 << 20; // outbound bytes (TCP) or chars (WS) before a member is cut off
const READ_BUF = 4096; // first read buffer; doubles while a line does not fit
const MAX_LINE = 64 << 10; // a longer line is dropped
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A broadcast line: formatted once, encoded at most once (for the TCP members). */
class Line {
  #bytes?: Uint8Array;
  constructor(readonly text: string) {}
  get bytes(): Uint8Array {
    return this.#bytes ??= enc.encode(this.text + "\n");
  }
}

interface Member {
  readonly nick: string;
  room: string;
  send(line: Line): void;
}

const rooms = new Map<string, Set<Member>>();
let lastId = 0;

function join(m: Member, room: string): void {
  leave(m);
  const set = rooms.get(room) ?? rooms.set(room, new Set()).get(room)!;
  set.add(m);
  m.room = room;
}

function leave(m: Member): void {
  const set = rooms.get(m.room);
  if (set?.delete(m) && set.size === 0) rooms.delete(m.room);
}

function welcome(m: Member): void {
  m.send(new Line(`* welcome to chat, you are ${m.nick} in lobby (this peer knows /join)`));
  join(m, "lobby");
}

function handleLine(m: Member, line: string): void {
  if (line.endsWith("\r")) line = line.slice(0, -1);
  if (line === "") return;
  if (line.startsWith("/join ")) {
    const room = line.slice(6).trim().replace(/^#/, "").toLowerCase();
    if (room === "") return m.send(new Line("! usage: /join <room>"));
    m.send(new Line(`* ${m.nick} joined ${room}`));
    return join(m, room);
  }
  if (line.startsWith("/") && !line.startsWith("//")) {
    return m.send(new Line("! unknown command (this peer knows /join)"));
  }
  const out = new Line(`[${m.room}] ${m.nick}: ${line.startsWith("//") ? line.slice(1) : line}`);
  for (const x of rooms.get(m.room) ?? []) x.send(out);
  cluster?.publish(m.room, out.text);
}

/** The Redis link of `--redis`: publishes a turn's lines per room, fans out the others'. */
class Cluster {
  readonly #id = crypto.randomUUID().slice(0, 8);
  #outgoing = new Map<string, string[]>();
  #writing: Promise<void> = Promise.resolve();
  #buf = new Uint8Array(64 << 10);
  #have = 0;

  constructor(readonly pub: Deno.TcpConn, readonly sub: Deno.TcpConn) {}

  static async connect(addr: string): Promise<Cluster> {
    const [pub, sub] = [await Deno.connect(hostPort(addr)), await Deno.connect(hostPort(addr))];
    const c = new Cluster(pub, sub);
    await writeAll(sub, resp(["PSUBSCRIBE", "min:*"]));
    c.#drain(pub);
    c.#receive();
    return c;
  }

  publish(room: string, text: string): void {
    const lines = this.#outgoing.get(room);
    if (lines) return void lines.push(text);
    if (this.#outgoing.size === 0) setImmediate(() => this.#flush());
    this.#outgoing.set(room, [text]);
  }

  #flush(): void {
    const cmds = [...this.#outgoing].map(([room, lines]) =>
      resp(["PUBLISH", `min:${room}`, `${this.#id}\n${lines.join("\n")}`])
    );
    this.#outgoing = new Map();
    const bytes = cmds.length === 1 ? cmds[0] : concat(cmds);
    // One write at a time: a partial write must finish before the next turn's commands.
    this.#writing = this.#writing.then(() => writeAll(this.pub, bytes))
      .catch((e) => console.error(`publish: ${e}`));
  }

  /** The publish connection's replies (integers), read and dropped. */
  async #drain(conn: Deno.Conn): Promise<void> {
    const buf = new Uint8Array(16 << 10);
    while ((await conn.read(buf)) !== null);
  }

  /** `pmessage` pushes from the subscription: lines of other processes, to local members. */
  async #receive(): Promise<void> {
    for (;;) {
      if (this.#have === this.#buf.length) {
        const bigger = new Uint8Array(this.#buf.length * 2);
        bigger.set(this.#buf);
        this.#buf = bigger;
      }
      const n = await this.sub.read(this.#buf.subarray(this.#have));
      if (n === null) throw new Error("redis subscription closed");
      this.#have += n;
      let at = 0;
      for (let push; (push = parseArray(this.#buf, at, this.#have)) !== null;) {
        at = push.end;
        if (push.items[0] === "pmessage") this.#deliver(push.items[2], push.items[3]);
      }
      this.#buf.copyWithin(0, at, this.#have);
      this.#have -= at;
    }
  }

  #deliver(channel: string, payload: string): void {
    const lines = payload.split("\n");
    if (lines[0] === this.#id) return;
    const members = rooms.get(channel.slice(4));
    if (!members) return;
    for (let i = 1; i < lines.length; i++) {
      const out = new Line(lines[i]);
      for (const x of members) x.send(out);
    }
  }
}

let cluster: Cluster | null = null;

function resp(args: string[]): Uint8Array {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${enc.encode(a).length}\r\n${a}\r\n`;
  return enc.encode(s);
}

/** One RESP array of bulk strings and integers from `buf[at..end)`, or null if incomplete. */
function parseArray(
  buf: Uint8Array,
  at: number,
  end: number,
): { items: string[]; end: number } | null {
  const header = readLine(buf, at, end);
  if (header === null) return null;
  const items: string[] = [];
  let pos = header.next;
  for (let i = 0, n = Number(header.text.slice(1)); i < n; i++) {
    const line = readLine(buf, pos, end);
    if (line === null) return null;
    if (line.text[0] !== "$") {
      items.push(line.text.slice(1));
      pos = line.next;
      continue;
    }
    const len = Number(line.text.slice(1));
    if (line.next + len + 2 > end) return null;
    items.push(dec.decode(buf.subarray(line.next, line.next + len)));
    pos = line.next + len + 2;
  }
  return { items, end: pos };
}

function readLine(buf: Uint8Array, at: number, end: number): { text: string; next: number } | null {
  const cr = buf.indexOf(13, at);
  if (cr === -1 || cr + 1 >= end) return null;
  return { text: dec.decode(buf.subarray(at, cr)), next: cr + 2 };
}

async function writeAll(conn: Deno.Conn, buf: Uint8Array): Promise<void> {
  for (let off = 0; off < buf.length;) off += await conn.write(buf.subarray(off));
}

class TcpMember implements Member {
  room = "";
  cut = false;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  constructor(readonly conn: Deno.TcpConn, readonly nick: string) {}

  send(line: Line): void {
    if (this.cut) return;
    if ((this.#queued += line.bytes.length) > MAX_QUEUED) {
      this.cut = true; // too slow: closing fails its pending read, and serveTcp cleans up
      this.#queue = [];
      return this.conn.close();
    }
    this.#queue.push(line.bytes);
    if (this.#writing) return;
    this.#writing = true;
    // from a microtask, so all the lines of one read chunk leave in one write
    queueMicrotask(() => this.#flush());
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.cut) {
        const q = this.#queue;
        [this.#queue, this.#queued] = [[], 0];
        const buf = q.length === 1 ? q[0] : concat(q);
        for (let off = 0; off < buf.length;) off += await this.conn.write(buf.subarray(off));
      }
    } catch {
      // the peer went away: its read fails too
    } finally {
      this.#writing = false;
    }
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((n, p) => (out.set(p, n), n + p.length), 0);
  return out;
}

/** Calls `onLine` for every complete line (without its `\n`) until EOF. */
async function readLines(conn: Deno.Conn, onLine: (line: string) => void): Promise<void> {
  let buf = new Uint8Array(READ_BUF);
  let [have, skipping] = [0, false]; // skipping: inside a line that was too long
  for (;;) {
    if (have === buf.length && buf.length < MAX_LINE) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    } else if (have === buf.length) [have, skipping] = [0, true];
    const n = await conn.read(buf.subarray(have));
    if (n === null) return;
    const end = have + n;
    let start = 0;
    for (let nl = buf.indexOf(10, have); nl !== -1 && nl < end; nl = buf.indexOf(10, start)) {
      if (!skipping) onLine(dec.decode(buf.subarray(start, nl)));
      [skipping, start] = [false, nl + 1];
    }
    buf.copyWithin(0, start, end);
    have = end - start;
  }
}

/** Echo mode: lines come back verbatim, so each chunk goes back as read. */
async function echoLines(conn: Deno.Conn): Promise<void> {
  const buf = new Uint8Array(READ_BUF);
  for (let n; (n = await conn.read(buf)) !== null;) {
    for (let off = 0; off < n;) off += await conn.write(buf.subarray(off, n));
  }
}

async function serveTcp(conn: Deno.TcpConn, echo: boolean): Promise<void> {
  conn.setNoDelay(true);
  const m = new TcpMember(conn, `guest-${++lastId}`);
  try {
    if (echo) return await echoLines(conn);
    welcome(m);
    await readLines(conn, (line) => handleLine(m, line));
  } catch {
    // reset by the peer, or closed as too slow
  } finally {
    leave(m);
    if (!m.cut) conn.close();
  }
}

class WsMember implements Member {
  room = "";
  pending: string[] = [];
  chars = 0;
  constructor(readonly ws: WebSocket, readonly nick: string) {}

  send(line: Line): void {
    this.chars += line.text.length;
    if (this.pending.push(line.text) > 1) return;
    if (dirty.push(this) === 1) setImmediate(flushWs);
  }
}

let dirty: WsMember[] = [];

/** One frame per dirty member: its pending events joined with `\n`. */
function flushWs(): void {
  const list = dirty;
  dirty = [];
  for (const m of list) {
    const [frame, chars] = [m.pending.join("\n"), m.chars];
    [m.pending, m.chars] = [[], 0];
    if (m.ws.readyState !== WebSocket.OPEN) continue;
    if (m.ws.bufferedAmount + chars > MAX_QUEUED) m.ws.close(1008, "too slow");
    else m.ws.send(frame);
  }
}

function serveWs(req: Request, echo: boolean): Response {
  if (new URL(req.url).pathname !== "/ws" || req.headers.get("upgrade") !== "websocket") {
    return new Response("WebSocket at /ws\n", { status: 404 });
  }
  const { socket, response } = Deno.upgradeWebSocket(req);
  const m = new WsMember(socket, `guest-${++lastId}`);
  if (echo) socket.onmessage = (e) => socket.send(e.data);
  else {
    socket.onopen = () => welcome(m);
    socket.onmessage = (e) => String(e.data).split("\n").forEach((l) => handleLine(m, l));
    socket.onclose = () => leave(m);
  }
  return response;
}

function hostPort(addr: string): { hostname: string; port: number } {
  const i = addr.lastIndexOf(":");
  return { hostname: addr.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(addr.slice(i + 1)) };
}

if (import.meta.main) {
  const args = Deno.args;
  const echo = args.includes("--echo");
  const wsAt = args.indexOf("--ws");
  const redisAt = args.indexOf("--redis");
  const addr = args.find((a, i) =>
    !a.startsWith("--") && (wsAt < 0 || i !== wsAt + 1) && (redisAt < 0 || i !== redisAt + 1)
  );
  if (!addr) {
    console.error("usage: deno_min.ts [--echo] HOST:PORT [--ws HOST:PORT] [--redis HOST:PORT]");
    Deno.exit(2);
  }
  const mode = echo ? "echo" : "chat";
  if (redisAt >= 0) cluster = await Cluster.connect(args[redisAt + 1]);
  if (wsAt >= 0) {
    const onListen = (a: Deno.NetAddr) =>
      console.error(`ws on ${a.hostname}:${a.port}/ws (${mode})`);
    Deno.serve({ ...hostPort(args[wsAt + 1]), onListen }, (req) => serveWs(req, echo));
  }
  const listener = Deno.listen({ ...hostPort(addr), transport: "tcp" });
  console.error(`listening on ${addr} (${mode} mode)`);
  for (;;) {
    try {
      serveTcp(await listener.accept(), echo);
    } catch (e) {
      console.error(`accept: ${e}`); // out of descriptors and the like: keep accepting
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
