import { MAX_RESTARTS } from '../../functions/domain/fanout/restarts';
import { useFanoutMachine } from '../helpers/fanoutMachine';

/**
 * Express executions started by EventBridge are at-least-once, and a Lambda task whose answer is lost is run again
 * by its Retry: the fan-out's claim and release give the same outcome when they run twice (the local Step Functions'
 * fault switch loses the answer after Deliver ran the step).
 */
const { h, addMembers, createRoom, send, seqsOf, roomItem } = useFanoutMachine();

it("a claim whose answer was lost is run again and delivers the message: it finds its own lease, not someone else's", async () => {
  await createRoom('LOSTC1');
  const members = await addMembers('LOSTC1', 5); // bigger than a chunk: the claim takes the lease and goes on
  let lost = 0;
  h.loseAnswer = (step) => step.op === 'claim' && lost++ === 0;
  const run = await h.machine.execute(await send('LOSTC1', 1));
  expect(run).toMatchObject({ ok: true });
  expect(run.retries).toBeGreaterThanOrEqual(1);
  for (const id of members) expect(seqsOf(id)).toEqual([1]);
  expect((await roomItem('LOSTC1'))?.leaseOwner).toBeUndefined();
});

it('a release whose answer was lost after it took the next cycle is run again and delivers that cycle', async () => {
  await createRoom('LOSTR2');
  const members = await addMembers('LOSTR2', 5);
  let stored = false;
  h.beforeStep = async (step) => {
    // Message 2 is stored while cycle 1 posts: the release finds it and takes cycle 2.
    if (step.op === 'post' && !stored) {
      stored = true;
      await send('LOSTR2', 2);
    }
  };
  let lost = 0;
  h.loseAnswer = (step) => step.op === 'release' && lost++ === 0;
  const run = await h.machine.execute(await send('LOSTR2', 1));
  expect(run).toMatchObject({ ok: true });
  for (const id of members) expect(seqsOf(id)).toEqual([1, 2]);
  const room = await roomItem('LOSTR2');
  expect(room?.deliveredSeq).toEqual({ N: '2' });
  expect(room?.leaseOwner).toBeUndefined();
});

it("an execution run twice (EventBridge's at-least-once) delivers its message once to each member", async () => {
  await createRoom('TWICE3');
  const members = await addMembers('TWICE3', 5);
  const event = await send('TWICE3', 1);
  const [first, second] = await Promise.all([h.machine.execute(event), h.machine.execute(event)]);
  expect(first?.ok && second?.ok).toBe(true);
  for (const id of members) expect(seqsOf(id)).toEqual([1]);
});

it('a holder past its hand-over time frees the lease over newer messages and starts a successor that delivers them, though the room goes quiet', async () => {
  await createRoom('HANDOV4');
  const members = await addMembers('HANDOV4', 5);
  let stored = false;
  h.beforeStep = async (step) => {
    if (step.op !== 'release' || stored) return;
    stored = true;
    // Message 2 arrives during cycle 1 (its own execution coalesces), and the holder has run for 4 minutes.
    await send('HANDOV4', 2);
    step.startedAt = new Date(Date.now() - 240_000).toISOString();
  };
  const run = await h.machine.execute(await send('HANDOV4', 1));
  expect(run).toMatchObject({ ok: true });
  expect(h.bus.events.map((e) => e['detail-type'])).toEqual(['FanoutHandOver']);
  expect(h.runs.every((r) => r.ok)).toBe(true);
  for (const id of members) expect(seqsOf(id)).toEqual([1, 2]);
  const room = await roomItem('HANDOV4');
  expect(room?.deliveredSeq).toEqual({ N: '2' });
  expect(room?.leaseOwner).toBeUndefined();
});

it('a release that fails past its retries hands the lease on: the cycle goes back, a successor delivers it, and a lasting failure starts no endless chain', async () => {
  await createRoom('CRASH5');
  const members = await addMembers('CRASH5', 5);
  h.beforeStep = async (step) => {
    if (step.op === 'release') throw new Error('the release crashed');
  };
  const run = await h.machine.execute(await send('CRASH5', 1));
  expect(run).toMatchObject({ ok: false, error: 'Fanout.CycleFailed' });
  // Each failure of the same newest message started a successor, up to MAX_RESTARTS of them; the last started none.
  expect(h.bus.events.map((e) => e['detail-type'])).toEqual(Array(MAX_RESTARTS).fill('FanoutHandOver'));
  expect(h.runs.map((r) => r.ok)).toEqual(Array(MAX_RESTARTS + 1).fill(false));
  expect((await roomItem('CRASH5'))?.leaseOwner).toBeUndefined();
  // The failure has passed: the room's next message finds the lease free and delivers what is left.
  h.beforeStep = async () => undefined;
  expect((await h.machine.execute(await send('CRASH5', 2))).ok).toBe(true);
  for (const id of members) expect([...new Set(seqsOf(id))]).toEqual([1, 2]);
});

it('a release that fails once past its retries: the successor delivers the cycle in a room that went quiet', async () => {
  await createRoom('CRASH6');
  const members = await addMembers('CRASH6', 5);
  let failed = false;
  h.beforeStep = async (step) => {
    if (step.op === 'release' && !failed) {
      failed = true;
      throw new Error('the release crashed');
    }
  };
  await h.machine.execute(await send('CRASH6', 1));
  expect(h.runs.map((r) => r.ok)).toEqual([false, true]);
  for (const id of members) expect([...new Set(seqsOf(id))]).toEqual([1]);
  const room = await roomItem('CRASH6');
  expect(room?.deliveredSeq).toEqual({ N: '1' });
  expect(room?.leaseOwner).toBeUndefined();
});
