/**
 * The container files, tested without Docker: the compose file's structure,
 * the image's entrypoint and health check run under plain Deno, and the
 * HAProxy configuration checked by `haproxy -c` where HAProxy is installed.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import denoJson from "../deno.json" with { type: "json" };
import { delay } from "./helpers.ts";

const root = new URL("..", import.meta.url);
const read = (path: string) => Deno.readTextFileSync(new URL(path, root));

/** Every environment variable the server reads, from the flag table in src/flags.ts. */
function serverEnvNames(): Set<string> {
  const source = read("src/flags.ts");
  const names = new Set([...source.matchAll(/env: "(CHAT_[A-Z_]+)"/g)].map((m) => m[1]));
  names.add(/const ADDR_ENV = "(CHAT_[A-Z_]+)"/.exec(source)![1]);
  return names;
}

interface Instruction {
  op: string;
  args: string;
}

/** The Dockerfile's instructions (continuation lines joined), stage by stage. */
function dockerStages(): Instruction[][] {
  const joined = read("Dockerfile").replace(/\\\n/g, " ");
  const stages: Instruction[][] = [];
  for (const line of joined.split("\n")) {
    const m = /^([A-Z]+)\s+(.*)$/.exec(line.trim());
    if (m === null) continue;
    if (m[1] === "FROM") stages.push([]);
    stages.at(-1)?.push({ op: m[1], args: m[2].trim() });
  }
  return stages;
}

/** `KEY=VALUE KEY=VALUE` of an ENV instruction (values without spaces or quotes). */
function envOf(stage: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of stage.filter((i) => i.op === "ENV")) {
    for (const pair of args.split(/\s+/)) {
      const [key, ...value] = pair.split("=");
      env[key] = value.join("=");
    }
  }
  return env;
}

function execForm(stage: Instruction[], op: string): string[] {
  const found = stage.findLast((i) => i.op === op);
  assert.ok(found, `the final stage has no ${op}`);
  const json = found.args.replace(/^(--\S+\s+)*CMD\s+/, "");
  return JSON.parse(json);
}

Deno.test("compose file: two servers, Redis and HAProxy, each runnable", () => {
  const compose = parse(read("deploy/compose.yaml"), { merge: true });
  const services = compose.services as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(services).sort(), ["chat-a", "chat-b", "haproxy", "redis"]);
  const known = serverEnvNames();
  for (const name of ["chat-a", "chat-b"]) {
    const service = services[name] as {
      build: { context: string };
      environment: Record<string, string>;
      depends_on: Record<string, { condition: string }>;
    };
    // The build context holds the Dockerfile.
    Deno.statSync(new URL(`deploy/${service.build.context}/Dockerfile`, root));
    for (const key of Object.keys(service.environment)) {
      assert.ok(known.has(key), `${name}: ${key} is no CHAT_* variable`);
    }
    assert.match(service.environment.CHAT_REDIS, /^redis:\/\/redis:6379$/);
    assert.equal(service.depends_on.redis.condition, "service_healthy");
    // Only the compose network is trusted to speak for clients.
    const subnet = compose.networks.chat.ipam.config[0].subnet;
    assert.equal(service.environment.CHAT_TRUSTED_PROXIES, subnet);
  }
  const names = ["chat-a", "chat-b"].map((name) =>
    (services[name].environment as Record<string, string>).CHAT_SERVER_NAME
  );
  assert.notEqual(names[0], names[1], "each server has its own name");
  const redis = services.redis as { image: string; healthcheck: { test: string[] } };
  assert.match(redis.image, /^redis:/);
  assert.ok(redis.healthcheck.test.includes("ping"));
  const haproxy = services.haproxy as { image: string; volumes: string[]; ports: string[] };
  assert.match(haproxy.image, /^haproxy:/);
  const mounted = haproxy.volumes.map((v) => v.split(":")[0]);
  for (const file of mounted.filter((m) => m.startsWith("./"))) {
    Deno.statSync(new URL(`deploy/${file}`, root));
  }
  assert.deepEqual(haproxy.ports.map((p) => p.split(":").at(-1)).sort(), ["6667", "8080", "8081"]);
  assert.ok(Object.hasOwn(compose.volumes, "redis-data"));
});

