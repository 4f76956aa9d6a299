/**
 * Password hashing and comparison with WebCrypto (a web standard, so the core
 * stays free of runtime APIs). Stored passwords are salted and slowly hashed
 * with PBKDF2-SHA-256; the work factor travels in the stored string, so it can
 * be raised later without invalidating what is stored. Deno derives the bits
 * off the main thread: a hash costs the chat no latency, only a core's time.
 *
 * @module
 */

/** OWASP's 2023 recommendation for PBKDF2-HMAC-SHA-256 (about 0.1 s of one core). */
export const PBKDF2_ITERATIONS = 600_000;

const SCHEME = "pbkdf2-sha256";
const utf8 = new TextEncoder();

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", utf8.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as Uint8Array<ArrayBuffer>, iterations },
    key,
    256,
  );
  return new Uint8Array(bits);
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** Compares in time that depends on the length only, not on where bytes differ. */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** `pbkdf2-sha256$<iterations>$<salt>$<hash>` (base64) for a new password. */
export async function hashPassword(
  password: string,
  iterations = PBKDF2_ITERATIONS,
): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, iterations);
  return `${SCHEME}$${iterations}$${toBase64(salt)}$${toBase64(hash)}`;
}

/** Whether `password` is the one `stored` (from {@link hashPassword}) was made from. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, rounds, salt, hash] = stored.split("$");
  const iterations = Number(rounds);
  if (scheme !== SCHEME || !Number.isSafeInteger(iterations) || iterations < 1) return false;
  try {
    return equalBytes(await derive(password, fromBase64(salt), iterations), fromBase64(hash));
  } catch {
    return false; // a damaged record matches nothing
  }
}

/**
 * Whether two plain passwords (the server's, from its configuration, and a
 * client's) are equal, compared through their digests so the time taken says
 * nothing about how much of a guess was right.
 */
export async function samePassword(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", utf8.encode(given)),
    crypto.subtle.digest("SHA-256", utf8.encode(expected)),
  ]);
  return equalBytes(new Uint8Array(a), new Uint8Array(b));
}
