/**
 * A real `redis-server` for tests, started by the test itself on a free
 * loopback port. Where `redis-server` is not installed the tests that need it
 * are ignored, except under `CI=true`, where they fail and say why.
 *
 * @module
 */

import { Redis } from "ioredis";

/** A running redis-server started by a test. */
export interface RedisProcess extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  /** Stops it at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** The same without waiting (for an unload handler). */
  stopSync(): void;
}

/** True if `redis-server` can be run here. */
export function redisAvailable(): boolean {
  try {
    return new Deno.Command("redis-server", { args: ["--version"], stdout: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

/**
 * Registers a test that needs Redis: ignored (with the reason in its name)
 * without `redis-server`, failing instead under `CI=true`.
 */
export function redisTest(name: string, fn: () => Promise<void>): void {
  if (redisAvailable()) {
    Deno.test(name, fn);
  } else if (Deno.env.get("CI") === "true") {
    Deno.test(name, () => {
      throw new Error("redis-server not found: install Debian's redis-server package");
    });
  } else {
    Deno.test({ name: `${name} (ignored: redis-server not installed)`, ignore: true, fn });
  }
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Starts redis-server (no persistence) on `port` (default: a free one) and waits until it answers. */
export async function startRedis(port = freePort()): Promise<RedisProcess> {
  const child = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode("PING\r\n"));
      const buf = new Uint8Array(16);
      const n = await conn.read(buf);
      conn.close();
      if (n !== null && new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG")) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await child.status;
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  let stopped = false;
  const kill = async () => {
    if (stopped) return;
    stopped = true;
    child.kill("SIGKILL");
    await child.status;
  };
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    child.kill("SIGKILL");
  };
  return { url: `redis://127.0.0.1:${port}`, port, kill, stopSync, [Symbol.asyncDispose]: kill };
}

/**
 * How many times Redis answered `NOSCRIPT` (a script run by its SHA1 that it
 * did not have), from `INFO errorstats`.
 */
export async function scriptMisses(url: string): Promise<number> {
  const redis = new Redis(url);
  try {
    const info = await redis.info("errorstats");
    return Number(/errorstat_NOSCRIPT:count=(\d+)/.exec(info)?.[1] ?? 0);
  } finally {
    redis.disconnect();
  }
}
