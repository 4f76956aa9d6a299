/**
 * The {@link ClusterLink} contract as a shared test suite: every
 * implementation (memory, Redis) calls {@link clusterLinkContract} from its
 * own test file and must pass the same cases.
 *
 * A case runs on a few connected links, one per "process", each attached to
 * a {@link FakePeer} that records what reaches it. Members join and leave
 * through {@link Process}, which does what the core does: the peer's local
 * view changes and the link is told (`watch` for a room's first member,
 * `joined`, `left`, `unwatch` for its last). So presence is the same whether
 * the link writes it somewhere (Redis) or reads it from the peers (memory).
 *
 * Deliveries may take time: cases wait for them, up to {@link WAIT_MS}, and
 * never sleep. That something did not arrive is checked after a marker sent
 * later by the same process on the same path has arrived.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Awaitable, type ClusterLink, type LinkPeer, whenReady } from "../core/cluster.ts";
import type { RoomCount } from "../core/cluster.ts";
import type { ServerEvent } from "../core/events.ts";

/** How long a case waits for a delivery before it fails. */
export const WAIT_MS = 5000;

/** Links made for one case, connected to each other. */
export interface LinkSet {
  readonly links: readonly ClusterLink[];
  /**
   * Resolves once the fire-and-forget calls made so far (watch, unwatch,
   * joined, left, releaseNick) have taken effect; omitted where they do at once.
   */
  settle?(): Promise<void>;
  /** Ends the links (and whatever they share). */
  close?(): Promise<void>;
}

/** Makes `count` connected links: processes sharing rooms, nicks and presence. */
export type MakeLinks = (count: number) => Promise<LinkSet> | LinkSet;

/** Registers a test (default `Deno.test`; Redis passes its `redisTest`). */
export type Register = (name: string, fn: () => Promise<void>) => void;

/** What reached a fake peer. */
export type Delivery =
  | { kind: "remote"; room: string; event: ServerEvent; rooms?: string[] }
  | { kind: "direct"; nick: string; event: ServerEvent };

/** A {@link LinkPeer} that records deliveries and reports the members it was given. */
export class FakePeer implements LinkPeer {
  readonly received: Delivery[] = [];
  /** Room -> local members in join order. */
  readonly #members = new Map<string, string[]>();
  readonly #waiters = new Set<() => void>();

