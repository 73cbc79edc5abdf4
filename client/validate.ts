import type {
  ChangeFrame,
  MessageFrame,
  Pin,
  PresenceFrame,
  ResyncFrame,
  RoomEventFrame,
  RoomInfo,
} from '../protocol';
import {
  CHANGE_FRAME_CHECKS,
  DIRECTORY_LIMITS,
  LIMITS,
  normalizeRoomId,
  normalizeText,
  normalizeTitle,
  PATTERNS,
  utf8Bytes,
} from '../protocol';
import { RoomcastError } from './errors';
import type { RoomcastClientOptions, SocketFactory } from './types';

/** The WebSocket class to use (given, else the platform's), refusing options that cannot connect. */
export function socketOf(options: RoomcastClientOptions): SocketFactory {
  const Socket = options.WebSocket ?? (globalThis as { WebSocket?: SocketFactory }).WebSocket;
  if (Socket === undefined) {
    throw new RoomcastError(
      'INVALID_ARGUMENT',
      'No WebSocket class: pass { WebSocket } (e.g. the `ws` package on Node 20).',
    );
  }
  if (!/^wss?:\/\//.test(options.url)) {
    throw new RoomcastError('INVALID_ARGUMENT', `url must start with ws:// or wss://, got ${options.url}`);
  }
  return Socket;
}

/** Refuses a room id the server would refuse, before sending anything. */
export function checkRoomId(roomId: unknown): string {
  const normalized = typeof roomId === 'string' ? normalizeRoomId(roomId) : undefined;
  if (normalized === undefined) {
    throw new RoomcastError(
      'INVALID_ARGUMENT',
      `"${String(roomId).slice(0, 20)}" is not a room code: 8 characters (6 for older rooms) from A-Z and 2-9 without I, O, 0 or 1, or "lobby".`,
    );
  }
  return normalized;
}

/**
 * The client's resume token: the one given (refused unless 22 base64url characters, as the server would), else 128
 * new random bits from the platform's CSPRNG (Web Crypto: browsers, Node >= 20).
 */
export function resumeTokenOf(options: { resumeToken?: string }): string {
  const given = options.resumeToken;
  if (given !== undefined) {
    if (!new RegExp(PATTERNS.resumeToken).test(given))
      throw new RoomcastError('INVALID_ARGUMENT', 'resumeToken must be 22 characters of A-Z a-z 0-9 _ -.');
    return given;
  }
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** Refuses a text the server would refuse, before sending anything. */
export function checkMessageText(text: unknown): string {
  if (typeof text !== 'string') throw new RoomcastError('INVALID_ARGUMENT', 'The message must be a string.');
  const trimmed = text.trim();
  if (trimmed === '') throw new RoomcastError('INVALID_ARGUMENT', 'The message is empty.');
  const bytes = utf8Bytes(trimmed);
  if (bytes > LIMITS.messageMaxBytes) {
    throw new RoomcastError(
      'MESSAGE_TOO_LARGE',
      `Messages are limited to ${LIMITS.messageMaxBytes} bytes (UTF-8); this one has ${bytes}.`,
    );
  }
  return trimmed;
}

/** Refuses a `threadOf` (and an `alsoToRoom` without one) the server would refuse as malformed. */
export function checkThreadOf(threadOf: unknown, alsoToRoom: unknown): number | undefined {
  if (alsoToRoom !== undefined && typeof alsoToRoom !== 'boolean')
    throw new RoomcastError('INVALID_ARGUMENT', 'alsoToRoom must be true or false.');
  if (threadOf === undefined) {
    if (alsoToRoom === true)
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        'alsoToRoom goes with threadOf: only a thread reply is also sent to the room.',
      );
    return undefined;
  }
  if (typeof threadOf !== 'number' || !Number.isSafeInteger(threadOf) || threadOf < 1)
    throw new RoomcastError(
      'INVALID_ARGUMENT',
      'threadOf must be the seq of a message: a whole number of 1 or more.',
    );
  return threadOf;
}

/** Refuses a `replyTo` the server would refuse as malformed: it must be a message's seq, a whole number from 1. */
export function checkReplyTo(replyTo: unknown): number | undefined {
  if (replyTo === undefined) return undefined;
  if (typeof replyTo !== 'number' || !Number.isSafeInteger(replyTo) || replyTo < 1)
    throw new RoomcastError(
      'INVALID_ARGUMENT',
      'replyTo must be the seq of a message: a whole number of 1 or more.',
    );
  return replyTo;
}

const isString = (value: unknown): value is string => typeof value === 'string';

/**
 * True for a `message` frame the client can hand to an app: a room id, a numeric seq and a text, and the other
 * fields the protocol names (`messageId`, `username`, `sentAt`) strings when present. A frame with less is
 * tolerated (lean tools relay frames of other shapes, such as the tutorial's); a field of the wrong type is not.
 * The seq's range is the sequencer's business (lean mode hands over whatever number came, for a delivery audit).
 */
export function isMessageFrame(value: unknown): value is MessageFrame {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  const optional = (field: unknown) => field === undefined || isString(field);
  return (
    m.type === 'message' &&
    isString(m.roomId) &&
    typeof m.seq === 'number' &&
    Number.isFinite(m.seq) &&
    isString(m.text) &&
    optional(m.messageId) &&
    optional(m.username) &&
    optional(m.sentAt)
  );
}

