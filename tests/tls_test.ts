/**
 * TLS on both listeners (`--tls-cert`, `--tls-key`) with a self-signed
 * certificate that the test makes with openssl.
 */
import assert from "node:assert/strict";
import { startServer } from "../src/server.ts";
import { MemoryHistoryStore } from "../src/store/memory.ts";
import { loadAssets } from "../src/transport/http.ts";
import { LineClient, selfSigned, testConfig } from "./helpers.ts";

const haveOpenssl = (() => {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null" }).outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: haveOpenssl
    ? "with --tls-cert and --tls-key, TCP speaks TLS and HTTP serves HTTPS and WSS"
    : "TLS (ignored: openssl not installed)",
  ignore: !haveOpenssl,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "chat-tls-" });
    try {
      const tls = await selfSigned(dir);
      const config = testConfig({ http: { hostname: "127.0.0.1", port: 0 } });
      const server = startServer(
        config,
        new MemoryHistoryStore(100),
        await loadAssets(),
        null,
        tls,
      );
      try {
        const connect = () =>
          Deno.connectTls({
            hostname: "127.0.0.1",
            port: server.tcpAddr.port,
            caCerts: [tls.cert],
          });
        // Chat over TLS, as with openssl s_client or ncat --ssl.
        await using a = LineClient.over(await connect());
        await using b = LineClient.over(await connect());
        await a.waitFor((l) => l.startsWith("* welcome"));
        await b.waitFor((l) => l.startsWith("* welcome"));
        await a.send("/nick ann", "over tls");
        await b.expect("[lobby] ann: over tls");

        // A client that speaks plain TCP to the TLS port is dropped; the server goes on.
        const plain = await Deno.connect({ hostname: "127.0.0.1", port: server.tcpAddr.port });
        await plain.write(new TextEncoder().encode("hello\n"));
        const buf = new Uint8Array(1024);
        for (;;) {
          const n = await plain.read(buf).catch(() => null);
          if (n === null) break;
        }
        plain.close();
        await a.send("still up");
        await b.expect("[lobby] ann: still up");

        // HTTPS.
        const client = Deno.createHttpClient({ caCerts: [tls.cert] });
        try {
          const res = await fetch(`https://127.0.0.1:${server.httpAddr!.port}/healthz`, { client });
          assert.equal((await res.json()).status, "ok");
        } finally {
          client.close();
        }

        // WSS: the upgrade succeeds over TLS.
        const wss = await Deno.connectTls({
          hostname: "127.0.0.1",
          port: server.httpAddr!.port,
          caCerts: [tls.cert],
        });
        try {
          await wss.write(new TextEncoder().encode(
            `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${
              server.httpAddr!.port
            }\r\nUpgrade: websocket\r\n` +
              "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
              "Sec-WebSocket-Version: 13\r\n\r\n",
          ));
          const head = new Uint8Array(1024);
          const n = await wss.read(head);
          assert.match(new TextDecoder().decode(head.subarray(0, n ?? 0)), /^HTTP\/1\.1 101/);
        } finally {
          wss.close();
        }
      } finally {
        await server.shutdown();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("--tls-cert without --tls-key is a usage error", async () => {
  const { runMain } = await import("./helpers.ts");
  const { code, stderr } = await runMain(["--tls-cert", "cert.pem"]);
  assert.equal(code, 2);
  assert.match(stderr, /--tls-cert needs --tls-key too/);
});
