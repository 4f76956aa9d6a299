/**
 * The single executable: `deno task compile` builds it and it serves chat.
 *
 * `deno compile` needs its `denort` runtime: it downloads it, or takes the
 * local copy named by `DENORT_BIN`. Where neither works (no network), this
 * test is reported as ignored with that reason; it never passes without
 * having built and run the binary.
 */
import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { LineClient, spawnServer } from "./helpers.ts";

const root = new URL("..", import.meta.url).pathname;

/** The `compile` task's own arguments, with the output redirected to `output`. */
function compileArgs(output: string): string[] {
  const words = denoJson.tasks.compile.split(/\s+/);
  assert.equal(words[0], "deno");
  const args = words.slice(1);
  args[args.indexOf("--output") + 1] = output;
  return args;
}

const dir = await Deno.makeTempDir({ prefix: "chat-compile-" });
const binary = `${dir}/chat-server`;
const built = await new Deno.Command(Deno.execPath(), {
  args: compileArgs(binary),
  cwd: root,
  stdout: "piped",
  stderr: "piped",
}).output();
const failure = built.success ? "" : new TextDecoder().decode(built.stderr);
const cannotFetch = !built.success && !Deno.env.get("DENORT_BIN") &&
  /dns error|lookup address|error sending request|download|denort/i.test(failure);
if (cannotFetch) {
  console.warn(
    "compile test ignored: deno compile cannot download its denort runtime here " +
      "and DENORT_BIN is not set",
  );
}

Deno.test({
  name: cannotFetch
    ? "the compiled binary serves chat (ignored: denort cannot be downloaded and DENORT_BIN is unset)"
    : "the compiled binary serves chat",
  ignore: cannotFetch,
  async fn() {
    try {
      assert.ok(built.success, `deno compile failed:\n${failure}`);
      const version = await new Deno.Command(binary, { args: ["--version"], stdout: "piped" })
        .output();
      assert.match(new TextDecoder().decode(version.stdout), /^chat-server \d+\.\d+\.\d+/);
      await using server = await spawnServer([], { executable: binary });
      await using a = await LineClient.chat(server.port);
      await using b = await LineClient.chat(server.port);
      await a.send("from the binary");
      await b.expect(`[lobby] ${a.nick}: from the binary`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

if (cannotFetch) await Deno.remove(dir, { recursive: true });
