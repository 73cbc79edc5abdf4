import { join } from 'node:path';
import { loadTemplate } from '../../infra/template';
import { statesByName } from '../../local/aslStates';
import { useFanoutMachine } from '../helpers/fanoutMachine';
import { sweepOnSchedule, waitFor } from '../helpers/sweepSchedule';

/**
 * A message's Claim that fails past its retries (Deliver throttled by its reserved concurrency, or DynamoDB failing
 * past the SDK's retries) must not leave the message undelivered in a room that then goes quiet: whether or not the
 * claim had taken the room's lease, every member gets it live without anyone sending again.
 */
const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'));
const fanout = template.stateMachines().find((m) => m.logicalId === 'FanoutStateMachine');
const { h, addMembers, createRoom, send, seqsOf, roomItem } = useFanoutMachine();

const throttled = () =>
  Object.assign(new Error('Rate Exceeded.'), { name: 'Lambda.TooManyRequestsException' });

/** Every try the Claim state gives a Deliver failing with `error`: the first and its Retry's MaxAttempts. */
function claimTries(error: string): number {
  const states = statesByName<{ Retry?: { ErrorEquals: string[]; MaxAttempts?: number }[] }>(
    fanout?.definition ?? {},
  );
  const retry = states.get('Claim')?.Retry?.find((r) => r.ErrorEquals.includes(error));
  if (!retry) throw new Error(`the Claim state has no Retry for ${error}`);
  return 1 + (retry.MaxAttempts ?? 3);
}

/** The claims of message `seq` of a room: every answer lost, as many times as the Claim state tries. */
function loseEveryClaimAnswer(seq: number): void {
  let losses = claimTries('Lambda.ServiceException');
  h.loseAnswer = (step) => step.op === 'claim' && step.seq === seq && losses-- > 0;
}

/** Deliver refuses every try of the first `executions` claim executions of message `seq`, before they run. */
function throttleClaims(seq: number, executions: number): { refused: () => number; tries: number } {
  const tries = executions * claimTries('Lambda.TooManyRequestsException');
  let refused = 0;
  h.beforeStep = async (step) => {
    if (step.op === 'claim' && step.seq === seq && refused < tries) {
      refused++;
      throw throttled();
    }
  };
  return { refused: () => refused, tries };
}

it('a message whose claim was throttled past its retries before taking the lease reaches every member live, with no next message', async () => {
  await createRoom('THROT1');
  const members = await addMembers('THROT1', 2); // one chunk: its claim would deliver it itself
  const throttle = throttleClaims(1, 1); // the claim never takes the lease
  const schedule = await sweepOnSchedule(h);
  try {
    const sentAt = Date.now();
    const failed = await h.machine.execute(await send('THROT1', 1));
    expect(failed).toMatchObject({ ok: false, error: 'Fanout.ClaimFailed' });
    expect(throttle.refused()).toBe(throttle.tries);
    for (const id of members) expect(seqsOf(id)).toEqual([]);
    h.bus.onEvent = (event) => void h.machine.execute(event);
    // Nobody sends again: the room is quiet.
    const everyone = () => members.every((id) => seqsOf(id).join() === '1');
    expect(await waitFor(everyone, schedule.period + 20_000)).toBe(true);
    const tookMs = Date.now() - sentAt;
    expect(tookMs).toBeLessThan(schedule.period + 20_000);
    console.log(`throttled claim's message delivered live ${(tookMs / 1000).toFixed(1)} s after its send`);
  } finally {
    schedule.close();
  }
  await waitFor(() => h.runs.some((r, i) => i > 0 && r.ok), 5000);
  const room = await roomItem('THROT1');
  expect(room?.deliveredSeq).toEqual({ N: '1' });
  expect(room?.leaseOwner).toBeUndefined();
}, 120_000);

it(
  "a throttle that outlasts the first sweep's successor too: the next sweep starts another, and every member gets the message live",
  async () => {
    await createRoom('LONG6');
    const members = await addMembers('LONG6', 2);
    // Two claim executions of message 1 refused: its own, then the one the first sweep starts.
    const throttle = throttleClaims(1, 2);
    const schedule = await sweepOnSchedule(h);
    const bound = 2 * schedule.period + 30_000;
    try {
      const sentAt = Date.now();
      h.bus.onEvent = (event) => void h.machine.execute(event);
      expect(await h.machine.execute(await send('LONG6', 1))).toMatchObject({ ok: false });
      // Nobody sends again: the room is quiet.
      const everyone = () => members.every((id) => seqsOf(id).join() === '1');
      expect(await waitFor(everyone, bound)).toBe(true);
      const tookMs = Date.now() - sentAt;
      expect(tookMs).toBeLessThan(bound);
      console.log(
        `message of a claim throttled twice delivered live ${(tookMs / 1000).toFixed(1)} s after its send`,
      );
    } finally {
      schedule.close();
    }
    expect(throttle.refused()).toBe(throttle.tries);
    await waitFor(() => h.runs.some((r) => r.ok), 5000);
    expect(h.runs.map((r) => r.ok)).toEqual([false, false, true]);
    const room = await roomItem('LONG6');
    expect(room?.deliveredSeq).toEqual({ N: '1' });
    expect(room?.leaseOwner).toBeUndefined();
  },
  2 * 60_000 + 60_000,
);