Deno.test("haproxy config: every backend sends the PROXY header or X-Forwarded-For", async (t) => {
  const cfg = read("deploy/haproxy.cfg");
  for (const port of [8080, 6667]) {
    for (const server of ["chat-a", "chat-b"]) {
      assert.match(cfg, new RegExp(`server \\w+ ${server}:${port} send-proxy-v2 check`));
    }
  }
  assert.match(cfg, /option forwardfor/);
  const haproxy = await new Deno.Command("haproxy", { args: ["-v"], stdout: "null" }).output()
    .then(() => true, () => false);
  await t.step({
    name: haproxy ? "haproxy -c accepts it" : "haproxy -c (ignored: haproxy is not installed)",
    ignore: !haproxy,
    async fn() {
      const out = await new Deno.Command("haproxy", {
        args: ["-c", "-f", new URL("deploy/haproxy.cfg", root).pathname],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.ok(out.success, text);
    },
  });
});

/** A port free on loopback right now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test("the image's entrypoint and health check run under plain Deno", async () => {
  const stages = dockerStages();
  const final = stages.at(-1)!;
  assert.ok(final.some((i) => i.op === "USER" && i.args !== "root"), "runs as a non-root user");
  assert.ok(final.some((i) => i.op === "VOLUME" && i.args === "/data"));
  const env = envOf(final);
  assert.equal(env.CHAT_DB, "/data/chat.db");
  const exposed = final.find((i) => i.op === "EXPOSE")!.args.split(/\s+/).sort();
  const listeners = [env.CHAT_ADDR, env.CHAT_HTTP, env.CHAT_IRC];
  assert.deepEqual(listeners.map((a) => a.split(":")[1]).sort(), exposed);
  for (const address of listeners) assert.match(address, /^0\.0\.0\.0:/);

  // The executable is `deno task compile`'s: `deno run` with its permissions stands in for it.
  const entrypoint = execForm(final, "ENTRYPOINT");
  const health = execForm(final, "HEALTHCHECK");
  assert.equal(entrypoint[0], "chat-server");
  assert.equal(health[0], "chat-server");
  const permissions = denoJson.tasks.compile.split(/\s+/).filter((w) => w.startsWith("--allow-"));
  const binary = ["run", ...permissions, new URL("main.ts", root).pathname];

  // The volume is a temporary directory; the listeners on loopback (tests stay there).
  const data = await Deno.makeTempDir({ prefix: "chat-image-" });
  const http = freePort();
  const containerEnv = {
    ...env,
    CHAT_ADDR: `127.0.0.1:${freePort()}`,
    CHAT_HTTP: `127.0.0.1:${http}`,
    CHAT_IRC: `127.0.0.1:${freePort()}`,
    CHAT_DB: env.CHAT_DB.replace(/^\/data/, data),
    CHAT_LOG_FORMAT: "json",
  };
  const child = new Deno.Command(Deno.execPath(), {
    args: [...binary, ...entrypoint.slice(1), ...execForm(final, "CMD")],
    env: containerEnv,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const log: string[] = [];
  const logged = (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) log.push(text);
  })();
  const check = () =>
    new Deno.Command(Deno.execPath(), {
      args: [...binary, ...health.slice(1)],
      env: containerEnv,
      stdout: "null",
      stderr: "piped",
    }).output();
  try {
    let healthy = await check();
    for (let i = 0; i < 100 && !healthy.success; i++) {
      await delay(100);
      healthy = await check();
    }
    assert.ok(healthy.success, `health check failed; server log:\n${log.join("")}`);
    Deno.statSync(`${data}/chat.db`);
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0, log.join(""));
    const after = await check();
    assert.equal(after.code, 1, "a stopped server is unhealthy");
    assert.match(new TextDecoder().decode(after.stderr), /chat-server healthcheck: http:\/\//);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await child.status;
    await logged;
    await Deno.remove(data, { recursive: true });
  }
});
