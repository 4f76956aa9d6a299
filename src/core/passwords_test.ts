import assert from "node:assert/strict";
import { hashPassword, PBKDF2_ITERATIONS, samePassword, verifyPassword } from "./passwords.ts";

Deno.test("passwords: salted PBKDF2, verified, never stored in the clear", async () => {
  const a = await hashPassword("correct horse");
  const b = await hashPassword("correct horse");
  assert.match(
    a,
    new RegExp(`^pbkdf2-sha256\\$${PBKDF2_ITERATIONS}\\$[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+$`),
  );
  assert.notEqual(a, b, "a fresh salt each time");
  assert.ok(!a.includes("correct"));
  assert.equal(await verifyPassword("correct horse", a), true);
  assert.equal(await verifyPassword("correct horse", b), true);
  assert.equal(await verifyPassword("correct hors", a), false);
  assert.equal(await verifyPassword("", a), false);
});

Deno.test("passwords: the work factor travels with the hash; damaged records match nothing", async () => {
  const cheap = await hashPassword("pw", 1000);
  assert.match(cheap, /^pbkdf2-sha256\$1000\$/);
  assert.equal(await verifyPassword("pw", cheap), true);
  for (
    const bad of ["", "plain", "md5$1$a$b", "pbkdf2-sha256$0$AA==$AA==", "pbkdf2-sha256$1$!!$??"]
  ) {
    assert.equal(await verifyPassword("pw", bad), false, bad);
  }
});

Deno.test("passwords: plain comparison for configured passwords", async () => {
  assert.equal(await samePassword("secret", "secret"), true);
  assert.equal(await samePassword("secret", "secreT"), false);
  assert.equal(await samePassword("", "secret"), false);
  assert.equal(await samePassword("päss wörd", "päss wörd"), true);
});
