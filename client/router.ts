import type {
  AckFrame,
  BroadcastFrame,
  ErrorFrame,
  MembersFrame,
  MentionFrame,
  ProfileFrame,
  ReportedFrame,
  ReportResolvedFrame,
  RoomChangedFrame,
} from '../protocol';
import { CHANGE_FRAME_TYPES, ERROR_CODES, REPLY_TYPE, SERVER_FRAME_TYPES } from '../protocol';
import { RoomcastError } from './errors';
import type { Outbox } from './outbox';
import type { Requests } from './requests';
import type { RoomSession } from './session';
import type { ModerationNotice, RoomcastEvents } from './types';
import { presencesOf } from './validate';

/**
 * The client's frames in: each text the connection receives is parsed and handed to the part it concerns (the room
 * session, the outbox, a waiting request) or to the app's events (docs/CLIENT.md lists them). Whatever is not a
 * known frame is the `unknown` event, never an exception.
 */

const FRAME_TYPES = new Set<string>(SERVER_FRAME_TYPES);
const SERVER_CODES = new Set<string>(ERROR_CODES);
/** The current room's stream, handed to the app in seq order by the session's sequencer. */
const ROOM_FRAMES = new Set<string>(['message', 'batch', 'resync', ...CHANGE_FRAME_TYPES]);
/** Every action's reply type (one after its request timed out has nobody waiting); notices a module takes itself. */
const LATE_REPLIES = new Set<string>([...Object.values(REPLY_TYPE), 'info', 'dmopened', 'myroom']);
/** Moderation frames the server pushes to members (not only as replies): the `moderation` event. */
const MODERATION_NOTICES = new Set<string>(['rolechanged', 'muted', 'unmuted', 'slowmode']);

/** Where frames go: the client's parts and its events. */
export interface FrameTargets {
  emit<K extends keyof RoomcastEvents>(event: K, value: RoomcastEvents[K]): void;
  readonly session: RoomSession;
  readonly outbox: Outbox;
  readonly requests: Requests;
  /** The keepalive's answer came. */
  pong(): void;
}

/** A text the connection received: the `frame` event, then the part or event it concerns. */
export function routeText(text: string, to: FrameTargets): void {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    to.emit('frame', { raw: text });
    to.emit('unknown', { raw: text });
    return;
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
    to.emit('frame', { raw: text });
    to.emit('unknown', { raw: text, frame });
    return;
  }
  const f = frame as Record<string, unknown>;
  to.emit('frame', { raw: text, frame: f });
  const type = f.type;
  if (typeof type !== 'string' || !FRAME_TYPES.has(type)) {
    if (type === undefined && typeof f.message === 'string' && typeof f.connectionId === 'string') {
      // API Gateway's own answer when a route's function failed; it names no request of ours.
      to.emit('error', new RoomcastError('GATEWAY_ERROR', f.message));
      return;
    }
    to.emit('unknown', { raw: text, frame });
    return;
  }
  route(type, f, text, to);
}

/** A `memberschanged` frame's count of people not named: a positive integer, else none. */
const countOf = (n: unknown): number => (Number.isSafeInteger(n) && (n as number) > 0 ? (n as number) : 0);

/** Hands a frame to the part it concerns: the session, the outbox, a waiting request, or the app's events. */
function route(type: string, f: Record<string, unknown>, raw: string, to: FrameTargets): void {
  if (ROOM_FRAMES.has(type)) {
    if (!to.session.onRoomFrame(f)) to.emit('unknown', { raw, frame: f });
    return;
  }
  switch (type) {
    case 'presence':
      to.session.onPresence(f as unknown as RoomcastEvents['presence']);
      return;
    case 'memberschanged': // a fan-out turn's joins and leaves in one frame: each named one a presence change, in order
      for (const presence of presencesOf(f)) to.session.onPresence(presence);
      if (typeof f.roomId === 'string')
        to.session.onMembersCounted(f.roomId, countOf(f.joined), countOf(f.left));
      return;
    case 'broadcast':
      to.emit('broadcast', f as unknown as BroadcastFrame);
      return;
    case 'mention':
      to.emit('mention', f as unknown as MentionFrame);
      return;
    case 'roomchanged': // pushed to every member; the owner's own reply carries its requestId
      if (f.requestId === undefined) {
        to.emit('roomchanged', f as unknown as RoomChangedFrame);
        return;
      }
      break;
    case 'profile':
      if (f.requestId === undefined) {
        to.emit('profile', f as unknown as ProfileFrame);
        return;
      }
      break;
    case 'typing': // client/typing.ts takes it from the `frame` event
      return;
    case 'pong':
      to.pong();
      return;
    case 'ack':
      if (to.outbox.ack(f as unknown as AckFrame)) return;
      break;
    case 'error':
      onError(f as unknown as ErrorFrame, to);
      return;
  }
  if (to.requests.answer(f) || to.session.onOwnerFrame(f)) return;
  // A report of a room this user owns or moderates, pushed to its connections (the reporter's own reply was answered
  // above), and a report closed by another of the room's staff.
  if (type === 'reported') {
    to.emit('reported', f as unknown as ReportedFrame);
    return;
  }
  if (type === 'reportresolved') {
    to.emit('reportresolved', f as unknown as ReportResolvedFrame);
    return;
  }
  if (MODERATION_NOTICES.has(type)) {
    to.emit('moderation', f as unknown as ModerationNotice);
    return;
  }
  if (type === 'members') {
    const m = f as unknown as MembersFrame;
    to.session.setMembers(m.roomId, m.members, m.memberCount);
    return;
  }
  if (!LATE_REPLIES.has(type)) to.emit('unknown', { raw, frame: f });
}

/** An error frame answers the message or request it names; one that names none goes to the `error` event. */
function onError(frame: ErrorFrame, to: FrameTargets): void {
  const code = SERVER_CODES.has(frame.code) ? frame.code : 'INTERNAL';
  const error = new RoomcastError(code, frame.message, {
    action: frame.action,
    requestId: frame.requestId,
    clientMsgId: frame.clientMsgId,
    ...(typeof frame.until === 'string' && { until: frame.until }),
    ...(typeof frame.retryAfterSeconds === 'number' && { retryAfterSeconds: frame.retryAfterSeconds }),
  });
  if (to.outbox.refused(frame.clientMsgId, error)) return;
  if (to.requests.reject(frame.requestId, error)) return;
  to.emit('error', error);
}
