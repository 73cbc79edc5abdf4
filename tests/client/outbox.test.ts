import type { AckFrame } from '#protocol';
import { RoomcastError } from '../../client/errors';
import { Outbox } from '../../client/outbox';

/** The outbox (client/outbox.ts) alone, on Jest's fake clock. */
jest.useFakeTimers();
afterEach(() => jest.clearAllTimers());

function outbox(options: { limit?: number; maxAttempts?: number; inOrder?: boolean } = {}) {
  const sent: Array<Record<string, unknown>> = [];
  let online = true;
  let n = 0;
  const box = new Outbox({
    limit: options.limit ?? 10,
    maxAttempts: options.maxAttempts ?? 3,
    timeoutMs: 1_000,
    backoff: { initialDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 5 },
    random: () => 0.5,
    newId: () => `m-${++n}`,
    write: (frame) => {
      if (!online) throw new RoomcastError('DISCONNECTED', 'Not connected.');
      sent.push(frame);
    },
    canSend: () => online,
    inOrder: options.inOrder,
  });
  return {
    box,
    sent,
    setOnline: (value: boolean) => {
      online = value;
    },
  };
}

const ack = (clientMsgId: string, seq: number) => ({ type: 'ack', clientMsgId, seq }) as unknown as AckFrame;

it('retries a retryable refusal with the same clientMsgId after a full-jitter delay, and resolves with the ack', async () => {
  const { box, sent } = outbox();
  const sending = box.add('lobby', 'hello');
  expect(sent).toEqual([{ action: 'sendmessage', message: 'hello', clientMsgId: 'm-1' }]);
  box.refused('m-1', new RoomcastError('RATE_LIMITED', 'slow down'));
  await jest.advanceTimersByTimeAsync(99); // attempt 1 done: ceiling 200 ms, random 0.5 → 100 ms
  expect(sent).toHaveLength(1);
  await jest.advanceTimersByTimeAsync(1);
  expect(sent.map((f) => f.clientMsgId)).toEqual(['m-1', 'm-1']);
  expect(box.ack(ack('m-1', 7))).toBe(true);
  await expect(sending).resolves.toMatchObject({ seq: 7 });
  expect(box.size).toBe(0);
});

it('sends a message answered BUSY again with the same clientMsgId, as after the deadline, and resolves with its ack', async () => {
  const { box, sent } = outbox();
  const sending = box.add('lobby', 'hello');
  box.refused('m-1', new RoomcastError('BUSY', 'The chat is busy right now. Retry in a moment.'));
  await jest.advanceTimersByTimeAsync(100);
  expect(sent.map((f) => f.clientMsgId)).toEqual(['m-1', 'm-1']);
  box.refused('m-1', new RoomcastError('BUSY', 'The chat is busy right now. Retry in a moment.'));
  await jest.advanceTimersByTimeAsync(1_000);
  expect(sent.map((f) => f.clientMsgId)).toEqual(['m-1', 'm-1', 'm-1']);
  expect(box.ack(ack('m-1', 8))).toBe(true);
  await expect(sending).resolves.toMatchObject({ seq: 8 });
});

it('rejects after maxAttempts unanswered attempts, and at once on a refusal that is not retryable', async () => {
  const { box, sent } = outbox({ maxAttempts: 2 });
  const silent = box.add('lobby', 'anyone?');
  const rejected = expect(silent).rejects.toMatchObject({ code: 'TIMEOUT' });
  await jest.advanceTimersByTimeAsync(10_000);
  await rejected;
  expect(sent).toHaveLength(2);
  const big = box.add('lobby', 'too big');
  box.refused('m-2', new RoomcastError('MESSAGE_TOO_LARGE', 'too large'));
  await expect(big).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
});

it('keeps messages while offline (a cut-short attempt does not count), flushes them once back, and refuses past its limit', async () => {
  const { box, sent, setOnline } = outbox({ limit: 2, maxAttempts: 1 });
  const first = box.add('lobby', 'one');
  box.disconnected(); // the socket closed before the ack of attempt 1
  setOnline(false);
  const second = box.add('lobby', 'two');
  await expect(box.add('lobby', 'three')).rejects.toMatchObject({ code: 'OUTBOX_FULL' });
  setOnline(true);
  box.flush('lobby');
  expect(sent.map((f) => [f.clientMsgId, f.message])).toEqual([
    ['m-1', 'one'],
    ['m-1', 'one'],
    ['m-2', 'two'],
  ]);
  box.ack(ack('m-1', 1));
  box.ack(ack('m-2', 2));
  await expect(first).resolves.toMatchObject({ seq: 1 });
  await expect(second).resolves.toMatchObject({ seq: 2 });
});

it('a message written in another room is rejected with ROOM_CHANGED instead of going to the new one', async () => {
  const { box, sent, setOnline } = outbox();
  setOnline(false);
  const old = box.add('ABCDEF', 'for the old room');
  setOnline(true);
  box.flush('lobby');
  await expect(old).rejects.toMatchObject({ code: 'ROOM_CHANGED' });
  expect(sent).toEqual([]);
});

it('in order, sends one message at a time, the next once the one before is acked or given up, so seqs follow typing', async () => {
  const { box, sent, setOnline } = outbox({ inOrder: true, maxAttempts: 1 });
  const first = box.add('lobby', 'one');
  const second = box.add('lobby', 'two');
  const third = box.add('lobby', 'three');
  expect(sent.map((f) => f.message)).toEqual(['one']);
  box.ack(ack('m-1', 1));
  await expect(first).resolves.toMatchObject({ seq: 1 });
  expect(sent.map((f) => f.message)).toEqual(['one', 'two']);
  // Refused for good: the next one goes out all the same.
  box.refused('m-2', new RoomcastError('BAD_REQUEST', 'no'));
  await expect(second).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  expect(sent.map((f) => f.message)).toEqual(['one', 'two', 'three']);
  // Offline and back: only the first waiting message goes out again.
  box.disconnected();
  setOnline(false);
  const fourth = box.add('lobby', 'four');
  setOnline(true);
  box.flush('lobby');
  expect(sent.map((f) => f.message)).toEqual(['one', 'two', 'three', 'three']);
  box.ack(ack('m-3', 2));
  box.ack(ack('m-4', 3));
  await expect(third).resolves.toMatchObject({ seq: 2 });
  await expect(fourth).resolves.toMatchObject({ seq: 3 });
  expect(sent.map((f) => f.message)).toEqual(['one', 'two', 'three', 'three', 'four']);
});

it('sends a reply with its replyTo and its room on every attempt, and a refused original rejects it without a retry', async () => {
  const { box, sent } = outbox();
  const sending = box.add('R1', 'yes!', 4);
  box.refused('m-1', new RoomcastError('BUSY', 'busy'));
  await jest.advanceTimersByTimeAsync(1_000);
  expect(sent).toEqual([
    // Named, so it reaches R1 whichever followed room the connection shows.
    { action: 'sendmessage', roomId: 'R1', message: 'yes!', clientMsgId: 'm-1', replyTo: 4 },
    { action: 'sendmessage', roomId: 'R1', message: 'yes!', clientMsgId: 'm-1', replyTo: 4 },
  ]);
  box.refused('m-1', new RoomcastError('MESSAGE_DELETED', 'Message 4 was deleted.'));
  await expect(sending).rejects.toMatchObject({ code: 'MESSAGE_DELETED' });
  await jest.advanceTimersByTimeAsync(10_000);
  expect(sent).toHaveLength(2);
});
