/**
 * Logging setup. Everything the server logs goes through LogTape to stderr:
 * readable lines (colored on a terminal) or one JSON object per line.
 *
 * @module
 */

import {
  configureSync,
  getAnsiColorFormatter,
  getJsonLinesFormatter,
  getLogger,
  getTextFormatter,
  type Logger,
  type LogRecord,
} from "@logtape/logtape";
import type { Config } from "./config.ts";

const encoder = new TextEncoder();

/** Routes the `chat` logger category to stderr at the configured level. */
export function setupLogging(level: Config["logLevel"], format: Config["logFormat"]): void {
  const formatter: (record: LogRecord) => string = format === "json"
    ? getJsonLinesFormatter({ message: "template", properties: "flatten" })
    : Deno.stderr.isTerminal()
    ? getAnsiColorFormatter({ timestamp: "date-time", value: "bare" })
    : getTextFormatter({ timestamp: "date-time", value: "bare" });
  configureSync({
    reset: true,
    sinks: {
      stderr: (record) => writeAllSync(encoder.encode(formatter(record))),
    },
    loggers: [
      { category: ["chat"], lowestLevel: level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

function writeAllSync(bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += Deno.stderr.writeSync(bytes.subarray(done));
}

/** The logger of one part of the server, such as `logger("tcp")`. */
export function logger(part: string): Logger {
  return getLogger(["chat", part]);
}
