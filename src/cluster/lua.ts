/**
 * A Lua script run by its SHA1 (`EVALSHA`), as ioredis's `defineCommand`
 * does: the script's text crosses the wire, and is hashed by Redis, once per
 * connection rather than on every call (an append runs one per message). A
 * Redis that does not know the script yet (`NOSCRIPT`: first use, a restart,
 * `SCRIPT FLUSH`) gets it with `EVAL`, which also caches it there.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Redis } from "ioredis";

/** A script and its SHA1. */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
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
