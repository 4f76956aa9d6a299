/**
 * Checks of single option values for `config.ts`: passwords given inline or
 * in a file, TLS file pairs, Redis URLs, CIDR lists and origins. Each throws
 * a {@link ConfigError} that names where the value came from.
 *
 * @module
 */

import { ConfigError } from "./config.ts";
import { CidrError, CidrSet } from "./transport/cidr.ts";

/** A password given inline or as the first line of a file (not both); `null` for none. */
export function secret(
  inline: { value: string | undefined; from: string },
  file: { value: string | undefined; from: string },
): string | null {
  if (inline.value && file.value) {
    throw new ConfigError(`${inline.from} and ${file.from}: give one of them`);
  }
  let value = inline.value;
  if (file.value) {
    try {
      value = Deno.readTextFileSync(file.value).split(/\r?\n/)[0];
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new ConfigError(`${file.from}: cannot read ${file.value}: ${why}`);
    }
    if (value.trim() === "") {
      throw new ConfigError(`${file.from}: ${file.value} has an empty first line`);
    }
  }
  if (value === undefined || value === "") return null;
  return value;
}

/** Both files or neither. */
export function parseTls(
  cert: { value: string | undefined; from: string },
  key: { value: string | undefined; from: string },
): { certFile: string; keyFile: string } | null {
  if (!cert.value && !key.value) return null;
  if (!cert.value) throw new ConfigError(`${key.from} needs --tls-cert too`);
  if (!key.value) throw new ConfigError(`${cert.from} needs --tls-key too`);
  return { certFile: cert.value, keyFile: key.value };
}

/** `redis://host[:port]`, or nothing. */
export function parseRedisUrl(
  { value, from }: { value: string | undefined; from: string },
): string | null {
  if (value === undefined || value === "") return null;
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (url === null || (url.protocol !== "redis:" && url.protocol !== "rediss:") || !url.hostname) {
    throw new ConfigError(`${from}: expected a URL such as redis://127.0.0.1:6379, got '${value}'`);
  }
  return value;
}

/** A comma-separated list of CIDR blocks, each checked. */
export function parseCidrs({ value, from }: { value: string | undefined; from: string }): string[] {
  if (value === undefined || value.trim() === "") return [];
  const entries = value.split(",").map((raw) => raw.trim()).filter((e) => e !== "");
  try {
    new CidrSet(entries);
  } catch (err) {
    if (err instanceof CidrError) throw new ConfigError(`${from}: ${err.message}`);
    throw err;
  }
  return entries;
}

/** A comma-separated list of origins, each `scheme://host[:port]` with nothing after. */
export function parseOrigins(
  { value, from }: { value: string | undefined; from: string },
): string[] {
  if (value === undefined || value.trim() === "") return [];
  return value.split(",").map((raw) => raw.trim()).filter((o) => o !== "").map((origin) => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError(
        `${from}: '${origin}' is not an origin such as https://chat.example.com`,
      );
    }
    if (url.origin !== origin.replace(/\/$/, "") || url.origin === "null") {
      throw new ConfigError(
        `${from}: '${origin}' is not an origin such as https://chat.example.com`,
      );
    }
    return url.origin;
  });
}
