import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { MAX_RESTARTS, type Restart } from '../../functions/domain/fanout/restarts';
import { type FanoutTables, startFanoutTables } from '../helpers/fanoutTables';

/**
 * A failure that never ends (every claim of the room's newest message refused, every cycle failing) must not start
 * successor executions without end: against the local DynamoDB, each newest room event gets at most MAX_RESTARTS
 * of them, from the sweep and Abandon together, and the room's next event gets its own.
 */
let t: FanoutTables;
let store: FanoutTables['store'];
let sweep: FanoutTables['sweep'];
let roomWithMessage: FanoutTables['roomWithMessage'];
let nextEvent: FanoutTables['nextEvent'];

beforeAll(async () => {
  t = await startFanoutTables();
  ({ store, sweep, roomWithMessage, nextEvent } = t);
});

afterAll(async () => {
  await t.tables.close();
});

/** One claim of the room's newest message failing past its retries, then the next sweep: what the sweep owes. */
async function claimFailsThenSweep(roomId: string, execution: string): Promise<Restart | undefined> {
  const now = Date.now();
  expect(await store.afterFailedClaim(roomId, execution, now)).toEqual({ leftForSweep: true });
  const later = now + 60_000;
  const stranded = (await sweep.expired(later)).find((lease) => lease.roomId === roomId);
  if (!stranded) throw new Error(`${roomId} is not in the lease index`);
  return sweep.recover(roomId, stranded.leaseUntil, later);
}

async function room(roomId: string) {
  const { Item } = await t.tables.db.send(
    new GetCommand({ TableName: t.rooms, Key: { roomId }, ConsistentRead: true }),
  );
  return Item;
}

it('a claim refused forever gets MAX_RESTARTS successors from the sweep, then none; its room is left free for the next event', async () => {
  await roomWithMessage('FOREVER');
  const owed: (Restart | undefined)[] = [];
  for (let n = 0; n < MAX_RESTARTS + 3; n++) owed.push(await claimFailsThenSweep('FOREVER', `exec-${n}`));
  expect(owed.filter((r) => r?.pendingSeq === 1)).toHaveLength(MAX_RESTARTS);
  expect(owed.slice(0, MAX_RESTARTS).every((r) => r?.pendingSeq === 1)).toBe(true);
  // The first give-up is marked (it is counted, FanoutGaveUp); the later ones give up on nothing new.
  expect(owed.slice(MAX_RESTARTS)).toEqual([
    { gaveUpSeq: 1, firstGiveUp: true },
    { gaveUpSeq: 1 },
    { gaveUpSeq: 1 },
  ]);
  // Nothing is lost: the lease is free and the cursor before message 1, which the room's next event delivers.
  const item = await room('FOREVER');
  expect(item?.leaseOwner).toBeUndefined();
  expect(item?.deliveredSeq).toBe(0);
});

it("the room's next event gets its own successors: the count starts again at the send", async () => {
  await roomWithMessage('AGAIN');
  for (let n = 0; n < MAX_RESTARTS; n++) await claimFailsThenSweep('AGAIN', `exec-${n}`);
  expect(await claimFailsThenSweep('AGAIN', 'exec-spent')).toEqual({ gaveUpSeq: 1, firstGiveUp: true });
  await nextEvent('AGAIN', 1);
  expect(await claimFailsThenSweep('AGAIN', 'exec-next')).toEqual({ pendingSeq: 2 });
});

it('a cycle failing forever gets MAX_RESTARTS successors from Abandon, counted with the sweep', async () => {
  await roomWithMessage('CYCLE');
  // Two sweeps, then each successor's claim takes the lease (a quiet room) and its cycle is abandoned.
  const owed = [await claimFailsThenSweep('CYCLE', 'exec-a'), await claimFailsThenSweep('CYCLE', 'exec-b')];
  for (let n = 0; n < MAX_RESTARTS; n++) {
    const owner = `holder-${n}`;
    expect(await store.claim('CYCLE', 1, owner, Date.now())).toMatchObject({ afterSeq: 0, uptoSeq: 1 });
    owed.push(await store.abandon('CYCLE', owner));
  }
  expect(owed.map((r) => r?.pendingSeq ?? r?.gaveUpSeq)).toEqual(Array(MAX_RESTARTS + 2).fill(1));
  expect(owed.filter((r) => r?.pendingSeq === 1)).toHaveLength(MAX_RESTARTS);
  expect(owed.slice(MAX_RESTARTS)).toEqual([{ gaveUpSeq: 1, firstGiveUp: true }, { gaveUpSeq: 1 }]);
});
