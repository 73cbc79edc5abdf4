import { presenceEvent } from '#core/identity/presence';
import { fitMessages } from '#core/pages';
import { FRAME_LIMIT_BYTES } from '#deliver/coalescing';
import { messageFrameOf } from '#messages/changeFrames';
import { ATTACHMENT_LIMITS, type ChatMessage, FILE_TYPES, GATEWAY, LIMITS } from '#protocol';
import { memberList } from '#rooms/rooms';
import { framesOf } from '../helpers/roomFrames';

/**
 * Every frame the server sends stays within API Gateway's 128 KB message, built from the largest input each one
 * accepts: text whose JSON is six times its 4,096 bytes (control characters escape to `\u0001`), names of 32 code
 * points of four bytes, the longest request ids. Route replies with messages page by size (pages.ts); the others
 * are bounded by what they carry.
 */

const bytes = (value: unknown) =>
  Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
/** The text whose JSON is longest for its 4,096 UTF-8 bytes. */
const worstText = '\u0001'.repeat(LIMITS.messageMaxBytes);
const worstName = '𝔄'.repeat(LIMITS.usernameMaxChars);
const requestId = 'r'.repeat(LIMITS.requestIdMaxChars);
const ROOM = 'K7M2QDHT';

const message = (seq: number): ChatMessage => ({
  roomId: ROOM,
  seq,
  messageId: '7c1d9e2f-3b4a-4c5d-8e6f-0a1b2c3d4e5f',
  username: worstName,
  text: worstText,
  sentAt: '2026-01-05T20:14:03.310Z',
});
const messages = Array.from({ length: LIMITS.historyMax }, (_, i) => message(i + 1));

it('a message frame of the worst text is ~25 KB, within one 32 KB frame', () => {
  const frame = bytes(messageFrameOf(message(1)));
  expect(frame).toBeGreaterThan(6 * LIMITS.messageMaxBytes);
  expect(frame).toBeLessThanOrEqual(FRAME_LIMIT_BYTES);
});

it('a message of the worst text carrying four files of the worst names stays within one 32 KB frame', () => {
  const files = Array.from({ length: ATTACHMENT_LIMITS.perMessage }, (_, i) => ({
    key: `rooms/${ROOM}/${'a'.repeat(21)}${i}`,
    versionId: 'v'.repeat(32),
    contentType: 'application/zip' as const,
    size: FILE_TYPES['application/zip'].maxBytes,
    name: `${'𝔄'.repeat(ATTACHMENT_LIMITS.nameMaxChars - 4)}.zip`,
  }));
  expect(bytes(messageFrameOf({ ...message(1), attachments: files }))).toBeLessThanOrEqual(FRAME_LIMIT_BYTES);
});

it('fan-out batches of 100 worst messages are each within 32 KB', () => {
  const frames = framesOf(ROOM, messages);
  expect(frames.reduce((n, f) => n + f.messages, 0)).toBe(messages.length);
  for (const frame of frames) expect(bytes(frame.payload)).toBeLessThanOrEqual(GATEWAY.maxFrameBytes);
});

it('a history page of 100 worst messages stays within 128 KB with its requestId, and leaves the rest for the next page', () => {
  const frame = { type: 'history', roomId: ROOM, messages: [], hasMore: false };
  const { page, cut } = fitMessages(
    frame,
    'messages',
    messages.map((m) => messageFrameOf(m)),
  );
  expect(cut).toBe(true);
  expect(page.length).toBeGreaterThanOrEqual(1);
  const reply = { ...frame, messages: page, hasMore: true, requestId };
  expect(bytes(reply)).toBeLessThanOrEqual(LIMITS.replyMaxBytes + 100);
  expect(bytes(reply)).toBeLessThanOrEqual(GATEWAY.maxMessageBytes);
});

it('a joined of 200 worst names and 50 worst messages stays within 128 KB with its invite key and requestId', () => {
  const listed = {
    // Each shows its own name (one name in a room is one person): the worst, numbered as a room numbers clashes.
    members: Array.from({ length: 1000 }, (_, i) => ({
      connectionId: `c${i}`,
      username: `${worstName} (${i + 2})`,
    })),
    count: 1000,
    includesConnection: true,
  };
  const { members, memberCount } = memberList(listed);
  expect(members).toHaveLength(LIMITS.membersListed);
  const frame = {
    type: 'joined',
    roomId: ROOM,
    members,
    memberCount,
    history: [],
    hasMore: false,
    lastSeq: 100,
  };
  const latest = messages.slice(-LIMITS.historyDefault).map((m) => messageFrameOf(m));
  const { page } = fitMessages(frame, 'history', latest);
  const reply = { ...frame, history: page, hasMore: true, inviteKey: 'k'.repeat(16), requestId };
  expect(bytes(reply)).toBeLessThanOrEqual(GATEWAY.maxMessageBytes);
});

it('a members list of 200 worst names, a presence frame and a broadcast of the worst text are far below 128 KB', () => {
  const names = Array.from({ length: LIMITS.membersListed }, () => `${worstName} (99)`);
  const members = { type: 'members', roomId: ROOM, members: names, memberCount: 100_000, requestId };
  expect(bytes(members)).toBeLessThanOrEqual(GATEWAY.maxMessageBytes / 2);
  expect(bytes(presenceEvent(ROOM, 'join', worstName).payload)).toBeLessThanOrEqual(1024);
  const broadcast = {
    type: 'broadcast',
    messageId: '7c1d9e2f-3b4a-4c5d-8e6f-0a1b2c3d4e5f',
    text: worstText,
    sentAt: '2026-01-05T20:14:03.310Z',
    roomId: ROOM,
  };
  expect(bytes(broadcast)).toBeLessThanOrEqual(FRAME_LIMIT_BYTES);
});
