import assert from "node:assert/strict";
import { formatAddress, isLoopback } from "./address.ts";

Deno.test("an address is host:port, an IPv6 host in brackets", () => {
  assert.equal(formatAddress({ hostname: "127.0.0.1", port: 7000 }), "127.0.0.1:7000");
  assert.equal(formatAddress({ hostname: "example.org", port: 0 }), "example.org:0");
  assert.equal(formatAddress({ hostname: "::1", port: 8081 }), "[::1]:8081");
  assert.equal(formatAddress({ hostname: "fe80::1%eth0", port: 1 }), "[fe80::1%eth0]:1");
  assert.equal(formatAddress({ hostname: "::ffff:10.0.0.1", port: 9 }), "[::ffff:10.0.0.1]:9");
});

Deno.test("loopback addresses are 127/8, ::1 and IPv4 loopback mapped into IPv6", () => {
  for (const address of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) {
    assert.equal(isLoopback(address), true, address);
  }
  for (const address of ["10.0.0.1", "128.0.0.1", "::2", "::ffff:10.0.0.1", "", "localhost"]) {
    assert.equal(isLoopback(address), false, address);
  }
});
