import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { useFanoutMachine } from '../helpers/fanoutMachine';
import { sweepOnSchedule, waitFor } from '../helpers/sweepSchedule';

/**
 * A lease holder that dies without its Catch seeing it (here: every answer of its claim lost past the Claim's
 * retries, then its HandOnFailedClaim step crashing) leaves its lease until it expires; the messages whose executions
 * coalesced meanwhile have nobody to deliver them once the room goes quiet. The template's scheduled sweep, run on
 * the twin's EventBridge schedule, recovers them.
 */
const { h, addMembers, createRoom, send, seqsOf, roomItem } = useFanoutMachine();

/** The holder's claim takes the lease but every answer is lost, and the step that would hand it on crashes. */
function claimDiesUncaught(): void {
  h.loseAnswer = (step) => step.op === 'claim';
  h.beforeStep = async (step) => {
    if (step.op === 'claimFailed') throw new Error('Deliver crashed');
  };
}

function holderGone(): void {
  h.loseAnswer = () => false;
  h.beforeStep = async () => undefined;
}

/** The lease's 120 s (LEASE_MS) have passed: its time is moved back rather than waited for. */
async function leaseTimeHasPassed(roomId: string): Promise<void> {
  await h.db.send(
    new UpdateItemCommand({
      TableName: h.tables.RoomsTable,
      Key: { roomId: { S: roomId } },
      UpdateExpression: 'SET leaseUntil = :past',
      ConditionExpression: 'attribute_exists(leaseOwner)',
      ExpressionAttributeValues: { ':past': { N: String(Date.now() - 1) } },
    }),
  );
}

it('the sweep delivers live, within its period, the messages a holder that died uncaught left in a room gone quiet', async () => {
  await createRoom('DIED1');
  const members = await addMembers('DIED1', 5); // more than a chunk: the claim takes the lease and goes on
  claimDiesUncaught();
  const died = await h.machine.execute(await send('DIED1', 1));
  expect(died).toMatchObject({ ok: false, failedState: 'HandOnFailedClaim' });
  holderGone();
  // Message 2's execution finds the lease held and ends coalesced; then nobody sends again.
  expect((await h.machine.execute(await send('DIED1', 2))).states).toContain('Coalesced');
  for (const id of members) expect(seqsOf(id)).toEqual([]);
  await leaseTimeHasPassed('DIED1');

  // What the sweep publishes starts executions, as the bus rule does.
  h.bus.onEvent = (event) => void h.machine.execute(event);
  const started = Date.now();
  const schedule = await sweepOnSchedule(h);
  try {
    const everyone = () => members.every((id) => seqsOf(id).join() === '1,2');
    expect(await waitFor(everyone, schedule.period + 20_000)).toBe(true);
    const tookMs = Date.now() - started;
    expect(tookMs).toBeLessThan(schedule.period + 20_000);
    console.log(
      `stranded messages delivered ${Math.round(tookMs / 1000)} s after the sweep's schedule started`,
    );
  } finally {
    schedule.close();
  }
  await waitFor(() => h.runs.length >= 3, 5000);
  const room = await roomItem('DIED1');
  expect(room?.deliveredSeq).toEqual({ N: '2' });
  expect(room?.leaseOwner).toBeUndefined();
  expect(h.runs.slice(2).every((r) => r.ok)).toBe(true);
}, 120_000);

it('a sweep with nothing stranded frees nothing and starts nothing: a live holder keeps its lease', async () => {
  const { handler: deliver } = await import('../../functions/deliver');
  await createRoom('LIVE2');
  await addMembers('LIVE2', 5);
  // A holder in the middle of its cycle: its lease is held and still within its time.
  h.beforeStep = async (step) => {
    if (step.op !== 'release') return;
    expect(await deliver({ op: 'sweep' })).toEqual({ recovered: 0 });
    expect((await roomItem('LIVE2'))?.leaseOwner).toBeDefined();
  };
  expect((await h.machine.execute(await send('LIVE2', 1))).ok).toBe(true);
  expect(h.steps.filter((s) => s.input.op === 'release')).toHaveLength(1);
  expect(h.bus.events).toEqual([]);
  expect(await deliver({ op: 'sweep' })).toEqual({ recovered: 0 });
});

it("a message that comes after a dead holder's lease expired, before the sweep, delivers that holder's cycle with its own", async () => {
  await createRoom('DIED3');
  const members = await addMembers('DIED3', 5);
  claimDiesUncaught();
  expect((await h.machine.execute(await send('DIED3', 1))).ok).toBe(false);
  holderGone();
  await leaseTimeHasPassed('DIED3');
  expect((await h.machine.execute(await send('DIED3', 2))).ok).toBe(true);
  for (const id of members) expect({ id, got: seqsOf(id) }).toEqual({ id, got: [1, 2] });
  const room = await roomItem('DIED3');
  expect(room?.deliveredSeq).toEqual({ N: '2' });
  expect(room?.leaseOwner).toBeUndefined();
});
