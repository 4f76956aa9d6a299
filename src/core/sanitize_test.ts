import assert from "node:assert/strict";
import { stripControls } from "./sanitize.ts";

Deno.test("CSI color sequences are removed with their parameters", () => {
  assert.equal(stripControls("\x1b[31mred\x1b[0m"), "red");
  assert.equal(stripControls("a\x1b[1;32mgreen\x1b[mb"), "agreenb");
  assert.equal(stripControls("\x1b[38;5;196mx"), "x");
});

Deno.test("CSI screen and cursor sequences are removed", () => {
  assert.equal(stripControls("before\x1b[2Jafter"), "beforeafter");
  assert.equal(stripControls("\x1b[?25lhidden cursor"), "hidden cursor");
  assert.equal(stripControls("\x1b[H\x1b[10;20Hx\x1b[K"), "x");
});

Deno.test("8-bit C1 CSI sequences are removed with their parameters", () => {
  assert.equal(stripControls("a\x9b31mb"), "ab");
  assert.equal(stripControls("\x9b2J\x9b?25lok"), "ok");
});

Deno.test("an OSC title sequence ended by BEL is removed with its body", () => {
  assert.equal(stripControls("hi\x1b]0;evil\x07there"), "hithere");
});

Deno.test("an OSC title sequence ended by ESC \\ is removed with its body", () => {
  assert.equal(stripControls("hi\x1b]2;x\x1b\\there"), "hithere");
});

Deno.test("an OSC hyperlink keeps only its visible text", () => {
  assert.equal(
    stripControls("\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\"),
    "click",
  );
});

Deno.test("an unterminated OSC at the end is removed with its body", () => {
  assert.equal(stripControls("text\x1b]0;evil title"), "text");
  assert.equal(stripControls("\x1b]2;"), "");
});

Deno.test("8-bit C1 OSC and DCS strings are removed with their bodies", () => {
  assert.equal(stripControls("a\x9d0;title\x07b"), "ab");
  assert.equal(stripControls("a\x90q#0;1\x9cb"), "ab");
});

Deno.test("other two-byte ESC sequences and a lone ESC are removed", () => {
  assert.equal(stripControls("a\x1bcb"), "ab"); // RIS: full reset
  assert.equal(stripControls("a\x1b(0b"), "ab"); // line-drawing character set
  assert.equal(stripControls("a\x1b"), "a");
});

Deno.test("NUL, BEL, backspace, DEL, \\r, \\n, vertical tab and form feed are removed", () => {
  assert.equal(stripControls("a\x00b\x07c\bd\x7fe\rf\ng\vh\fi"), "abcdefghi");
});

Deno.test("every C0 control except TAB, DEL and every C1 control are removed", () => {
  for (let code = 0; code < 0xa0; code++) {
    if (code >= 0x20 && code < 0x7f) continue;
    const c = String.fromCharCode(code);
    const kept = code === 9 ? "\t" : "";
    const name = `U+${code.toString(16).padStart(4, "0")}`;
    assert.equal(stripControls(c), kept, name);
    // At the end of a line, so that no following character can belong to a sequence.
    assert.equal(stripControls(`é x${c}`), `é x${kept}`, name);
  }
});

Deno.test("TAB is kept", () => {
  assert.equal(stripControls("a\tb\t"), "a\tb\t");
  assert.equal(stripControls("a\tb\x07"), "a\tb");
});

Deno.test("normal text with non-ASCII characters comes back unchanged", () => {
  for (
    const s of [
      "",
      "hello, world!",
      "café déjà vu",
      "日本語のテキスト",
      "emoji 😀👍🏽 and flags 🇫🇷",
      "symbols ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./",
      "\u00a0non-breaking and \u00ff ÿ",
    ]
  ) {
    assert.equal(stripControls(s), s);
  }
});

Deno.test("non-ASCII text around removed sequences is kept intact", () => {
  assert.equal(stripControls("é\x1b[31m日本\x1b[0m😀\x07"), "é日本😀");
});

Deno.test("a CSI without its final byte does not swallow the following non-ASCII text", () => {
  assert.equal(stripControls("\x1b[12é"), "é");
});
