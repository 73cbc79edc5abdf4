import { parseBroadcastText, parseMessageText } from '#core/protocol';
import { messageFrameOf } from '#messages/changeFrames';
import { readEvent } from '../helpers/events';
import { recordsOf } from '../helpers/fanoutMachine';

/**
 * A room's seq-less events (a broadcast's among them) reach the fan-out as a batch of up to 10 SQS records that the
 * pipe passes to one synchronous Express execution, whose input Step Functions caps at 262,144 bytes. A batch over it
 * fails on every receive and holds the room's queue group until the dead-letter queue takes it, so the broadcast's
 * route bounds what one text can take once escaped (QUEUED_TEXT_MAX_BYTES). A member's message goes through the
 * room's log instead, and any text of 4,096 bytes is accepted (tests/statemachine/pageSize.test.ts delivers one).
 */
const STEP_FUNCTIONS_INPUT_BYTES = 262_144;

/** Whether the broadcast route takes `text`. */
function accepted(text: string): boolean {
  try {
    parseBroadcastText(text);
    return true;
  } catch {
    return false;
  }
}

/** The longest run of `char` the broadcast route lets through. */
function longestAllowed(char: string): string {
  let n = 1;
  while (accepted(char.repeat(n + 1))) n++;
  return char.repeat(n);
}

/** A stored message as large as the send path lets one be, but for its text. */
function biggestMessage(seq: number, text: string) {
  return {
    roomId: 'ABCDEFGH',
    seq: 9_007_199_254_740 + seq,
    messageId: '6f1c1a7e-3f5d-4a8e-9a53-3d2b9f7c1e21',
    username: 'x'.repeat(32),
    text,
    sentAt: '2026-11-25T12:00:00.000Z',
    authorKey: 'k'.repeat(16),
    replyTo: { seq: 9_007_199_254_740, username: 'y'.repeat(32) },
    mentions: Array.from({ length: 10 }, (_, i) => `${'m'.repeat(30)}${i}`),
    // Files, whose names (120 code points of four bytes) outweigh an image's width and height.
    attachments: Array.from({ length: 4 }, (_, i) => ({
      key: `rooms/ABCDEFGH/${'a'.repeat(32)}${i}`,
      contentType: 'application/zip' as const,
      size: 26_214_400,
      name: `${'𝔄'.repeat(116)}.zip`,
    })),
  };
}

it('accepts a member text of 4,096 characters JSON escapes: it reaches the fan-out through the log, not the queue', () => {
  for (const char of ['\\', '"', '\u0001'])
    expect(parseMessageText(char.repeat(4096))).toBe(char.repeat(4096));
});

it('refuses a broadcast of thousands of characters JSON escapes, as too large, and says why', () => {
  for (const char of ['\\', '"', '\u0001']) {
    expect(() => parseBroadcastText(char.repeat(4096))).toThrow(
      expect.objectContaining({
        code: 'MESSAGE_TOO_LARGE',
        message: expect.stringMatching(/send it in parts/),
      }),
    );
  }
});

it('accepts ordinary text at the byte limit: prose, code with quotes, emoji', () => {
  const prose = 'The quick brown fox jumps over the lazy dog. '.repeat(100).slice(0, 4096);
  const code = 'const s = "a\\n";\n'.repeat(240).slice(0, 4096);
  const emoji = '🙂'.repeat(1024);
  for (const text of [prose, code, emoji]) expect(parseMessageText(text)).toBe(text.trim());
});

it('keeps a full batch of the largest texts it lets through within the state machine input limit', () => {
  const event = readEvent<{ detail: Record<string, unknown> }>('fanout');
  for (const char of ['\\', '"', '\u0001']) {
    const text = longestAllowed(char);
    expect(parseBroadcastText(text)).toBe(text);
    const batch = recordsOf(
      ...Array.from({ length: 10 }, (_, i) => {
        const message = biggestMessage(i, text);
        const payload = JSON.stringify(messageFrameOf(message));
        return {
          ...event,
          detail: { messageId: message.messageId, roomId: message.roomId, seq: message.seq, payload },
        };
      }),
    );
    expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThan(STEP_FUNCTIONS_INPUT_BYTES);
  }
});