it('a claim that took the lease and lost every answer hands it on at once: members get the message without waiting for the lease to expire', async () => {
  await createRoom('LOST2');
  const members = await addMembers('LOST2', 5); // more than a chunk: the claim takes the lease and goes on
  loseEveryClaimAnswer(1);
  // The bus's successor runs before execute returns: nothing waits for the lease's 120 s or the sweep.
  const failed = await h.machine.execute(await send('LOST2', 1));
  expect(failed).toMatchObject({ ok: false, error: 'Fanout.ClaimFailed' });
  for (const id of members) expect({ id, got: seqsOf(id) }).toEqual({ id, got: [1] });
  const room = await roomItem('LOST2');
  expect(room?.deliveredSeq).toEqual({ N: '1' });
  expect(room?.leaseOwner).toBeUndefined();
});

it('a claim that fails while another execution holds the lease leaves it alone: the holder delivers its message', async () => {
  await createRoom('HELD3');
  const members = await addMembers('HELD3', 5);
  let refusals = claimTries('Lambda.TooManyRequestsException');
  let second: Promise<unknown> | undefined;
  h.beforeStep = async (step) => {
    if (step.op === 'claim' && step.seq === 2 && refusals-- > 0) throw throttled();
    // Message 2 is sent while message 1's holder posts, and its claim is throttled past its retries.
    if (step.op === 'post' && second === undefined) {
      second = send('HELD3', 2).then((event) => h.machine.execute(event));
      const run = (await second) as { ok: boolean; error?: string };
      expect(run).toMatchObject({ ok: false, error: 'Fanout.ClaimFailed' });
    }
  };
  expect((await h.machine.execute(await send('HELD3', 1))).ok).toBe(true);
  expect(refusals).toBe(0);
  // The holder's release found message 2 and delivered it: no successor, no sweep.
  for (const id of members) expect({ id, got: seqsOf(id) }).toEqual({ id, got: [1, 2] });
  expect(h.bus.events.filter((e) => e['detail-type'] === 'FanoutHandOver')).toEqual([]);
  const room = await roomItem('HELD3');
  expect(room?.deliveredSeq).toEqual({ N: '2' });
  expect(room?.leaseOwner).toBeUndefined();
});

it('a claim that delivered a one-chunk room and lost every answer leaves nothing behind: each member gets the message once', async () => {
  await createRoom('DONE4');
  const members = await addMembers('DONE4', 2); // one chunk: the claim delivers and releases it itself
  loseEveryClaimAnswer(1);
  expect(await h.machine.execute(await send('DONE4', 1))).toMatchObject({
    ok: false,
    error: 'Fanout.ClaimFailed',
  });
  for (const id of members) expect({ id, got: seqsOf(id) }).toEqual({ id, got: [1] });
  // Nothing was pending: no lease is left for the sweep to find.
  const room = await roomItem('DONE4');
  expect(room?.leaseOwner).toBeUndefined();
  expect(room?.leaseShard).toBeUndefined();
});

it("the room's next message, sent before the sweep, brings the throttled claim's message with it at once", async () => {
  await createRoom('NEXT5');
  const members = await addMembers('NEXT5', 2);
  let refusals = claimTries('Lambda.TooManyRequestsException');
  h.beforeStep = async (step) => {
    if (step.op === 'claim' && refusals-- > 0) throw throttled();
  };
  expect((await h.machine.execute(await send('NEXT5', 1))).ok).toBe(false);
  // The room left for the sweep holds an expired lease: message 2's claim takes it and delivers from the cursor.
  expect(await h.machine.execute(await send('NEXT5', 2))).toMatchObject({ ok: true });
  for (const id of members) expect({ id, got: seqsOf(id) }).toEqual({ id, got: [1, 2] });
  const room = await roomItem('NEXT5');
  expect(room?.deliveredSeq).toEqual({ N: '2' });
  expect(room?.leaseOwner).toBeUndefined();
});
