/**
 * IP addresses and CIDR blocks (`10.0.0.0/8`, `fd00::/8`, a bare address for
 * one host), for `--trusted-proxies`. IPv4 mapped into IPv6
 * (`::ffff:10.1.2.3`, what a dual-stack listener reports) matches the IPv4
 * blocks.
 *
 * @module
 */

/** An address as bytes: 4 for IPv4, 16 for IPv6; `null` if `text` is neither. */
export function parseIp(text: string): Uint8Array | null {
  return parseIpv4(text) ?? parseIpv6(text);
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    // No leading zeros: "010" means octal to some parsers, so it is refused.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(parts[i]) || Number(parts[i]) > 255) return null;
    bytes[i] = Number(parts[i]);
  }
  return bytes;
}

function parseIpv6(text: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]{2,45}$/.test(text)) return null;
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === "") return [];
    const out: number[] = [];
    const parts = half.split(":");
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (i === parts.length - 1 && part.includes(".")) {
        const v4 = parseIpv4(part);
        if (v4 === null) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
        out.push(parseInt(part, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (head === null || tail === null) return null;
  // An embedded IPv4 part is only allowed at the very end.
  if (halves.length === 2 && halves[0].includes(".")) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/** IPv4 mapped into IPv6 (`::ffff:a.b.c.d`) as the IPv4 address it carries. */
function unmap(bytes: Uint8Array): Uint8Array {
  if (bytes.length !== 16) return bytes;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return bytes;
  return bytes[10] === 0xff && bytes[11] === 0xff ? bytes.subarray(12) : bytes;
}

/** One CIDR block. */
interface Block {
  bytes: Uint8Array;
  bits: number;
}

/** A bad entry in a CIDR list. */
export class CidrError extends Error {
  override name = "CidrError";
}

/** A set of CIDR blocks that says whether an address is in one of them. */
export class CidrSet {
  readonly #blocks: Block[];

  /** Entries such as `10.0.0.0/8`, `::1`, `fd00::/8`; throws {@link CidrError} naming a bad one. */
  constructor(entries: readonly string[]) {
    this.#blocks = entries.map(parseBlock);
  }

  /** A comma-separated list (blanks ignored). */
  static parse(list: string): CidrSet {
    return new CidrSet(list.split(",").map((s) => s.trim()).filter((s) => s !== ""));
  }

  get size(): number {
    return this.#blocks.length;
  }

  /** Whether `address` (an IP address as text; anything else is not) is in the set. */
  has(address: string): boolean {
    if (this.#blocks.length === 0) return false;
    const parsed = parseIp(address);
    if (parsed === null) return false;
    const bytes = unmap(parsed);
    return this.#blocks.some((block) => inBlock(bytes, block));
  }
}

function parseBlock(entry: string): Block {
  const [ip, prefix, extra] = entry.split("/");
  const parsed = parseIp(ip);
  if (parsed === null || extra !== undefined) {
    throw new CidrError(
      `'${entry}' is not an address or CIDR block such as 10.0.0.0/8 or fd00::/8`,
    );
  }
  const bytes = unmap(parsed);
  // An IPv4-mapped block's prefix counts the mapped part's 96 bits too.
  const offset = parsed.length - bytes.length;
  const max = parsed.length * 8;
  if (prefix !== undefined && (!/^[0-9]{1,3}$/.test(prefix) || Number(prefix) > max)) {
    throw new CidrError(`'${entry}': the prefix length must be 0 to ${max}`);
  }
  const bits = prefix === undefined ? max : Number(prefix);
  if (bits < offset * 8) {
    throw new CidrError(
      `'${entry}': an IPv4-mapped block needs a prefix of at least ${offset * 8}`,
    );
  }
  return { bytes, bits: bits - offset * 8 };
}

function inBlock(bytes: Uint8Array, block: Block): boolean {
  if (bytes.length !== block.bytes.length) return false;
  let bits = block.bits;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((bytes[i] & mask) !== (block.bytes[i] & mask)) return false;
  }
  return true;
}
