import { createHash } from 'node:crypto';
import { ACTIONS, isRequestToken, isRoomCode, LIMITS, LOBBY, PATTERNS } from '#protocol';
import { BadRequest, MessageTooLarge } from './errors';

// The protocol is defined once in protocol/ (with protocol/asyncapi.yaml); this module parses what clients send.
export type {
  AckFrame,
  BroadcastFrame,
  ChatMessage,
  HistoryFrame,
  JoinedFrame,
  MessageFrame,
  PresenceFrame,
  ReplyRef,
} from '#protocol';
export {
  isRoomCode,
  LIMITS,
  LOBBY,
  REPLY_QUOTE_CHARS,
  ROOM_CODE_ALPHABET,
  ROOM_CODE_LENGTH,
} from '#protocol';

// C0 and C1 control characters, DEL, and the Unicode line/paragraph separators.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Parses text that must hold a JSON object (a WebSocket frame, a REST body), or throws BAD_REQUEST naming it:
 * `noun` is what the client sent, `expected` what the object should look like.
 */
export function parseJsonObject(
  text: string | undefined | null,
  noun: string,
  expected = 'a JSON object',
): Record<string, unknown> {
  if (text === undefined || text === null || text.trim() === '') {
    throw new BadRequest(`The ${noun} is empty; send a JSON object.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadRequest(`The ${noun} is not valid JSON.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BadRequest(`The ${noun} must be ${expected}.`);
  }
  return parsed as Record<string, unknown>;
}

/** Parses a frame body: a JSON object, or BAD_REQUEST. */
export function parseBody(body: string | undefined | null): Record<string, unknown> {
  return parseJsonObject(body, 'frame', 'a JSON object with an "action" field');
}

/** A room id as a client sends it: an 8-character code (6 for an older room) or `lobby`. */
export function parseRoomId(value: unknown): string {
  if (typeof value !== 'string')
    throw new BadRequest('"roomId" must be a string such as "K7M2QDHT" or "lobby".');
  const roomId = value.trim();
  if (roomId === LOBBY) return LOBBY;
  const code = roomId.toUpperCase();
  if (!isRoomCode(code)) {
    throw new BadRequest(
      '"roomId" must be 8 characters (6 for an older room) from A-Z and 2-9 without I, O, 0 or 1, or "lobby".',
    );
  }
  return code;
}

/**
 * Invisible characters a name could hide or reorder text with: Unicode's Default_Ignorable_Code_Point covers the
 * bidi controls (U+200E/F, U+202A-U+202E, U+2066-U+2069), zero-width characters (U+200B-U+200D, U+2060, U+FEFF),
 * the soft hyphen, tag characters (U+E0000-U+E0FFF), variation selectors and the Hangul fillers (which are letters).
 */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;

/**
 * What a name is made of, by allowlist (the letters, marks and digits of PRECIS's IdentifierClass, RFC 8264 9.1:
 * general categories L, Mn, Mc, Nd), plus the space and a short list of punctuation. Everything else is refused:
 * format characters (Cf: U+FFF9-U+FFFB, ...), symbols that draw nothing (U+2800 braille blank), private-use and
 * unassigned code points, other spaces. Parentheses are not on the list, so no one can choose a room's numbered
 * form of a name ("alice (2)", names.ts).
 */
const NAME_PUNCTUATION = "'-_.@";
const NAME_CHAR = new RegExp(PATTERNS.usernameChar, 'u');
/** A combining mark stands on a letter or digit, at most 4 on one (enough for any script; no mark towers). */
const LOOSE_MARK = /(^|[^\p{L}\p{Nd}\p{Mn}\p{Mc}])[\p{Mn}\p{Mc}]|[\p{Mn}\p{Mc}]{5}/u;

const codePointOf = (char: string) =>
  `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * A display name, from the connect query string or a token's claim: NFKC-normalised (so full-width and other
 * compatibility forms become their plain letters, and the other spaces U+0020), runs of spaces made one and the
 * ends trimmed (as PRECIS's Nickname profile, RFC 8266, does), 1-32 characters, each allowed by NAME_CHAR. A
 * refusal names the first code point refused. Absent (no query parameter, AuthMode=none) -> guest-XXXX.
 */
export function parseUsername(value: string | undefined, randomSuffix: () => string): string {
  if (value === undefined) return `guest-${randomSuffix()}`;
  const username = value.normalize('NFKC').replace(/ {2,}/g, ' ').replace(/^ | $/g, '');
  const chars = [...username];
  if (chars.length < 1 || chars.length > LIMITS.usernameMaxChars) {
    throw new BadRequest(`username must be 1-${LIMITS.usernameMaxChars} characters.`);
  }
  if (CONTROL_CHARS.test(username)) throw new BadRequest('username must not contain control characters.');
  const invisible = username.match(INVISIBLE)?.[0];
  if (invisible !== undefined) {
    throw new BadRequest(
      `username must not contain invisible or text-direction characters (found ${codePointOf(invisible)}).`,
    );
  }
  const refused = chars.find((char) => !NAME_CHAR.test(char));
  if (refused !== undefined) {
    throw new BadRequest(
      `username may hold only letters, digits, spaces and ${[...NAME_PUNCTUATION].join(' ')} (found ${codePointOf(refused)}).`,
    );
  }
  if (LOOSE_MARK.test(username))
    throw new BadRequest('username may hold a combining mark only on a letter or digit, at most 4 on one.');
  if (!/[\p{L}\p{Nd}]/u.test(username)) throw new BadRequest('username must hold a letter or a digit.');
  return username;
}

const RESUME_TOKEN = new RegExp(PATTERNS.resumeToken);

/**
 * The `resume` connect parameter, as the scope of the connection's `clientMsgId`s (`resume:` + its hash); absent ->
 * undefined. Anything but 22 base64url characters (128 bits) is refused: a short or made-up value could be shared.
 */
export function parseResumeToken(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!RESUME_TOKEN.test(value))
    throw new BadRequest('resume must be 22 characters of A-Z a-z 0-9 _ - (128 random bits, base64url).');
  // Kept hashed: the token is the client's secret, and the table need not hold it.
  return `resume:${createHash('sha256').update(value).digest('base64url')}`;
}

/**
 * The most a broadcast's text may take once escaped as the fan-out queue carries it: a broadcast's frame is a JSON
 * string in its event, and the event a JSON string in the batch of up to 10 the pipe hands Step Functions, whose input
 * is at most 262,144 bytes. A quote, backslash or control character grows to 8 bytes or more by then, so 4,096 of them
 * would take 32 KB and ten such broadcasts would fail their batch on every receive. At 16,384 bytes ten texts, their
 * frames' other fields and the records' envelopes stay under the limit (tests/core/queuedSize.test.ts). A member's
 * message and its edits carry no such bound: they reach the fan-out through the room's log, not the queue
 * (deliver/roomLog.ts), and any text of 4,096 bytes is delivered.
 */
const QUEUED_TEXT_MAX_BYTES = 16_384;

/** A text's size once escaped three times: in its frame, the frame in the event, the event in the pipe's batch. */
function queuedTextBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(JSON.stringify(JSON.stringify(text))), 'utf8');
}

/** Chat text: a string of 1-4096 UTF-8 bytes after trimming. */
export function parseMessageText(value: unknown): string {
  if (typeof value !== 'string') throw new BadRequest('"message" must be a string.');
  const text = value.trim();
  if (text.length === 0) throw new BadRequest('"message" must not be empty.');
  if (Buffer.byteLength(text, 'utf8') > LIMITS.messageMaxBytes)
    throw new MessageTooLarge(LIMITS.messageMaxBytes);
  return text;
}

/** A broadcast's text: chat text whose escaped size fits the fan-out queue's batch (QUEUED_TEXT_MAX_BYTES). */
export function parseBroadcastText(value: unknown): string {
  const text = parseMessageText(value);
  if (queuedTextBytes(text) > QUEUED_TEXT_MAX_BYTES)
    throw new MessageTooLarge(
      LIMITS.messageMaxBytes,
      'Message text has too many quotes, backslashes or control characters to deliver in one message; send it in parts.',
    );
  return text;
}

export function parseClientMsgId(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > LIMITS.clientMsgIdMaxChars) {
    throw new BadRequest(`"clientMsgId" must be a string of 1-${LIMITS.clientMsgIdMaxChars} characters.`);
  }
  if (!isRequestToken(value)) {
    throw new BadRequest('"clientMsgId" may contain only letters, digits and . _ : -');
  }
  return value;
}

/** A `sendmessage`'s `replyTo`: absent, or the seq of the message it answers (checked against the room by the send). */
export function parseReplyTo(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new BadRequest('"replyTo" must be the seq of a message in this room: a whole number of 1 or more.');
  }
  return value as number;
}

/** `threadOf` (sendmessage, history): the seq of a thread's root, or undefined when absent. */
export function parseThreadOf(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < 1) {
    throw new BadRequest(
      '"threadOf" must be the seq of a message in this room: a whole number of 1 or more.',
    );
  }
  return value as number;
}

export interface HistoryQuery {
  afterSeq?: number;
  beforeSeq?: number;
  limit: number;
  /** A page of this thread's replies instead of the room's events. */
  threadOf?: number;
}

export function parseHistoryQuery(body: Record<string, unknown>): HistoryQuery {
  const { afterSeq, beforeSeq, limit } = body;
  if (afterSeq !== undefined && (!Number.isSafeInteger(afterSeq) || (afterSeq as number) < 0)) {
    throw new BadRequest('"afterSeq" must be a whole number of 0 or more.');
  }
  if (beforeSeq !== undefined && (!Number.isSafeInteger(beforeSeq) || (beforeSeq as number) < 1)) {
    throw new BadRequest('"beforeSeq" must be a whole number of 1 or more.');
  }
  if (afterSeq !== undefined && beforeSeq !== undefined) {
    throw new BadRequest('Ask for messages after "afterSeq" or before "beforeSeq", not both.');
  }
  if (
    limit !== undefined &&
    (!Number.isSafeInteger(limit) || (limit as number) < 1 || (limit as number) > LIMITS.historyMax)
  ) {
    throw new BadRequest(`"limit" must be a whole number from 1 to ${LIMITS.historyMax}.`);
  }
  const threadOf = parseThreadOf(body.threadOf);
  return {
    afterSeq: afterSeq as number | undefined,
    beforeSeq: beforeSeq as number | undefined,
    limit: (limit as number | undefined) ?? LIMITS.historyDefault,
    ...(threadOf !== undefined && { threadOf }),
  };
}

/**
 * The `info` frame's usage line: every action a client may send, from the protocol's one list, so an action added
 * there is listed here; each action's fields are in docs/PROTOCOL.md.
 */
export const USAGE = `roomcast: send JSON frames with an "action", one of: ${ACTIONS.filter((a) => a !== 'ping').join(', ')} (and ping). Each action's fields: docs/PROTOCOL.md.`;

/** A field every request of its kind must carry; its value is checked by the parser of that field. */
export function requireString(body: Record<string, unknown>, field: string): unknown {
  if (!(field in body)) throw new BadRequest(`"${field}" is required.`);
  return body[field];
}
