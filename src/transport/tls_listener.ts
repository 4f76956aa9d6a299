/**
 * A TLS listener cannot change its certificate (`Deno.listenTls` takes it
 * once), so a renewal replaces the listener: the old one closes, and a new
 * one with the new certificate binds the same address. Connections the old
 * one accepted stay open; a connection attempted in between is refused.
 *
 * @module
 */

/** Closes `old` and listens with `cert` and `key` where it listened; rejects if the port is taken. */
export async function listenTlsAgain(
  old: Deno.Listener,
  certificate: { cert: string; key: string },
): Promise<Deno.TlsListener> {
  const { hostname, port } = old.addr as Deno.NetAddr;
  old.close();
  // The port is free once the old socket is gone; a few tries cover a slow close.
  for (let attempt = 0;; attempt++) {
    try {
      return Deno.listenTls({ hostname, port, ...certificate });
    } catch (err) {
      if (!(err instanceof Deno.errors.AddrInUse) || attempt >= 20) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