/**
 * True for a change event (`edited`, `deleted`, `reaction`) the client can hand over: a room id, a numeric seq and
 * the seq of the message it changes, and the fields its type needs.
 */
export function isChangeFrame(value: unknown): value is ChangeFrame {
  if (typeof value !== 'object' || value === null) return false;
  const c = value as Record<string, unknown>;
  if (!isString(c.roomId) || !Number.isFinite(c.seq) || !Number.isFinite(c.targetSeq)) return false;
  // Each change frame type's own fields, as protocol/changes.ts declares them.
  const check = Object.hasOwn(CHANGE_FRAME_CHECKS, c.type as string)
    ? CHANGE_FRAME_CHECKS[c.type as ChangeFrame['type']]
    : undefined;
  return check?.(c) === true;
}

/** A message or a change: what takes a seq in a room. */
export const isRoomEvent = (value: unknown): value is RoomEventFrame =>
  isMessageFrame(value) || isChangeFrame(value);

/**
 * The messages of a `batch` frame, or undefined when the frame is not one the protocol allows: a room id, and an
 * array of message frames of that room. The server sends them in ascending seq without duplicates; the client does
 * not rely on it (the sequencer orders and deduplicates whatever arrives).
 */
/** A pin of `joined`'s `pins` as the protocol says it: a message's seq, who pinned it and when. */
export function isPin(value: unknown): value is Pin {
  const pin = value as Record<string, unknown> | null;
  return (
    typeof pin === 'object' &&
    pin !== null &&
    Number.isSafeInteger(pin.seq) &&
    typeof pin.by === 'string' &&
    typeof pin.at === 'string'
  );
}

export function batchMessages(frame: Record<string, unknown>): RoomEventFrame[] | undefined {
  const { roomId, messages } = frame;
  if (!isString(roomId) || !Array.isArray(messages)) return undefined;
  if (!messages.every((m) => isRoomEvent(m) && m.roomId === roomId)) return undefined;
  return messages as RoomEventFrame[];
}

/** A frame's or a `history` page's `gaps` (seqs the server gave up: protocol's Gaps), its whole seqs; none if absent. */
export const gapsOf = (frame: object): number[] => {
  const { gaps } = frame as { gaps?: unknown };
  return Array.isArray(gaps) ? gaps.filter((seq) => Number.isSafeInteger(seq) && seq > 0) : [];
};

/** An event frame sent alone, as the app gets it: without the `gaps` the frame carried (gapsOf). */
export function withoutGaps(event: RoomEventFrame): RoomEventFrame {
  if (!('gaps' in event)) return event;
  const { gaps: _told, ...rest } = event as RoomEventFrame & { gaps?: unknown };
  return rest as RoomEventFrame;
}

/** True for a `resync` frame: a room id and the seq after which messages may be missing. */
export function isResyncFrame(
  frame: Record<string, unknown>,
): frame is Record<string, unknown> & ResyncFrame {
  return (
    frame.type === 'resync' &&
    isString(frame.roomId) &&
    Number.isSafeInteger(frame.afterSeq) &&
    (frame.afterSeq as number) >= 0
  );
}

/** The presence changes a `memberschanged` frame carries, each as its own `presence` frame would say it. */
export function presencesOf(f: Record<string, unknown>): PresenceFrame[] {
  const { roomId, changes } = f;
  if (typeof roomId !== 'string' || !Array.isArray(changes)) return [];
  return changes
    .filter(
      (c): c is { event: 'join' | 'leave'; username: string; reason?: unknown } =>
        typeof c === 'object' &&
        c !== null &&
        (c.event === 'join' || c.event === 'leave') &&
        typeof c.username === 'string',
    )
    .map((c) => ({
      type: 'presence',
      roomId,
      event: c.event,
      username: c.username,
      ...((c.reason === 'removed' || c.reason === 'banned') && { reason: c.reason }),
    }));
}

/** A member's name as a moderation action takes it (the member list's). */
export function checkName(name: string): string {
  if (typeof name !== 'string' || name === '')
    throw new RoomcastError('INVALID_ARGUMENT', 'username must be the name of a member of the room.');
  return name;
}

/** A room's name, topic and visibility as the server would store them; INVALID_ARGUMENT for what it would refuse. */
export function checkRoomInfo(info: RoomInfo): RoomInfo {
  const out: RoomInfo = {};
  if (info.name !== undefined) {
    const name = normalizeTitle(info.name, DIRECTORY_LIMITS.roomNameMaxChars);
    if (name === undefined)
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        `A room's name is 1–${DIRECTORY_LIMITS.roomNameMaxChars} characters.`,
      );
    out.name = name;
  }
  if (info.topic !== undefined) {
    const topic = normalizeText(info.topic, DIRECTORY_LIMITS.topicMaxChars);
    if (topic === undefined)
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        `A topic is at most ${DIRECTORY_LIMITS.topicMaxChars} characters.`,
      );
    out.topic = topic;
  }
  if (info.public !== undefined) out.public = info.public === true;
  if (info.membersPin !== undefined) out.membersPin = info.membersPin === true;
  return out;
}
