import { LIMITS, normalizeRoomId, utf8Bytes } from '../protocol';
import { RoomcastError } from './errors';

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
