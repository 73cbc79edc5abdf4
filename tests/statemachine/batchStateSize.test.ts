import { PAYLOAD_LIMIT_BYTES } from '../../tools/local/payloadLimit';
import { useFanoutMachine } from '../helpers/fanoutMachine';

/**
 * No batch can poison itself: Prepare's result holds every room of the pipe's batch (up to ten) in one Step Functions
 * state of at most 256 KiB, over which the execution fails with States.DataLimitExceeded, which no Retry or Catch
 * matches (the twin enforces it: tools/local/payloadLimit.ts). Ten rooms, each with a backlog of several cycles of
 * long messages whose quotes double on every escaping, woken in one batch: the execution fits, and every member gets
 * its room's every message, in order.
 */
const { h, send, seqsOf, recordsOf, roomWithMembers, untilDelivered } = useFanoutMachine();

const ROOMS = 10;
const MESSAGES = 60;
/** 1,600 characters, half of them quotes: ~4.8 KB once escaped in the state, so 60 are ~290 KB, three cycles. */
const TEXT = 'x"'.repeat(800);

it('a batch of ten rooms, each with a full backlog, fits the state limit and delivers every message in order', async () => {
  const rooms = Array.from({ length: ROOMS }, (_, i) => `FULL${String(i).padStart(2, '0')}`);
  const members = new Map<string, string[]>();
  const wakes = [];
  for (const roomId of rooms) {
    members.set(roomId, await roomWithMembers(roomId, 2));
    wakes.push(await send(roomId, 1, TEXT));
    for (let seq = 2; seq <= MESSAGES; seq++) await send(roomId, seq, TEXT);
  }
  h.machine.takeLargestStateBytes();

  const run = await h.machine.execute(recordsOf(...wakes));
  expect(run).toMatchObject({ ok: true, output: { rooms: ROOMS } });
  expect(h.machine.takeLargestStateBytes()).toBeLessThanOrEqual(PAYLOAD_LIMIT_BYTES);

  const all = Array.from({ length: MESSAGES }, (_, i) => i + 1);
  for (const roomId of rooms) {
    const ids = members.get(roomId) as string[];
    await untilDelivered(roomId, () => ids.every((id) => seqsOf(id).length >= MESSAGES));
    for (const id of ids) expect(seqsOf(id)).toEqual(all);
  }
});
