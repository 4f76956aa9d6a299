/**
 * The JSON codec passes the codec contract; items that are not requests are
 * refused with a code and a message, and the ref only when it is one.
 */
import assert from "node:assert/strict";
import { codecContract } from "./codec_contract.ts";
import { jsonCodec, parseJsonItem, REQUEST_TYPES } from "./json.ts";
import { bad, item, parse } from "./json_test_support.ts";

codecContract(jsonCodec, {
  silent: ["reactions"],
  junk: [
    "{",
    "not json",
    "[]",
    "42",
    '"say"',
    "null",
    "{}",
    '{"type":1}',
    '{"type":"frobnicate"}',
    '{"type":"say"}',
    '{"type":"say","text":5}',
    '{"type":"history","limit":0}',
    '{"type":"say","text":"hi","ref":true}',
  ],
  valid: [
    '{"type":"say","text":"hi","room":"dev","ref":1}',
    '{"type":"msg","to":"bob","text":"psst","ref":"a"}',
    '{"type":"who","room":"dev","limit":100,"offset":0}',
    '{"type":"history","room":"dev","after":41,"limit":100}',
    '{"type":"kick","nick":"bob","reason":"spam","room":"dev"}',
    '{"type":"nick","nick":"alice","password":"pw"}',
    '{"type":"quit"}',
  ],
});

// --- decoding: refusals -----------------------------------------------------------------------

Deno.test("a blank item is null", () => {
  for (const blank of ["", " ", "\t", "  \t  "]) assert.equal(parseJsonItem(blank), null);
});

Deno.test("malformed JSON and non-objects are bad requests without a ref", () => {
  for (const text of ["{", "{'type':'say'}", "say hi", '{"type":"say",}', "\u0000"]) {
    assert.deepEqual(parse(text), bad("malformed JSON"), text);
  }
  for (const text of ["[]", '[{"type":"say"}]', "1", '"say"', "null", "true"]) {
    assert.deepEqual(parse(text), bad("expected a JSON object"), text);
  }
});

Deno.test("a ref that is not a string or a number is refused, and not echoed", () => {
  for (const ref of [null, true, [1], { a: 1 }]) {
    assert.deepEqual(
      parse({ type: "say", text: "hi", ref }),
      bad("field 'ref' must be a string or a number"),
      JSON.stringify(ref),
    );
  }
  assert.deepEqual(parse({ type: "say", text: "hi", ref: "" }), {
    type: "say",
    text: "hi",
    ref: "",
  });
  assert.deepEqual(parse({ type: "say", text: "hi", ref: -1.5 }), {
    type: "say",
    text: "hi",
    ref: -1.5,
  });
});

Deno.test("a missing or non-string type is a bad request with the ref", () => {
  assert.deepEqual(parse({ text: "hi", ref: 3 }), bad("field 'type' must be a string", 3));
  for (const type of [null, 1, true, ["say"], { t: 1 }]) {
    assert.deepEqual(
      parse({ type, ref: "q" }),
      bad("field 'type' must be a string", "q"),
      JSON.stringify(type),
    );
  }
});

Deno.test("an unknown type is unknown_type listing the request types, with the ref", () => {
  const message = `unknown type 'frobnicate' (one of ${REQUEST_TYPES.join(", ")})`;
  assert.deepEqual(parse({ type: "frobnicate", ref: 4 }), {
    type: "parse_error",
    code: "unknown_type",
    message,
    ref: 4,
  });
  for (const type of ["", "SAY", "constructor", "__proto__", "toString", "hasOwnProperty"]) {
    const result = parseJsonItem(item({ type }));
    assert.equal(result?.type, "parse_error", type);
    assert.equal((result as { code: string }).code, "unknown_type", type);
  }
});

Deno.test("jsonCodec decodes like parseJsonItem", () => {
  assert.equal(jsonCodec.name, "json");
  for (
    const text of ["", "{", '{"type":"say","text":"hi","ref":1}', '{"type":"x","ref":"r"}']
  ) {
    assert.deepEqual(jsonCodec.decode(text), parseJsonItem(text), text);
  }
});
