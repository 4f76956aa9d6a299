import assert from "node:assert/strict";
import { parseProxyHeader, V1_MAX } from "./proxy_protocol.ts";
import { CidrError, CidrSet, parseIp } from "./cidr.ts";
import { forwardedClient } from "./forwarded.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

function v2(command: number, family: number, body: number[]): Uint8Array {
  return new Uint8Array([
    ...SIG,
    0x20 | command,
    family,
    body.length >> 8,
    body.length & 0xff,
    ...body,
  ]);
}

Deno.test("v1 TCP4 and TCP6 headers name the source, the rest stays", () => {
  const line = "PROXY TCP4 203.0.113.7 10.0.0.1 51234 6667\r\n";
  assert.deepEqual(parseProxyHeader(bytes(line + "NICK bob\r\n")), {
    kind: "header",
    version: 1,
    length: line.length,
    source: { hostname: "203.0.113.7", port: 51234 },
  });
  const six = "PROXY TCP6 2001:db8::7 ::1 4000 8080\r\n";
  const parsed = parseProxyHeader(bytes(six));
  assert.equal(parsed.kind, "header");
  if (parsed.kind === "header") {
    assert.deepEqual(parsed.source, { hostname: "2001:db8::7", port: 4000 });
  }
  assert.deepEqual(parseProxyHeader(bytes("PROXY UNKNOWN\r\n")), {
    kind: "header",
    version: 1,
    length: 15,
    source: null,
  });
});

Deno.test("v1: truncated is incomplete; malformed and overlong are invalid", () => {
  assert.equal(parseProxyHeader(bytes("PRO")).kind, "incomplete");
  assert.equal(parseProxyHeader(bytes("PROXY TCP4 1.2.3.4")).kind, "incomplete");
  assert.equal(parseProxyHeader(bytes("PROXY " + "x".repeat(V1_MAX))).kind, "invalid");
  for (
    const bad of [
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
      "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
      "PROXY TCP4 ::1 ::1 1 2\r\n",
      "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 70000 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
      "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
    ]
  ) assert.equal(parseProxyHeader(bytes(bad)).kind, "invalid", bad);
  assert.deepEqual(parseProxyHeader(bytes("hello\n")), { kind: "none" });
  assert.deepEqual(parseProxyHeader(bytes("NICK bob\r\n")), { kind: "none" });
});

Deno.test("v2 PROXY over IPv4 and IPv6, TLVs skipped; LOCAL keeps the peer", () => {
  const four = v2(1, 0x11, [
    198,
    51,
    100,
    9,
    10,
    0,
    0,
    1,
    0xc3,
    0x50,
    0x1a,
    0x0b,
    0x04,
    0,
    1,
    0x41,
  ]);
  const withRest = new Uint8Array([...four, 0x68, 0x69]);
  assert.deepEqual(parseProxyHeader(withRest), {
    kind: "header",
    version: 2,
    length: four.length,
    source: { hostname: "198.51.100.9", port: 50000 },
  });
  const src6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42];
  const six = v2(1, 0x21, [...src6, ...new Array(16).fill(0), 0x10, 0x00, 0x1f, 0x90]);
  const parsed = parseProxyHeader(six);
  assert.equal(parsed.kind, "header");
  if (parsed.kind === "header") {
    assert.deepEqual(parsed.source, { hostname: "2001:db8::42", port: 4096 });
  }
  const local = parseProxyHeader(v2(0, 0x00, []));
  assert.deepEqual(local, { kind: "header", version: 2, length: 16, source: null });
  const unix = parseProxyHeader(v2(1, 0x31, new Array(216).fill(0)));
  assert.equal(unix.kind === "header" && unix.source, null);
});

