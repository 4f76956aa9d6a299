/**
 * The `--config` file: TOML (or JSON when the name ends in `.json`) whose
 * top-level keys are the flags' names, plus `address` for the TCP listener.
 * This only reads the file and checks each value's kind; `config.ts` then
 * validates every value exactly as it validates the flag.
 *
 * @module
 */

import { parse as parseToml, TomlError } from "smol-toml";
import { ConfigError, type FlagName, isBooleanFlag, isFileKey } from "./config.ts";

/** One value from the file, and where it was (`FILE:LINE: key`) for error messages. */
export interface FileValue {
  value: string | boolean;
  from: string;
}

/** The file's settings by flag name (`address` for the positional TCP address). */
export type FileValues = Map<FlagName | "address", FileValue>;

/** Reads and checks `path`; throws {@link ConfigError} naming the key and line of anything wrong. */
export function readConfigFile(path: string): FileValues {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    throw new ConfigError(`cannot read ${path}: ${err instanceof Error ? err.message : err}`);
  }
  return parseConfigText(text, path);
}

/** {@link readConfigFile} on text already read; `path` names it in errors and picks the syntax. */
export function parseConfigText(text: string, path: string): FileValues {
  const json = path.toLowerCase().endsWith(".json");
  let raw: unknown;
  try {
    raw = json ? JSON.parse(text) : parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) {
      throw new ConfigError(`${path}:${err.line}: ${err.message.split("\n")[0]}`);
    }
    throw new ConfigError(`${path}: ${err instanceof Error ? err.message : err}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${path}: expected keys and values at the top level`);
  }
  const values: FileValues = new Map();
  for (const [key, value] of Object.entries(raw)) {
    const from = `${path}${lineOf(text, key, json)}: ${key}`;
    if (key !== "address" && !isFileKey(key)) throw new ConfigError(`${from}: unknown key`);
    if (key !== "address" && isBooleanFlag(key)) {
      if (typeof value !== "boolean") {
        throw new ConfigError(`${from}: expected true or false, got ${JSON.stringify(value)}`);
      }
      values.set(key, { value, from });
      continue;
    }
    // Lists are allowed where the flag takes a comma-separated list.
    const listOk = key === "allowed-origins" && Array.isArray(value) &&
      value.every((v) => typeof v === "string" && !v.includes(","));
    if (listOk) values.set(key, { value: (value as string[]).join(","), from });
    else if (typeof value === "string" || (typeof value === "number" && Number.isInteger(value))) {
      values.set(key, { value: String(value), from });
    } else {
      throw new ConfigError(`${from}: expected a string or a whole number, got ${describe(value)}`);
    }
  }
  return values;
}

/** `:LINE` of the key's first assignment, scanning the text (the parsers give no positions). */
function lineOf(text: string, key: string, json: boolean): string {
  const escaped = key.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
  const pattern = json ? new RegExp(`"${escaped}"\\s*:`) : new RegExp(
    `^\\s*(?:(?:${escaped}|"${escaped}"|'${escaped}')\\s*=|\\[+\\s*${escaped}\\s*\\])`,
  );
  const index = text.split(/\r?\n/).findIndex((line) => pattern.test(line));
  return index < 0 ? "" : `:${index + 1}`;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object" && value !== null) return "a table";
  return JSON.stringify(value);
}
