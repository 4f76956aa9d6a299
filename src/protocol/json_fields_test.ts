/**
 * Each field of a request has its type: strings, flags, lists of strings and
 * whole numbers refuse anything else, with the request's ref.
 */
import assert from "node:assert/strict";
import { bad, FULL_REQUESTS, parse } from "./json_test_support.ts";

const INTEGER_FIELDS = new Set([
  "id",
  "ts",
  "limit",
  "offset",
  "after",
  "before",
  "around",
  "afterTime",
  "beforeTime",
  "aroundTime",
]);
const BOOLEAN_FIELDS = new Set([
  "notice",
  "topics",
  "detail",
  "latest",
  "member",
  "secret",
  "inviteOnly",
  "topicOpen",
  "outsiders",
  "all",
]);
const LIST_FIELDS = new Set(["nicks", "tags"]);
const isString = (name: string) =>
  !INTEGER_FIELDS.has(name) && !BOOLEAN_FIELDS.has(name) && !LIST_FIELDS.has(name);

Deno.test("every string field refuses other types, with the request's ref", () => {
  for (const [type, fields] of Object.entries(FULL_REQUESTS)) {
    for (const name of Object.keys(fields).filter(isString)) {
      for (const wrong of [5, true, [], {}, ["a"]]) {
        assert.deepEqual(
          parse({ type, ...fields, [name]: wrong, ref: "r" }),
          bad(`field '${name}' must be a string`, "r"),
          `${type}.${name} = ${JSON.stringify(wrong)}`,
        );
      }
    }
  }
});

Deno.test("flags are true or false, lists are at most 64 strings", () => {
  for (const [type, fields] of Object.entries(FULL_REQUESTS)) {
    for (const name of Object.keys(fields).filter((n) => BOOLEAN_FIELDS.has(n))) {
      for (const wrong of [1, "true", [], {}]) {
        assert.deepEqual(
          parse({ type, ...fields, [name]: wrong, ref: "r" }),
          bad(`field '${name}' must be true or false`, "r"),
          `${type}.${name} = ${JSON.stringify(wrong)}`,
        );
      }
    }
  }
  for (const wrong of ["bob", [1], [null], Array(65).fill("x")]) {
    assert.deepEqual(
      parse({ type: "ison", nicks: wrong, ref: 2 }),
      bad("field 'nicks' must be a list of strings", 2),
    );
  }
});

Deno.test("every whole-number field refuses fractions, negatives, huge numbers and strings", () => {
  for (const [type, fields] of Object.entries(FULL_REQUESTS)) {
    for (const name of Object.keys(fields).filter((n) => INTEGER_FIELDS.has(n))) {
      for (const wrong of [-1, 1.5, 2 ** 60, "5", true, [1], { n: 1 }]) {
        assert.deepEqual(
          parse({ type, ...fields, [name]: wrong, ref: 1 }),
          bad(`field '${name}' must be a whole number`, 1),
          `${type}.${name} = ${JSON.stringify(wrong)}`,
        );
      }
    }
  }
  // 1e3 is JSON for a whole number.
  assert.deepEqual(parse('{"type":"history","limit":1e3}'), { type: "history", limit: 1000 });
});

Deno.test("history and who need a limit of at least 1; 0 is fine elsewhere", () => {
  for (const type of ["history", "who"]) {
    assert.deepEqual(
      parse({ type, limit: 0, ref: 2 }),
      bad("field 'limit' must be at least 1", 2),
      type,
    );
    assert.deepEqual(parse({ type, limit: 1 }), { type, limit: 1 }, type);
  }
  assert.deepEqual(parse({ type: "history", after: 0 }), { type: "history", after: 0 });
  assert.deepEqual(parse({ type: "who", offset: 0 }), { type: "who", offset: 0 });
});

Deno.test("an empty password is refused in every request that takes one", () => {
  for (const [type, fields] of Object.entries(FULL_REQUESTS)) {
    if (!("password" in fields)) continue;
    assert.deepEqual(
      parse({ type, ...fields, password: "", ref: "p" }),
      bad("field 'password' must not be empty", "p"),
      type,
    );
  }
});
