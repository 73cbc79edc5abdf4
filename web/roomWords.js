// How notices speak of rooms and times: a room by its name ("#Night owls"), by whom a direct message is with, or by
// its code only when it has no name; a time as the reader's local clock in words ("17:05 today"), never a UTC ISO
// string. The server's sentences (errors, `removed`, `roomclosed`) name rooms by code and times in ISO 8601: `readable`
// rewrites both with what this page knows.
import { roomNameOf } from './directory.js';
import { dmPeerName } from './dmHeader.js';
import { LOBBY } from './roomcast.js';

/** A room's code is 8 characters (letters without I and O, digits 2–9); a direct message's 12. */
const ROOM_IN_TEXT = /\broom ([A-HJ-NP-Z2-9]{8}|[A-HJ-NP-Z2-9]{12})\b/g;
const ISO_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g;

/** What a notice calls room `roomId`: "#name", "the direct message with Ana", "the lobby", else "room CODE". */
export function roomWords(roomId) {
  if (roomId === LOBBY) return 'the lobby';
  const name = roomNameOf(roomId);
  if (name) return `#${name}`;
  const peer = dmPeerName(roomId);
  if (peer) return `the direct message with ${peer}`;
  return `room ${roomId}`;
}

const sameDay = (a, b) =>
  a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/** `iso` on the reader's clock, in words: "17:05 today", "09:30 tomorrow", "Friday, 4 December at 17:05". */
export function whenInWords(iso, now = new Date()) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return String(iso);
  const time = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (sameDay(at, now)) return `${time} today`;
  const tomorrow = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  if (sameDay(at, tomorrow)) return `${time} tomorrow`;
  return `${at.toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long' })} at ${time}`;
}

/** A server's sentence with its room codes as `roomWords` and its ISO times as `whenInWords`. */
export const readable = (text) =>
  String(text ?? '')
    .replace(ROOM_IN_TEXT, (_, code) => roomWords(code))
    .replace(ISO_TIME, (iso) => whenInWords(iso));
