/**
 * Removes what could paint on another user's terminal: whole escape sequences
 * (CSI with its parameters, OSC and other string controls with their bodies,
 * two-byte ESC sequences, their 8-bit C1 forms) and then every remaining
 * control character (C0 except TAB, DEL, C1).
 *
 * @module
 */

// Order matters: whole sequences first, so their parameters go with them.
const ESCAPE_SEQUENCES = new RegExp(
  [
    // CSI: ESC [ or 0x9B, parameter bytes, intermediate bytes, one final byte.
    "(?:\\x1b\\[|\\x9b)[\\x30-\\x3f]*[\\x20-\\x2f]*[\\x40-\\x7e]?",
    // OSC, DCS, SOS, PM, APC: ESC ] P X ^ _ (or C1 forms) up to BEL or ST (or the end).
    "(?:\\x1b[\\]PX^_]|[\\x90\\x98\\x9d\\x9e\\x9f])[^\\x07\\x1b\\x9c]*(?:\\x07|\\x1b\\\\|\\x9c)?",
    // Any other ESC sequence: ESC, intermediates, one final byte.
    "\\x1b[\\x20-\\x2f]*[\\x30-\\x7e]?",
  ].join("|"),
  "g",
);
// Matching control characters is the point here, hence the rule exceptions.
// deno-lint-ignore no-control-regex
const CONTROL_CHARACTERS = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/g;
// deno-lint-ignore no-control-regex
const NEEDS_WORK = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;

/** Returns `text` without escape sequences and control characters (TAB stays). */
export function stripControls(text: string): string {
  // Fast path: most chat lines hold nothing to strip.
  if (!NEEDS_WORK.test(text)) return text;
  return text.replace(ESCAPE_SEQUENCES, "").replace(CONTROL_CHARACTERS, "");
}
