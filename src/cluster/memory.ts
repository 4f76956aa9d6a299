/**
 * The in-memory {@link ClusterLink}, beside the Redis one (`redis.ts`).
 *
 * `new MemoryLink()` is a lone process, the default without `--redis`: there
 * is nobody to publish to, every nick is free as far as other processes go
 * (the core checks its own nicks first), and queries answer at once from the
 * process's own view, so a single process replies in the same turn.
 *
 * `new MemoryNetwork()` hands out links that behave like processes sharing a
 * Redis, so the core's cluster paths can be tested without one: events reach
 * the other links' peers on a later microtask (never the publisher's), nicks
 * and guest numbers are unique across the network, and queries (still at
 * once) see every link's peer.
 *
 * @example A lone process
 * ```ts
 * import { MemoryLink } from "./memory.ts";
 *
 * const link = new MemoryLink();
 * link.attach({
 *   remote() {},
 *   direct() {},
 *   localMembers: (room) => room === "dev" ? ["ann"] : [],
 *   localRooms: () => [{ room: "dev", members: 1 }],
 * });
 * if (link.who("dev")[0] !== "ann" || link.nextGuest() !== 1) throw new Error("unexpected");
 * ```
 *
 * @module
 */

import type { ClusterLink, LinkPeer, RoomCount } from "../core/cluster.ts";
import { nickKey } from "../core/names.ts";
import type { ServerEvent } from "../core/events.ts";

/** One link's place on a network: where its deliveries go, which rooms it receives. */
interface Node {
  peer: LinkPeer | null;
  readonly watched: Set<string>;
}

/** What the links of one network share. */
class Switchboard {
  readonly nodes: Node[] = [];
  /** Lower-cased nick -> the link that claimed it, and the nick as it spelled it. */
  readonly nicks = new Map<string, { node: Node; nick: string }>();
  guests = 0;
}

/**
 * Several links that behave like several processes sharing one Redis.
 *
 * @example
 * ```ts
 * import { MemoryNetwork } from "./memory.ts";
 *
 * const network = new MemoryNetwork();
 * const [a, b] = [network.link(), network.link()];
 * if (a.claimNick("ann") !== true || b.claimNick("ANN") !== false) throw new Error("unexpected");
 * ```
 */
export class MemoryNetwork {
  readonly #board = new Switchboard();

  /** A new link on this network: one more process. */
  link(): MemoryLink {
    return new MemoryLink(this.#board);
  }
}

/** {@link ClusterLink} in memory: a lone process, or one of a {@link MemoryNetwork}. */
export class MemoryLink implements ClusterLink {
  /** `null` for a lone process. */
  readonly #board: Switchboard | null;
  readonly #node: Node = { peer: null, watched: new Set() };
  #guests = 0;

  /** A lone process; use {@link MemoryNetwork.link} for one of several. */
  constructor(board: Switchboard | null = null) {
    this.#board = board;
    board?.nodes.push(this.#node);
  }

  attach(peer: LinkPeer): void {
    this.#node.peer = peer;
  }

  publish(room: string, event: ServerEvent): void {
    this.#send(room, event);
  }

  publishNick(event: ServerEvent, rooms: string[]): void {
    // Once per room, as on Redis: the receiver delivers once per member.
    for (const room of rooms) this.#send(room, event, rooms);
  }

  claimNick(nick: string): boolean {
    if (this.#board === null) return true;
    const claim = this.#board.nicks.get(nickKey(nick));
    if (claim !== undefined && claim.node !== this.#node) return false;
    // Claimed again by its owner: the spelling may have changed.
    this.#board.nicks.set(nickKey(nick), { node: this.#node, nick });
    return true;
  }

  releaseNick(nick: string): void {
    if (this.#board?.nicks.get(nickKey(nick))?.node === this.#node) {
      this.#board.nicks.delete(nickKey(nick));
    }
  }

  findNick(nick: string): string | null {
    return this.#board?.nicks.get(nickKey(nick))?.nick ?? null;
  }

  sendDirect(nick: string, event: ServerEvent): boolean {
    const owner = this.#board?.nicks.get(nickKey(nick))?.node;
    if (owner === undefined || owner === this.#node || owner.peer === null) return false;
    owner.peer.direct(nick, event);
    return true;
  }

  nextGuest(): number {
    return this.#board === null ? ++this.#guests : ++this.#board.guests;
  }

  watch(room: string): void {
    this.#node.watched.add(room);
  }

  unwatch(room: string): void {
    this.#node.watched.delete(room);
  }

  // Presence is each peer's own view, read when asked.
  joined(_room: string, _nick: string): void {}
  left(_room: string, _nick: string): void {}

  who(room: string): string[] {
    return this.#peers().flatMap((peer) => peer.localMembers(room));
  }

  rooms(): RoomCount[] {
    const counts = new Map<string, number>();
    for (const peer of this.#peers()) {
      for (const { room, members } of peer.localRooms()) {
        counts.set(room, (counts.get(room) ?? 0) + members);
      }
    }
    return [...counts]
      .filter(([, members]) => members > 0)
      .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
      .map(([room, members]) => ({ room, members }));
  }

  /**
   * To the other links watching `room` when it is sent and still when it
   * arrives, on a later microtask (as from Redis, never in the sender's turn).
   */
  #send(room: string, event: ServerEvent, rooms?: string[]): void {
    for (const node of this.#board?.nodes ?? []) {
      if (node === this.#node || !node.watched.has(room)) continue;
      queueMicrotask(() => {
        if (node.watched.has(room)) node.peer?.remote(room, event, rooms);
      });
    }
  }

  /** This link's peer first, then the others' in the order their links were made. */
  #peers(): LinkPeer[] {
    const nodes = this.#board?.nodes ?? [this.#node];
    return [this.#node, ...nodes.filter((n) => n !== this.#node)]
      .flatMap((n) => n.peer === null ? [] : [n.peer]);
  }
}
