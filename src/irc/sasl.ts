/**
 * SASL PLAIN before registration, against registered nicks: the account is
 * a registered nick, its password the one given with `/register`. The core
 * checks them (`login`, under the attempt limit); the reply is `900` and
 * `903`, or `904`. A client logged in as a nick may then take it.
 *
 * @module
 */

import type { IrcClient } from "./client.ts";
import type { IrcMessage } from "./message.ts";
import { ensureSession } from "./registration.ts";
import { userSource } from "./render.ts";

type Client = IrcClient<unknown>;

/** Longest AUTHENTICATE payload chunk, per the spec. */
const CHUNK = 400;

const state = new WeakMap<Client, { mechanism: string; data: string }>();

/** `AUTHENTICATE PLAIN`, then the base64 payload (in 400-byte chunks, `+` for empty). */
export function authenticate(client: Client, m: IrcMessage): void {
  if (!client.caps.has("sasl")) return client.numeric("904", "SASL authentication failed");
  const arg = m.params[0] ?? "";
  if (arg === "*") {
    state.delete(client);
    return client.numeric("906", "SASL authentication aborted");
  }
  const current = state.get(client);
  if (current === undefined) {
    if (arg.toUpperCase() !== "PLAIN") {
      client.numeric("908", "PLAIN", "are available SASL mechanisms");
      return client.numeric("904", "SASL authentication failed");
    }
    state.set(client, { mechanism: "PLAIN", data: "" });
    return client.write([{ tags: {}, command: "AUTHENTICATE", params: ["+"] }]);
  }
  if (arg !== "+") current.data += arg;
  if (arg.length === CHUNK) return; // more follows
  state.delete(client);
  const credentials = decodePlain(current.data);
  if (credentials === null) return client.numeric("904", "SASL authentication failed");
  ensureSession(client);
  client.request(
    { type: "login", account: credentials.account, password: credentials.password },
    { command: "AUTHENTICATE", target: credentials.account },
  );
}

/** `authzid \0 authcid \0 password`, base64. */
function decodePlain(data: string): { account: string; password: string } | null {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(
      Uint8Array.from(atob(data), (c) => c.charCodeAt(0)),
    );
  } catch {
    return null;
  }
  const parts = text.split("\0");
  if (parts.length !== 3 || parts[1] === "" || parts[2] === "") return null;
  return { account: parts[1], password: parts[2] };
}

/** Logged in as `account`: `900` and `903`. */
export function loggedIn(client: Client, account: string): void {
  const mask = userSource(client.nick, client.shape);
  client.numeric("900", mask, account, `You are now logged in as ${account}`);
  client.numeric("903", "SASL authentication successful");
}
