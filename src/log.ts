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
  sanitizeControlSequences,
} from "@logtape/logtape";
import type { Config } from "./config.ts";
import type { AuditRecord, AuditSink } from "./core/audit.ts";

const encoder = new TextEncoder();

/** Routes the `chat` logger category to stderr at the configured level. */
export function setupLogging(level: Config["logLevel"], format: Config["logFormat"]): void {
  const formatter: (record: LogRecord) => string = format === "json"
    ? getJsonLinesFormatter({ message: "template", properties: "flatten" })
    : Deno.stderr.isTerminal()
    ? getAnsiColorFormatter({ timestamp: "date-time", value: "bare" })
    : getTextFormatter({ timestamp: "date-time", value: plainValue });
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

/**
 * A value in a text line: what the "bare" preset renders (strings as they
 * are, their control characters escaped), but numbers without the runtime's
 * `inspect`, which cost a few percent of accepting a connection (every
 * connection logs its number).
 */
export function plainValue(value: unknown, inspect: (value: unknown) => string): string {
  if (typeof value === "string") {
    return sanitizeControlSequences(value, { sgr: "escape", newlines: "escape" });
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return inspect(value);
}

function writeAllSync(bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += Deno.stderr.writeSync(bytes.subarray(done));
}

/** The logger of one part of the server, such as `logger("tcp")`. */
export function logger(part: string): Logger {
  return getLogger(["chat", part]);
}

/** Acts that failed (or were cut off): warnings, kept at `--log-level warning`. */
const AUDIT_FAILURES = /_failed$|^excess_flood$|^too_slow$/;

/**
 * The audit trail as log lines in the `chat.audit` category: text lines of
 * fixed shape (`audit admin_failed nick=bob address=203.0.113.7`, for
 * fail2ban), or with `--log-format json` one object with the same fields.
 */
export function auditLog(log: Logger = logger("audit")): AuditSink {
  return (record: AuditRecord) => {
    const fields = (["nick", "account", "address", "room", "target"] as const)
      .filter((key) => record[key] !== undefined && record[key] !== "");
    const template = `audit {action} ${fields.map((key) => `${key}={${key}}`).join(" ")}`;
    if (AUDIT_FAILURES.test(record.action)) log.warn(template, { ...record });
    else log.info(template, { ...record });
  };
}