  remote(room: string, event: ServerEvent, rooms?: string[]): void {
    this.#push(
      rooms === undefined ? { kind: "remote", room, event } : {
        kind: "remote",
        room,
        event,
        rooms,
      },
    );
  }

  direct(nick: string, event: ServerEvent): void {
    this.#push({ kind: "direct", nick, event });
  }

  localMembers(room: string): string[] {
    return [...this.#members.get(room) ?? []];
  }

  localRooms(): RoomCount[] {
    return [...this.#members].map(([room, members]) => ({ room, members: members.length }));
  }

  /** Adds a local member; true if it is the room's first. */
  add(room: string, nick: string): boolean {
    const members = this.#members.get(room);
    if (members !== undefined) return members.push(nick), false;
    this.#members.set(room, [nick]);
    return true;
  }

  /** Removes a local member; true if the room has none left. */
  remove(room: string, nick: string): boolean {
    const members = (this.#members.get(room) ?? []).filter((m) => m !== nick);
    if (members.length > 0) return this.#members.set(room, members), false;
    this.#members.delete(room);
    return true;
  }

  /** Texts of the notices that reached this peer for `room`, in order. */
  notices(room: string): string[] {
    return this.received.flatMap((d) =>
      d.kind === "remote" && d.room === room && d.event.type === "notice" ? [d.event.text] : []
    );
  }

  /** Resolves once `done()` holds, checked now and after each delivery; fails after `timeoutMs`. */
  until(done: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`waited ${timeoutMs} ms for ${what}`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  #push(delivery: Delivery): void {
    this.received.push(delivery);
    for (const check of [...this.#waiters]) check();
  }
}

/** One process of a case: its link and peer; joins and leaves made as the core makes them. */
export class Process {
  readonly link: ClusterLink;
  readonly peer = new FakePeer();

  constructor(link: ClusterLink) {
    this.link = link;
    link.attach(this.peer);
  }

  join(room: string, nick: string): void {
    if (this.peer.add(room, nick)) this.link.watch(room);
    this.link.joined(room, nick);
  }

  leave(room: string, nick: string): void {
    this.link.left(room, nick);
    if (this.peer.remove(room, nick)) this.link.unwatch(room);
  }
}

/** A notice: the event cases publish (links never look inside events). */
export function notice(text: string): ServerEvent {
  return { type: "notice", text };
}

let markers = 0;

/**
 * Publishes a marker from `from` to `room` and waits until `to` has it: what
 * `from` published before on that path has arrived by then, if it ever will.
 */
async function roundTrip(from: Process, to: Process, room: string): Promise<void> {
  const text = `marker ${++markers}`;
  from.link.publish(room, notice(text));
  await to.peer.until(() => to.peer.notices(room).includes(text), `${text} in ${room}`);
}

const sorted = (names: string[]) => [...names].sort();

/** Registers the contract's cases for the links `make` gives, named after `name`. */
export function clusterLinkContract(
  name: string,
  make: MakeLinks,
  register: Register = (title, fn) => Deno.test(title, fn),
): void {
  const test = (
    title: string,
    count: number,
    fn: (procs: Process[], settle: () => Promise<void>) => Promise<void>,
  ) => {
    register(`${name} cluster link: ${title}`, async () => {
      const made = await make(count);
      try {
        await fn(made.links.map((link) => new Process(link)), async () => await made.settle?.());
      } finally {
        await made.close?.();
      }
    });
  };

  test(
    "publish reaches the processes watching the room, never the publisher",
    3,
    async (p, settle) => {
      const [a, b, c] = p;
      a.join("dev", "ann");
      b.join("dev", "bo");
      b.join("side", "bo");
      c.join("side", "cy");
      await settle();
      a.link.publish("dev", notice("one"));
      await b.peer.until(() => b.peer.notices("dev").includes("one"), "'one' at b");
      await roundTrip(a, c, "side");
      assert.deepEqual(c.peer.notices("dev"), [], "c does not watch dev");
      await roundTrip(b, a, "dev");
      assert.ok(!a.peer.notices("dev").includes("one"), "the publisher never gets its own event");
      await roundTrip(a, b, "side");
      assert.deepEqual(b.peer.notices("dev"), ["one"], "delivered once");
      assert.deepEqual(b.peer.received[0], { kind: "remote", room: "dev", event: notice("one") });
    },
  );

  test("a burst of publishes arrives whole and in order, across rooms", 2, async (p, settle) => {
    const [a, b] = p;
    for (const room of ["dev", "side"]) {
      a.join(room, "ann");
      b.join(room, "bo");
    }
    await settle();
    // One turn: long runs in one room, single events between the rooms.
    const sent: string[] = [];
    for (let i = 0; i < 300; i++) {
      const room = i % 100 < 90 ? "dev" : i % 2 === 0 ? "side" : "dev";
      sent.push(`${room} ${i}`);
      a.link.publish(room, notice(`${room} ${i}`));
    }
    await b.peer.until(() => b.peer.received.length === sent.length, "the burst at b");
    // Each event as `<room it arrived in> <text>`: in order, and in the room it was published to.
    const got = b.peer.received.map((d) =>
      `${d.kind === "remote" ? d.room : "direct"} ${d.event.type === "notice" ? d.event.text : ""}`
    );
    assert.deepEqual(got, sent.map((text) => `${text.split(" ")[0]} ${text}`));
  });

  test("publish stops reaching a process once it unwatched the room", 2, async (p, settle) => {
    const [a, b] = p;
    a.join("dev", "ann");
    b.join("dev", "bo");
    b.join("side", "bo");
    await settle();
    a.link.publish("dev", notice("before"));
    await b.peer.until(() => b.peer.notices("dev").includes("before"), "'before' at b");
    b.leave("dev", "bo");
    await settle();
    a.link.publish("dev", notice("after"));
    await roundTrip(a, b, "side");
    assert.deepEqual(b.peer.notices("dev"), ["before"]);
  });

  test(
    "publishNick reaches each shared room a process watches, with the rooms list",
    3,
    async (p, settle) => {
      const [a, b, c] = p;
      a.join("dev", "ann");
      a.join("ops", "ann");
      b.join("dev", "bo");
      b.join("ops", "bo");
      c.join("ops", "cy");
      c.join("side", "cy");
      await settle();
      const event: ServerEvent = { type: "nick", old: "ann", nick: "anna" };
      a.link.publishNick(event, ["dev", "ops"]);
      const nicks = (q: Process) => q.peer.received.filter((d) => d.event.type === "nick");
      await b.peer.until(() => nicks(b).length === 2, "the nick change at b in dev and ops");
      await c.peer.until(() => nicks(c).length === 1, "the nick change at c in ops");
      assert.deepEqual(sorted(nicks(b).map((d) => d.kind === "remote" ? d.room : "")), [
        "dev",
        "ops",
      ]);
      for (const d of [...nicks(b), ...nicks(c)]) {
        assert.deepEqual(d.kind === "remote" && d.rooms, ["dev", "ops"]);
        assert.deepEqual(d.event, event);
      }
      await roundTrip(a, c, "side");
      assert.equal(nicks(c).length, 1, "c is not in dev");
      await roundTrip(b, a, "dev");
      assert.equal(nicks(a).length, 0, "never back to the renamer's process");
    },
  );

  test(
    "a nick claimed by one process is refused to another, and free once released",
    2,
    async (p, settle) => {
      const [a, b] = p;
      assert.equal(await a.link.claimNick("Alice"), true);
      assert.equal(await b.link.claimNick("ALICE"), false, "nicks are unique ignoring case");
      assert.equal(await a.link.claimNick("alice"), true, "the owner may claim it again");
      b.link.releaseNick("alice");
      await settle();
      assert.equal(await b.link.claimNick("alice"), false, "only the owner releases it");
      a.link.releaseNick("ALICE");
      await settle();
      assert.equal(await b.link.claimNick("alice"), true, "released in whatever case");
      assert.equal(await a.link.claimNick("Alice"), false);
    },
  );

  test(
    "findNick gives the nick as its owner last claimed it, null when nobody has it",
    2,
    async (p, settle) => {
      const [a, b] = p;
      assert.equal(await b.link.findNick("alice"), null);
      assert.equal(await a.link.claimNick("Alice"), true);
      assert.equal(await b.link.findNick("aLICE"), "Alice");
      assert.equal(await a.link.findNick("alice"), "Alice", "the owner's own process finds it too");
      assert.equal(await a.link.claimNick("ALICE"), true);
      assert.equal(await b.link.findNick("alice"), "ALICE", "a change of case is seen");
      a.link.releaseNick("ALICE");
      await settle();
      assert.equal(await b.link.findNick("alice"), null);
    },
  );

  test(
    "sendDirect delivers to the owner's peer, and is false when nobody has the nick",
    3,
    async (p, settle) => {
      const [a, b, c] = p;
      assert.equal(await a.link.claimNick("Ann"), true);
      assert.equal(await b.link.sendDirect("Ann", notice("psst")), true);
      await a.peer.until(() => a.peer.received.length > 0, "the DM at a");
      assert.deepEqual(a.peer.received, [{ kind: "direct", nick: "Ann", event: notice("psst") }]);
      assert.equal(await b.link.sendDirect("nobody", notice("lost")), false);
      a.link.releaseNick("Ann");
      await settle();
      assert.equal(
        await b.link.sendDirect("Ann", notice("late")),
        false,
        "released: nobody has it",
      );
      assert.deepEqual(c.peer.received, [], "no one else was told anything");
      assert.deepEqual(b.peer.received, []);
    },
  );

  test("guest numbers never repeat across processes", 3, async (p, settle) => {
    const seen: number[] = [];
    // Rounds of a few dozen per process, as connections come: more than one block each.
    for (let round = 0; round < 4; round++) {
      for (const { link } of p) for (let i = 0; i < 40; i++) seen.push(link.nextGuest());
      await settle();
    }
    assert.ok(seen.every((n) => Number.isInteger(n) && n > 0), "positive integers");
    assert.equal(new Set(seen).size, seen.length, "no number handed out twice");
  });

  test(
    "who and rooms see the members of every process as they join and leave",
    3,
    async (p, settle) => {
      const [a, b, c] = p;
      a.join("dev", "ann");
      b.join("dev", "bo");
      b.join("ops", "bo");
      c.join("dev", "cy");
      await settle();
      const expect = async (who: Record<string, string[]>, rooms: RoomCount[]) => {
        for (const [i, { link }] of p.entries()) {
          for (const [room, members] of Object.entries(who)) {
            assert.deepEqual(
              sorted(await link.who(room)),
              members,
              `who ${room} from process ${i}`,
            );
          }
          assert.deepEqual(await link.rooms(), rooms, `rooms from process ${i}`);
        }
      };
      await expect({ dev: ["ann", "bo", "cy"], ops: ["bo"], none: [] }, [
        { room: "dev", members: 3 },
        { room: "ops", members: 1 },
      ]);
      b.leave("dev", "bo");
      c.leave("dev", "cy");
      await settle();
      await expect({ dev: ["ann"], ops: ["bo"] }, [
        { room: "dev", members: 1 },
        { room: "ops", members: 1 },
      ]);
      b.leave("ops", "bo");
      await settle();
      await expect({ dev: ["ann"], ops: [] }, [{ room: "dev", members: 1 }]);
    },
  );

  test(
    "queries answer a value or a promise, and whenReady or await takes either",
    2,
    async (p, settle) => {
      const [a, b] = p;
      a.join("dev", "ann");
      assert.equal(await a.link.claimNick("ann"), true);
      await settle();
      const queries: [string, () => Awaitable<unknown>][] = [
        ["who", () => b.link.who("dev")],
        ["rooms", () => b.link.rooms()],
        ["findNick", () => b.link.findNick("ann")],
        ["claimNick", () => b.link.claimNick("bo")],
        ["sendDirect", () => b.link.sendDirect("nobody", notice("x"))],
      ];
      for (const [query, ask] of queries) {
        const answer = ask();
        let taken = false;
        const got = whenReady(answer, (value) => (taken = true, value), (err) => {
          throw err;
        });
        if (!(answer instanceof Promise)) assert.ok(taken, `${query}: a value is taken at once`);
        assert.deepEqual(await got, await answer, query);
      }
      const failed = await whenReady(Promise.reject(new Error("down")), () => "ok", () => "failed");
      assert.equal(failed, "failed");
    },
  );
}