Deno.test("v2: truncated is incomplete; bad version, command or short addresses are invalid", () => {
  const four = v2(1, 0x11, [198, 51, 100, 9, 10, 0, 0, 1, 0xc3, 0x50, 0x1a, 0x0b]);
  for (let n = 1; n < four.length; n++) {
    assert.equal(parseProxyHeader(four.subarray(0, n)).kind, "incomplete", `${n} bytes`);
  }
  const badVersion = four.slice();
  badVersion[12] = 0x11;
  assert.equal(parseProxyHeader(badVersion).kind, "invalid");
  const badCommand = four.slice();
  badCommand[12] = 0x22;
  assert.equal(parseProxyHeader(badCommand).kind, "invalid");
  assert.equal(parseProxyHeader(v2(1, 0x11, [1, 2, 3, 4])).kind, "invalid");
  assert.equal(parseProxyHeader(v2(1, 0x21, new Array(20).fill(0))).kind, "invalid");
  const huge = new Uint8Array([...SIG, 0x21, 0x11, 0xff, 0xff]);
  assert.equal(parseProxyHeader(huge).kind, "invalid");
});

Deno.test("addresses parse as 4 or 16 bytes, junk does not", () => {
  assert.equal(parseIp("10.1.2.3")?.length, 4);
  assert.equal(parseIp("::1")?.length, 16);
  assert.equal(parseIp("::ffff:10.1.2.3")?.length, 16);
  assert.equal(parseIp("2001:db8:0:0:0:0:0:1")?.length, 16);
  for (
    const bad of ["", "1.2.3", "1.2.3.256", "01.2.3.4", "1::2::3", "1:2:3:4:5:6:7:8:9", "host"]
  ) {
    assert.equal(parseIp(bad), null, bad);
  }
});

Deno.test("CIDR sets match v4, v6, mapped v4 and single hosts", () => {
  const set = CidrSet.parse("10.0.0.0/8, 192.168.1.7, fd00::/8, ::1");
  assert.ok(set.has("10.200.3.4"));
  assert.ok(!set.has("11.0.0.1"));
  assert.ok(set.has("192.168.1.7"));
  assert.ok(!set.has("192.168.1.8"));
  assert.ok(set.has("fd12:3456::1"));
  assert.ok(!set.has("fe80::1"));
  assert.ok(set.has("::1"));
  assert.ok(set.has("::ffff:10.9.9.9"));
  assert.ok(!set.has("not an address"));
  assert.ok(CidrSet.parse("0.0.0.0/0").has("8.8.8.8"));
  assert.ok(CidrSet.parse("172.16.0.0/12").has("172.31.255.255"));
  assert.ok(!CidrSet.parse("172.16.0.0/12").has("172.32.0.0"));
  assert.equal(CidrSet.parse("").size, 0);
  for (const bad of ["10.0.0.0/33", "fd00::/129", "10.0.0.0/8/1", "example.com", "10.0.0.0/x"]) {
    assert.throws(() => CidrSet.parse(bad), CidrError, bad);
  }
});

Deno.test("X-Forwarded-For counts only from a trusted peer, rightmost untrusted hop wins", () => {
  const trusted = CidrSet.parse("127.0.0.1, 10.0.0.0/8");
  assert.equal(forwardedClient("203.0.113.7", "127.0.0.1", trusted), "203.0.113.7");
  assert.equal(forwardedClient("203.0.113.7", "198.51.100.1", trusted), "198.51.100.1");
  assert.equal(
    forwardedClient("6.6.6.6, 203.0.113.7, 10.1.1.1", "127.0.0.1", trusted),
    "203.0.113.7",
  );
  assert.equal(forwardedClient("10.2.2.2, 10.1.1.1", "127.0.0.1", trusted), "10.2.2.2");
  assert.equal(forwardedClient("junk, 203.0.113.7:5555", "127.0.0.1", trusted), "203.0.113.7");
  assert.equal(forwardedClient("[2001:db8::1]:80", "127.0.0.1", trusted), "2001:db8::1");
  assert.equal(forwardedClient("203.0.113.7, junk", "127.0.0.1", trusted), "127.0.0.1");
  assert.equal(forwardedClient(null, "127.0.0.1", trusted), "127.0.0.1");
  assert.equal(forwardedClient("203.0.113.7", "127.0.0.1", CidrSet.parse("")), "127.0.0.1");
});
