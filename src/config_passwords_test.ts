/** The server's and the operators' passwords, and the limit on failed attempts. */
import assert from "node:assert/strict";
import { configError, run } from "./config_test_support.ts";

// --- passwords --------------------------------------------------------------------------------

Deno.test("passwords come inline, from the environment, or from a file's first line", async () => {
  assert.equal(run(["--password", "s3cret"]).password, "s3cret");
  assert.equal(run([], { CHAT_ADMIN_PASSWORD: "boss" }).adminPassword, "boss");
  const dir = await Deno.makeTempDir({ prefix: "chat-config-" });
  try {
    await Deno.writeTextFile(`${dir}/pw`, "from file  \r\nsecond line\n");
    assert.equal(run(["--password-file", `${dir}/pw`]).password, "from file  ");
    assert.equal(run(["--admin-password-file", `${dir}/pw`]).adminPassword, "from file  ");
    await Deno.writeTextFile(`${dir}/empty`, "\n");
    assert.match(configError(["--password-file", `${dir}/empty`]), /empty first line/);
    assert.match(configError(["--password-file", `${dir}/missing`]), /cannot read/);
    assert.match(
      configError(["--password", "a", "--password-file", `${dir}/pw`]),
      /give one of them/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--max-auth-failures is checked; --no-limits turns it off", () => {
  assert.deepEqual(run(["--max-auth-failures", "3", "--limit-loopback"]).authFailures, {
    failuresPerMinute: 3,
    limitLoopback: true,
  });
  assert.equal(run(["--no-limits"]).authFailures, null);
  assert.match(configError(["--max-auth-failures", "0"]), /from 1/);
});
