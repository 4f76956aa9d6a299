/**
 * Hostile items for the codec contract's fuzz (`codec_contract.ts`): a seeded
 * generator, so a failure replays from its seed, and items built from pieces
 * that stress a parser or from mutated valid requests.
 *
 * @module
 */

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pieces that stress a parser: separators, controls, lone surrogates, prototype names, numbers. */
const HOSTILE: readonly string[] = [
  "\r",
  "\n",
  "\r\n",
  "\x00",
  "\x1b[31m",
  "\u0085",
  "\u2028",
  "\ud800",
  "\udfff",
  "\ufeff",
  "😀",
  "é",
  "/",
  "//",
  ":",
  " ",
  "\t",
  "{",
  "}",
  "[",
  "]",
  '"',
  "\\",
  ",",
  "null",
  "true",
  "-1",
  "1e999",
  "9007199254740993",
  "NaN",
  "__proto__",
  "constructor",
  "toString",
  '{"type":',
  '"ref":',
  "/join",
  "/nick",
  "/who",
  "/history",
  "PRIVMSG",
  "#",
  "@",
  "!",
];

/** A random item: hostile pieces, printable runs, long runs, any UTF-16 unit. */
export function randomItem(rnd: () => number, valid: readonly string[]): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
  const r = rnd();
  if (r < 0.3 && valid.length > 0) return mutate(rnd, pick(valid), pick);
  if (r < 0.35) return "[".repeat(Math.floor(rnd() * 5000)); // deep nesting
  if (r < 0.4) return pick(HOSTILE).repeat(Math.floor(rnd() * 3000)); // long items
  let out = "";
  for (let n = Math.floor(rnd() * 40); n > 0; n--) {
    const k = rnd();
    if (k < 0.4) out += pick(HOSTILE);
    else if (k < 0.85) out += String.fromCharCode(0x20 + Math.floor(rnd() * 95));
    else out += String.fromCharCode(Math.floor(rnd() * 0x10000));
  }
  return out;
}

/** `text` with a few characters dropped, inserted or cut off. */
function mutate(rnd: () => number, text: string, pick: <T>(items: readonly T[]) => T): string {
  let out = text;
  for (let n = 1 + Math.floor(rnd() * 3); n > 0; n--) {
    const at = Math.floor(rnd() * (out.length + 1));
    const r = rnd();
    if (r < 0.3) out = out.slice(0, at) + out.slice(at + 1);
    else if (r < 0.8) out = out.slice(0, at) + pick(HOSTILE) + out.slice(at);
    else out = out.slice(0, at);
  }
  return out;
}
