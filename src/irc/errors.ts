/**
 * The core's errors as the numerics or standard replies (`FAIL`) the
 * client's command calls for: the same `not_in_room` is `442` after a
 * `PART`, `404` after a `PRIVMSG` and `FAIL REDACT INVALID_TARGET` after a
 * `REDACT`. Errors nobody asked for (a flood, a line too long) are here too.
 *
 * @module
 */

import type { ErrorCode } from "../core/events.ts";
import type { IrcClient, Pending } from "./client.ts";
import { fail } from "./commands.ts";
import { registrationError } from "./registration.ts";
import { dropNames } from "./queries.ts";
import { notice, type Of } from "./replies.ts";

type Client = IrcClient<unknown>;

/** A core error as the numeric the client's command calls for. */
export function errorReply(client: Client, event: Of<"error">, pending: Pending): void {
  const { command, target } = pending;
  if (pending.names !== undefined) dropNames(client, pending);
  const code = event.code;
  const numeric = NUMERICS[command]?.[code] ?? DEFAULT_NUMERICS[code];
  if (command === "NOTICE") return; // a NOTICE is never answered with an error
  if (code === "slow_down") return; // typing notices come often: the extra ones are dropped
  if (command === "REDACT") return redactError(client, event, pending);
  if (command === "MARKREAD") {
    const invalid = code === "invalid_room" || code === "invalid_nick";
    return invalid
      ? fail(client, "MARKREAD", "INVALID_PARAMS", target, event.message)
      : fail(client, "MARKREAD", "INTERNAL_ERROR", target, event.message);
  }
  if (pending.msgid !== undefined && (code === "no_such_message" || code === "bad_request")) {
    // A reply or reaction to what is not a kept message of the room, or a reaction refused.
    return code === "no_such_message"
      ? fail(client, command, "UNKNOWN_MSGID", target, pending.msgid, event.message)
      : fail(client, command, "INVALID_PARAMS", target, event.message);
  }
  if (command === "NICK" || command === "AUTHENTICATE" || command === "PASS") {
    return registrationError(client, code, pending);
  }
  if (command === "NAMES") {
    if (pending.failed) return;
    client.releaseRoom(target.slice(1));
    if (pending.namesEnd === null) return;
    return client.numeric("366", pending.namesEnd ?? target, "End of /NAMES list");
  }
  if (command === "WHO") return client.numeric("315", target, "End of WHO list");
  if (command === "CHATHISTORY") {
    const code = event.code === "store_failed" ? "MESSAGE_ERROR" : "INVALID_TARGET";
    return client.write([{
      tags: {},
      source: client.ctx.server,
      command: "FAIL",
      params: ["CHATHISTORY", code, pending.sub ?? "*", target || "*", event.message],
    }]);
  }
  if (command === "WHOIS" && code === "no_such_nick") {
    return client.write([
      client.line("401", target, "No such nick/channel"),
      client.line("318", target, "End of /WHOIS list"),
    ]);
  }
  const { hub } = client.ctx;
  if (
    code === "not_in_room" && target.startsWith("#") && !hub.hasRoom(target.slice(1).toLowerCase())
  ) {
    return client.numeric("403", target, "No such channel");
  }
  if (command === "MODE" && code === "no_such_nick" && !hub.hasNick(pending.nick ?? "")) {
    return client.numeric("401", pending.nick ?? "", "No such nick");
  }
  if (numeric === undefined) return notice(client, { type: "notice", text: event.message });
  if (numeric.length === 0) return; // nothing to say (an op that already is one)
  const [number] = numeric;
  const about = number === "441" || number === "443"
    ? [pending.nick ?? "", target]
    : number === "401"
    ? [pending.nick ?? target]
    : number === "481"
    ? []
    : [target];
  client.numeric(number, ...about, STANDARD_TEXT[number] ?? event.message);
}

/** `[numeric, params between the target and the text]` per core error, by command. */
const NUMERICS: Record<string, Partial<Record<ErrorCode, string[]>>> = {
  PRIVMSG: {
    not_in_room: ["404"],
    no_such_room: ["403"],
    no_such_nick: ["401"],
    empty_message: ["412"],
  },
  TAGMSG: {
    not_in_room: ["404"],
    no_such_room: ["403"],
    no_such_nick: ["401"],
  },
  KICK: { no_such_nick: ["441"] },
  MODE: { no_such_nick: ["441"], bad_request: [] },
  INVITE: { bad_request: ["443"], no_such_nick: ["401"] },
  WHOIS: { no_such_nick: ["401"] },
  REHASH: { not_operator: ["481"] },
};

/** The usual texts of the error numerics (the core's own messages where there is none). */
const STANDARD_TEXT: Record<string, string> = {
  "401": "No such nick/channel",
  "481": "Permission Denied- You're not an IRC operator",
  "403": "No such channel",
  "404": "Cannot send to channel",
  "412": "No text to send",
  "441": "They aren't on that channel",
  "442": "You're not on that channel",
  "451": "You have not registered",
  "473": "Cannot join channel (+i)",
  "443": "is already on channel",
  "474": "Cannot join channel (+b)",
  "475": "Cannot join channel (+k)",
  "482": "You're not channel operator",
};

const DEFAULT_NUMERICS: Partial<Record<ErrorCode, string[]>> = {
  no_such_room: ["403"],
  invalid_room: ["403"],
  not_in_room: ["442"],
  not_operator: ["482"],
  banned: ["474"],
  invite_only: ["473"],
  moderated: ["404"],
  room_locked: ["475"],
  wrong_password: ["475"],
  no_such_nick: ["401"],
  password_required: ["451"],
};

/** `REDACT`'s refusals as `draft/message-redaction` names them. */
function redactError(client: Client, event: Of<"error">, pending: Pending): void {
  const { target } = pending;
  const msgid = pending.msgid ?? "*";
  switch (event.code) {
    case "not_in_room":
    case "no_such_room":
    case "invalid_room":
      return fail(
        client,
        "REDACT",
        "INVALID_TARGET",
        target,
        `You cannot delete messages from ${target}`,
      );
    case "no_such_message":
      return fail(
        client,
        "REDACT",
        "UNKNOWN_MSGID",
        target,
        msgid,
        "This message does not exist or is not kept",
      );
    case "not_author":
    case "not_operator":
      return fail(
        client,
        "REDACT",
        "REDACT_FORBIDDEN",
        target,
        msgid,
        "You are not authorised to delete this message",
      );
  }
  fail(
    client,
    "REDACT",
    "REDACT_FORBIDDEN",
    target,
    msgid,
    `Could not delete this message: ${event.message}`,
  );
}

/** An error that is no reply to a request (flood control, a line too long). */
export function unsolicitedError(client: Client, event: Of<"error">): void {
  if (event.code === "slow_down") return; // slowed, as fakelag: no line
  if (event.code === "excess_flood") return client.error("Excess Flood");
  if (event.code === "line_too_long") return client.numeric("417", "Input line was too long");
  notice(client, { type: "notice", text: event.message });
}
