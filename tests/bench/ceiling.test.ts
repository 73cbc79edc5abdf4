import { runCeiling } from '../../tools/bench/ceiling';
import type { Members } from '../../tools/bench/members';
import { parseOptions } from '../../tools/bench/options';

/** The room-ceiling scenario: the highest clean rate, and no faster step once a send was answered busy. */

/** A room whose sends are answered busy from `busyFrom` messages/s on (the rate read from the message text). */
function room(busyFrom: number): Members {
  const busy = Object.assign(new Error('The chat is busy right now. Retry in a moment.'), {
    code: 'BUSY',
  });
  const members = {
    size: 3,
    sent: 0,
    send: async (_index: number, text: string) => {
      const rate = Number(/ceiling (\d+)\/s/.exec(text)?.[1]);
      if (rate >= busyFrom) throw busy;
      return { type: 'ack', roomId: 'R', messageId: 'm', seq: 1 };
    },
  };
  return members as unknown as Members;
}

it('reports the highest rate whose step and every slower one got no busy answer, and stops after the first busy step', async () => {
  const result = await runCeiling(room(40), [10, 20, 40, 80], 0.2, () => undefined);
  expect(result.ceilingPerSecond).toBe(20);
  expect(result.steps.map((s) => [s.rate, s.sent, s.acked, s.busy])).toEqual([
    [10, 2, 2, 0],
    [20, 4, 4, 0],
    [40, 8, 0, 8],
  ]);
});

it('reports 0 when the slowest step is already busy', async () => {
  expect((await runCeiling(room(1), [5, 10], 0.4, () => undefined)).ceilingPerSecond).toBe(0);
});

it('runs the ceiling in a room of 10 with no injected latency unless told otherwise', () => {
  expect(parseOptions(['--ceiling'])).toMatchObject({ ceiling: true, rooms: [10], latencies: [0] });
  expect(parseOptions(['--ceiling', '--room', '30'])?.rooms).toEqual([30]);
});
