/**
 * A Lua script run by its SHA1 (`EVALSHA`), as ioredis's `defineCommand`
 * does: the script's text crosses the wire, and is hashed by Redis, once
 * rather than on every call (an append runs one per message). Every script
 * is loaded when a connection is made or made again ({@link loadScripts}); a
 * Redis that does not know one anyway (`NOSCRIPT`: a restart or `SCRIPT
 * FLUSH` not seen yet) gets it with `EVAL`, which also caches it there.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/** Every script made (module constants), for {@link loadScripts}. */
const ALL: LuaScript[] = [];

/** A script and its SHA1. */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
    ALL.push(this);
  }

  /** Runs the script with `keys` keys followed by the other arguments, as `EVAL` would. */
  async run(redis: Redis, keys: number, ...args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      return await redis.eval(this.source, keys, ...args);
    }
  }
}

/**
 * Puts every script into Redis's cache (`SCRIPT LOAD`). Without it, a burst
 * of first calls (a thousand clients joining at once, each claiming its
 * nick) would each be answered `NOSCRIPT` and send the script's text again.
 */
export async function loadScripts(redis: Redis): Promise<void> {
  await Promise.all(ALL.map((script) => redis.script("LOAD", script.source)));
}
