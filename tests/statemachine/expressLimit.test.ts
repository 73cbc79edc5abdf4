import { EXPRESS_LIMIT_SECONDS } from '../../local/stepfunctions';
import { useFanoutMachine } from '../helpers/fanoutMachine';

/**
 * The twin stops an Express execution at 5 minutes, as AWS does, wherever it is and with nothing caught. A lease
 * holder whose cycle would outlast that (a 1,200-member room walked in 24 pages, each page's posts answered slowly)
 * hands the pages left to a successor at its hand-over time instead, and every member gets the message. Real time:
 * the point is the twin's own clock, so the test lasts about three minutes.
 */
const { h, addMembers, createRoom, send, seqsOf, roomItem } = useFanoutMachine({
  FanoutPageSize: '50',
  FanoutChunkSize: '50',
  FanoutMaxConcurrency: '1',
});

/** Each page's posts are answered after this long: 24 pages take 336 s, past Express's limit. */
const SLOW_PAGE_MS = 14_000;

it(`a cycle that would run past Express's ${EXPRESS_LIMIT_SECONDS} s hands its pages on in time, and every member of a 1,200-member room gets the message`, async () => {
  await createRoom('LONGCYCLE');
  const members = await addMembers('LONGCYCLE', 1200);
  h.managementApi.delayMs = SLOW_PAGE_MS;
  // The slow answers pass when the successor takes over, so the test does not wait for its pages too.
  h.beforeStep = async (step) => {
    if (step.op === 'resume') h.managementApi.delayMs = 0;
  };
  const run = await h.realTimeMachine.execute(await send('LONGCYCLE', 1));
  expect({ ok: run.ok, error: run.error, failedState: run.failedState }).toEqual({ ok: true });
  expect(run.states).toContain('HandedOver');
  expect(run.durationMs).toBeLessThan(EXPRESS_LIMIT_SECONDS * 1000);
  expect(h.runs.map((r) => ({ ok: r.ok, error: r.error }))).toEqual(h.runs.map(() => ({ ok: true })));
  const missed = members.filter((id) => seqsOf(id).join() !== '1');
  expect({ missed: missed.length, first: missed[0] }).toEqual({ missed: 0, first: undefined });
  expect((await roomItem('LONGCYCLE'))?.leaseOwner).toBeUndefined();
  console.log(
    `executions: ${h.runs.map((r) => `${Math.round(r.durationMs / 1000)} s`).join(', ')}; longest ${Math.round(Math.max(...h.runs.map((r) => r.durationMs)) / 1000)} s`,
  );
}, 420_000);
