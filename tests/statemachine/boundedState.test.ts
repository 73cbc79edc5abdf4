import { join } from 'node:path';
import { settingDefaults } from '../../infra/parameters';
import { loadTemplate } from '../../infra/template';
import { PAYLOAD_LIMIT_BYTES } from '../../local/payloadLimit';
import { useFanoutMachine } from '../helpers/fanoutMachine';

/**
 * Step Functions fails an execution whose state passes 256 KiB (States.DataLimitExceeded, enforced by the local
 * Step Functions): a fan-out must carry no more between its states however big the room and however many cycles
 * its lease holder runs. The template's own page and chunk sizes (a 1,000-member room is one page of ten chunks).
 */
/**
 * The template's retry budget, as on AWS: the throttles staged here are counted in tries, and the test clock shortens
 * the backoffs but not the wall-clock budget, so a short one would be spent by the machine's load alone. A repost
 * that ran out late notes its members for a resync their next post carries, and a room whose last cycle has run
 * posts nothing more; the outcome would then hang on the load, not on the fan-out.
 */
const retrySeconds = Number(
  settingDefaults(loadTemplate(join(__dirname, '..', '..', 'template.yaml')).raw).FanoutRetrySeconds,
);
const { h, addMembers, createRoom, send, seqsOf, roomItem } = useFanoutMachine({}, { retrySeconds });
const { managementApi } = h;

const CYCLES = 10;

it(`a busy 1,000-member room whose posts are throttled in each of ${CYCLES} cycles stays under 256 KiB, and every member gets every message`, async () => {
  await createRoom('BUSYROOM1K');
  const members = await addMembers('BUSYROOM1K', 1000);
  // Each cycle, before its posts, 60% of the room (different members each time) answers its next post 429.
  let seq = 1;
  const throttleHalf = (cycle: number) => {
    for (const [i, id] of members.entries()) if ((i + cycle) % 5 < 3) managementApi.throttle.set(id, 1);
  };
  throttleHalf(0);
  h.beforeStep = async (step) => {
    // A busy room: the next message is stored while the holder's cycle posts, so its release takes another cycle.
    if (step.op === 'release' && seq < CYCLES) {
      seq++;
      throttleHalf(seq);
      await send('BUSYROOM1K', seq);
    }
  };
  h.machine.takeLargestStateBytes();
  const run = await h.machine.execute(await send('BUSYROOM1K', 1));
  const largest = h.machine.takeLargestStateBytes();
  expect({ ok: run.ok, error: run.error, failedState: run.failedState }).toEqual({ ok: true });
  expect(h.runs.every((r) => r.ok)).toBe(true);
  expect(largest).toBeLessThan(PAYLOAD_LIMIT_BYTES);
  // The holder ran every cycle itself; what its chunks owed went to repost executions.
  expect(h.steps.filter((s) => s.input.op === 'release')).toHaveLength(CYCLES);
  expect(h.bus.events.some((e) => e['detail-type'] === 'FanoutRepost')).toBe(true);
  // Each message reached each member live, or (its reposts out of retry budget) a resync frame told it to fetch it.
  let resyncs = 0;
  for (const id of members) {
    const got = seqsOf(id);
    const resyncedAfter = got.filter((s) => typeof s === 'string').map((s) => Number(String(s).slice(7)));
    resyncs += resyncedAfter.length;
    const missed = Array.from({ length: CYCLES }, (_, i) => i + 1).filter(
      (s) => !got.includes(s) && !resyncedAfter.some((after) => after < s),
    );
    expect({ id, missed }).toEqual({ id, missed: [] });
  }
  expect((await roomItem('BUSYROOM1K'))?.leaseOwner).toBeUndefined();
  console.log(
    `largest state: ${largest} bytes; holder ran ${Math.round(run.durationMs)} ms; resyncs: ${resyncs}`,
  );
}, 300_000);
