import {
  type AttributeValue,
  DeleteItemCommand,
  GetItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { CycleDeps, PostInput, QuietClaimResult } from '../../functions/deliver/cycle';
import { grantedPosts } from '../../functions/domain/fanout/dynamoFanout';
import { budgetShares } from '../../functions/domain/fanout/postBudget';
import { eventPublisher } from '../../functions/platform/wiring/eventbridge';
import { useFanoutMachine } from '../helpers/fanoutMachine';

/**
 * A room's messages through the fan-out state machine (tests/helpers/fanoutMachine.ts): the room's delivery lease,
 * coalesced cycles, the posting budget and the retries of failed posts.
 */
const { h, addMembers, createRoom, send, framesOf, seqsOf, ops, roomItem, expectPrunedAndFree } =
  useFanoutMachine();
const { managementApi, steps } = h;

/** Each member received one post: message 1 as the plain message frame (the event's own payload). */
function expectEachGotMessage1Alone(members: string[]): void {
  for (const id of members) {
    const [raw, ...more] = managementApi.received.get(id) ?? [];
    expect(more).toEqual([]);
    expect(JSON.parse(raw as string)).toMatchObject({ type: 'message', seq: 1, text: 'm1' });
  }
}

it('a room bigger than one chunk goes through the pages and the Map: claim, a post per chunk, release', async () => {
  await createRoom('QUIET1');
  const members = await addMembers('QUIET1', 4); // chunks of 3 and 1
  const run = await h.machine.execute(await send('QUIET1', 1));
  expect(run).toMatchObject({ ok: true, retries: 0 });
  expectEachGotMessage1Alone(members);
  // No budget wait, no retry, and the event's own frame was posted: not one message read.
  expect(ops()).toEqual(['claim', 'post', 'post', 'release']);
  for (const s of steps.filter((step) => step.input.op === 'post'))
    expect(s.output).toMatchObject({ messagesRead: 0, groups: [] });
});

it("a quiet room's message goes out at once as the plain message frame, by one Deliver invocation", async () => {
  await createRoom('ONE1');
  const members = await addMembers('ONE1', 3); // exactly one chunk
  const run = await h.machine.execute(await send('ONE1', 1));
  expect(run).toMatchObject({ ok: true, retries: 0 });
  expectEachGotMessage1Alone(members);
  // The claim read the members, posted and released: no Query state, no Map, no Release step.
  expect(ops()).toEqual(['claim']);
  expect(run.states).toEqual(['Prepare', 'RouteByKind', 'Claim', 'ClaimedOrCoalesced', 'Delivered']);
  const room = await roomItem('ONE1');
  expect(room?.deliveredSeq).toEqual({ N: '1' });
  expect(room?.leaseOwner).toBeUndefined();
  // The lease is free: the next message is quiet too.
  expect((await h.machine.execute(await send('ONE1', 2))).ok).toBe(true);
  expect(ops()).toEqual(['claim', 'claim']);
  for (const id of members) expect(seqsOf(id)).toEqual([1, 2]);
});

it('a quiet room prunes a member that is gone (410), and the others get the message', async () => {
  await createRoom('ONE2');
  const [gone, ...others] = (await addMembers('ONE2', 3)) as [string, ...string[]];
  managementApi.gone.add(gone);
  const run = await h.machine.execute(await send('ONE2', 1));
  expect(run.ok).toBe(true);
  expect(ops()).toEqual(['claim']);
  for (const id of others) expect(seqsOf(id)).toEqual([1]);
  await expectPrunedAndFree(gone, 'ONE2');
});

it('a quiet room whose post is answered 429 re-posts it after the claim: delivered once', async () => {
  await createRoom('ONE3');
  const [throttled, ...others] = (await addMembers('ONE3', 3)) as [string, ...string[]];
  managementApi.throttle.set(throttled, 1);
  const run = await h.machine.execute(await send('ONE3', 1));
  expect(run.ok).toBe(true);
  expect(ops()).toEqual(['claim', 'post']);
  for (const id of [throttled, ...others]) expect(seqsOf(id)).toEqual([1]);
  expect((await roomItem('ONE3'))?.leaseOwner).toBeUndefined();
});

/**
 * Runs message 1's execution and, once its first post has arrived, stores message 2 and runs its execution, which
 * finds the lease held; both executions succeed.
 */
async function secondDuringFirstPost(roomId: string): Promise<void> {
  let late: Promise<{ ok: boolean }> | undefined;
  managementApi.beforeAnswer = async () => {
    if (late) return;
    late = send(roomId, 2).then((event) => h.machine.execute(event));
    await late;
  };
  const run = await h.machine.execute(await send(roomId, 1));
  expect(run.ok).toBe(true);
  expect((await late)?.ok).toBe(true);
}

it('a message stored while the claim posts a quiet room is delivered by the same execution, once', async () => {
  await createRoom('ONE4');
  const members = await addMembers('ONE4', 3);
  await secondDuringFirstPost('ONE4');
  expect(steps.map((s) => s.output)).toContainEqual({ coalesced: true });
  // The claim's release found message 2: the state machine delivered it as the next cycle and released.
  expect(ops()).toEqual(['claim', 'claim', 'post', 'release']);
  for (const id of members) expect(seqsOf(id)).toEqual([1, 2]);
  expect((await roomItem('ONE4'))?.leaseOwner).toBeUndefined();
});

it('a message stored while the claim posts a quiet room with a gone member is delivered to the others, once', async () => {
  await createRoom('ONE7');
  const [gone, ...others] = (await addMembers('ONE7', 3)) as [string, ...string[]];
  managementApi.gone.add(gone);
  await secondDuringFirstPost('ONE7');
  // The release found message 2, so the state machine pruned the gone member and then delivered the next cycle.
  for (const id of others) expect(seqsOf(id)).toEqual([1, 2]);
  await expectPrunedAndFree(gone, 'ONE7');
});

it("a room's second message whose execution claims before the first's delivers both", async () => {
  await createRoom('ONE8');
  const members = await addMembers('ONE8', 3);
  const first = await send('ONE8', 1);
  const second = await send('ONE8', 2);
  // The first message's execution starts late (a throttled or cold Deliver): the second's takes the lease first.
  expect((await h.machine.execute(second)).ok).toBe(true);
  expect((await h.machine.execute(first)).ok).toBe(true);
  for (const id of members) expect(seqsOf(id)).toEqual([1, 2]);
  expect(steps.map((s) => s.output)).toContainEqual({ coalesced: true });
});

it('a claim or release whose lease write keeps meeting a transaction is tried again, and the lease is not left held', async () => {
  await createRoom('CONF11');
  const members = await addMembers('CONF11', 4); // more than a chunk: claim, posts, then the Release step
  const conflicted: string[] = [];
  h.beforeStep = async (input) => {
    if ((input.op === 'claim' || input.op === 'release') && !conflicted.includes(input.op)) {
      conflicted.push(input.op);
      // What Deliver answers when its lease write met a send's transaction on every try (nothing written).
      throw Object.assign(new Error('Transaction is ongoing for the item'), {
        name: 'TransactionConflictException',
      });
    }
  };
  const run = await h.machine.execute(await send('CONF11', 1));
  expect(run.ok).toBe(true);
  expect(conflicted).toEqual(['claim', 'release']);
  for (const id of members) expect(seqsOf(id)).toEqual([1]);
  expect((await roomItem('CONF11'))?.leaseOwner).toBeUndefined();
});

it('a busy room: every member gets every message once, in fewer posts than messages, and the other executions coalesce', async () => {
  await createRoom('BUSY2');
  const members = await addMembers('BUSY2', 10);
  managementApi.delayMs = 40; // each cycle takes a while, as it would with a real stage
  const runs: Promise<unknown>[] = [];
  for (let seq = 1; seq <= 12; seq++) {
    runs.push(h.machine.execute(await send('BUSY2', seq)));
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
  const results = (await Promise.all(runs)) as { ok: boolean }[];
  expect(results.every((r) => r.ok)).toBe(true);
  const all = Array.from({ length: 12 }, (_, i) => i + 1);
  for (const id of members) {
    expect([...seqsOf(id)].sort((a, b) => Number(a) - Number(b))).toEqual(all);
    expect(managementApi.received.get(id)?.length).toBeLessThan(12);
  }
  const coalesced = steps.filter(
    (s) => s.input.op === 'claim' && (s.output as { coalesced?: boolean }).coalesced,
  );
  expect(coalesced.length).toBeGreaterThan(0);
});

it('a message stored while the holder releases its lease is delivered by the holder', async () => {
  await createRoom('RACE3');
  const members = await addMembers('RACE3', 4);
  let late: Promise<unknown> | undefined;
  h.beforeStep = async (input) => {
    if (input.op !== 'release' || late) return;
    // Between the holder's last post and its release: message 2 is stored and its execution finds the lease held.
    late = h.machine.execute(await send('RACE3', 2));
    await late;
  };
  const run = await h.machine.execute(await send('RACE3', 1));
  expect(run.ok).toBe(true);
  const claims = steps.filter((s) => s.input.op === 'claim').map((s) => s.output);
  expect(claims).toContainEqual({ coalesced: true });
  for (const id of members) expect(seqsOf(id)).toEqual([1, 2]);
});

it('half of all posts answered 429: every member still gets every message, once', async () => {
  await createRoom('HALF4');
  const members = await addMembers('HALF4', 8);
  for (const [i, id] of members.entries()) if (i % 2 === 0) managementApi.throttle.set(id, 1);
  const run = await h.machine.execute(await send('HALF4', 1));
  expect(run.ok).toBe(true);
  for (const id of members) expect(seqsOf(id)).toEqual([1]);
});

it('splits a backlog into batch frames of at most 32 KB, in seq order, a lone message as a plain frame', async () => {
  await createRoom('LONG5');
  const [member] = (await addMembers('LONG5', 1)) as [string];
  // 21 messages of about 4 KB: more than fit in one 32 KB frame. Each event's execution runs after all are stored.
  const events = [];
  for (let seq = 1; seq <= 21; seq++) events.push(await send('LONG5', seq, `${seq}:${'é'.repeat(2000)}`));
  await Promise.all(events.map((e) => h.machine.execute(e)));
  const raw = managementApi.received.get(member) ?? [];
  for (const frame of raw) expect(Buffer.byteLength(frame, 'utf8')).toBeLessThanOrEqual(32_768);
  expect(raw.length).toBeGreaterThan(1);
  expect(raw.length).toBeLessThan(21);
  expect(seqsOf(member)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
  for (const [i, frame] of framesOf(member).entries())
    expect(JSON.parse(raw[i] as string).type).toBe(frame.length === 1 ? 'message' : 'batch');
});

it('a member unreachable for the whole retry budget is noted, and its next post starts with a resync frame', async () => {
  await createRoom('GONE6');
  const [stuck, fine] = (await addMembers('GONE6', 2)) as [string, string];
  managementApi.throttle.set(stuck, 1000);
  // Real backoffs: the budget runs out after the few tries AWS would make, not dozens on the test clock.
  const run = await h.realTimeMachine.execute(await send('GONE6', 1));
  expect(run.ok).toBe(true);
  expect(seqsOf(fine)).toEqual([1]);
  expect(managementApi.received.has(stuck)).toBe(false);
  const room = await h.db.send(
    new GetItemCommand({
      TableName: h.tables.RoomsTable,
      Key: { roomId: { S: 'GONE6' } },
      ConsistentRead: true,
    }),
  );
  expect(room.Item?.resyncAfter?.M?.[stuck]).toEqual({ N: '0' });
  managementApi.throttle.clear();
  expect((await h.realTimeMachine.execute(await send('GONE6', 2))).ok).toBe(true);
  expect(framesOf(stuck)).toEqual([['resync:0'], [2]]);
  expect(seqsOf(fine)).toEqual([1, 2]);
  const after = await h.db.send(
    new GetItemCommand({
      TableName: h.tables.RoomsTable,
      Key: { roomId: { S: 'GONE6' } },
      ConsistentRead: true,
    }),
  );
  expect(after.Item?.resyncAfter?.M?.[stuck]).toBeUndefined();
}, 30_000);

/**
 * Runs claims as Deliver does, counting the DynamoDB round trips that come one after another before the first post
 * (requests under way together count once): a request's depth is one more than the deepest answered when it left.
 */
async function countedClaims(second: number) {
  const { DynamoDBDocumentClient } = await import('@aws-sdk/lib-dynamodb');
  const { DynamoFanoutStore } = await import('../../functions/domain/fanout/dynamoFanout');
  const { notifier } = await import('../../functions/platform/wiring/managementApi');
  const { runCycleStep } = await import('../../functions/deliver/cycle');
  const documents = DynamoDBDocumentClient.from(h.db);
  let answered = 0;
  let firstPostAfter: number | undefined;
  /** Requests to the budget's table since the last claim. */
  let budgetWrites = 0;
  const counting = {
    send: async (command: never) => {
      if ((command as { input: { TableName?: string } }).input.TableName === h.tables.LimitsTable)
        budgetWrites++;
      const depth = answered + 1;
      try {
        return await documents.send(command);
      } finally {
        answered = Math.max(answered, depth);
      }
    },
  } as unknown as typeof documents;
  const management = notifier();
  const deps: CycleDeps = {
    store: new DynamoFanoutStore(counting, {
      rooms: h.tables.RoomsTable as string,
      messages: h.tables.MessagesTable as string,
      connections: h.tables.ConnectionsTable as string,
      roomIndex: process.env.ROOM_INDEX as string,
      limits: h.tables.LimitsTable as string,
    }),
    reserveAhead: new Map(),
    publisher: eventPublisher(),
    notifier: {
      info: (connectionId) => management.info(connectionId),
      post: (connectionId, payload) => {
        firstPostAfter ??= answered;
        return management.post(connectionId, payload);
      },
    },
    postsPerSecond: 8000,
    retrySeconds: 3,
    // A second no other test reserves in, so its budget counter shows this test's posts alone.
    now: () => second * 1000 + 500,
    random: Math.random,
    pause: (ms) => pause(ms),
  };
  /** What a busy room's window does here (the test's hook: messages stored meanwhile); nothing by default. */
  let pause: (ms: number) => Promise<void> = async () => undefined;
  const release = async (roomId: string, uptoSeq: number, during: (ms: number) => Promise<void>) => {
    pause = during;
    const input = {
      op: 'release' as const,
      roomId,
      owner: `holder-${roomId}`,
      uptoSeq,
      startedAt: new Date(deps.now()).toISOString(),
    };
    return runCycleStep(input, undefined, deps);
  };
  /** The frame of the message the last claim was for, as its event carries it. */
  let lastPayload = '';
  const claim = async (roomId: string, seq: number, pageSize?: number) => {
    const event = await send(roomId, seq);
    answered = 0;
    firstPostAfter = undefined;
    budgetWrites = 0;
    const result = await runCycleStep(
      {
        op: 'claim',
        roomId,
        seq,
        owner: `claim-${roomId}-${seq}`,
        payload: event.detail.payload,
        chunkSize: 3,
        ...(pageSize === undefined ? {} : { pageSize }),
      },
      undefined,
      deps,
    );
    lastPayload = event.detail.payload;
    return { result, roundTrips: firstPostAfter };
  };
  /** One chunk of a cycle's Map, as the state machine gives it (the first of its page). */
  const postChunk = async (chunk: Omit<PostInput, 'op' | 'chunkIndex'>) => {
    answered = 0;
    firstPostAfter = undefined;
    const result = await runCycleStep({ op: 'post', chunkIndex: 0, ...chunk }, undefined, deps);
    return { result, roundTrips: firstPostAfter };
  };
  return {
    claim,
    release,
    postChunk,
    deps,
    lastPayload: () => lastPayload,
    budgetWrites: () => budgetWrites,
  };
}
/** Posts the budget of 8,000/s counted in `second`, over all its shards. */
async function budgetUsed(second: number): Promise<number> {
  const shards = await Promise.all(
    budgetShares(8000).map((_, shard) =>
      h.db.send(
        new GetItemCommand({
          TableName: h.tables.LimitsTable,
          Key: { limitKey: { S: `post-budget#${second}#${shard}` } },
          ConsistentRead: true,
        }),
      ),
    ),
  );
  return shards.reduce((n, { Item }) => n + Number(Item?.posts?.N ?? 0), 0);
}

/** Writes the room's item as another execution would (a lease held elsewhere, a cursor moved by its holder). */
async function updateRoom(roomId: string, expression: string, values?: Record<string, AttributeValue>) {
  await h.db.send(
    new UpdateItemCommand({
      TableName: h.tables.RoomsTable,
      Key: { roomId: { S: roomId } },
      UpdateExpression: expression,
      ...(values && { ExpressionAttributeValues: values }),
    }),
  );
}

it("a quiet room's claim reserves its posts while it takes the lease, remembered or a whole chunk: one round trip before the first post, and the budget counts exactly the posts", async () => {
  const second = Math.floor(Date.now() / 1000) + 300;
  const { claim } = await countedClaims(second);
  await createRoom('TRIP9');
  const [leaving, ...members] = (await addMembers('TRIP9', 3)) as [string, ...string[]];
  // First claim of the room here: a whole chunk (3) reserved while the members are read.
  const first = await claim('TRIP9', 1);
  expect(first).toEqual({ result: { released: true }, roundTrips: 1 });
  expect(await budgetUsed(second)).toBe(3);
  // A room smaller than the chunk: the chunk reserved ahead, what its 2 members do not need given back.
  await createRoom('TRIP8');
  const pair = await addMembers('TRIP8', 2);
  expect(await claim('TRIP8', 1)).toEqual({ result: { released: true }, roundTrips: 1 });
  expect(await budgetUsed(second)).toBe(3 + 2);
  for (const id of pair) expect(seqsOf(id)).toEqual([1]);
  // Remembered: the claim reserves 3 while it takes the lease; one member left, so 1 is given back.
  await h.db.send(
    new DeleteItemCommand({ TableName: h.tables.ConnectionsTable, Key: { connectionId: { S: leaving } } }),
  );
  expect(await claim('TRIP9', 2)).toEqual({ result: { released: true }, roundTrips: 1 });
  expect(await budgetUsed(second)).toBe(5 + 2);
  // The room grew past what was remembered: the shortfall is reserved before the posts.
  const [joined] = (await addMembers('TRIP9-J', 1)) as [string];
  await h.db.send(
    new UpdateItemCommand({
      TableName: h.tables.ConnectionsTable,
      Key: { connectionId: { S: joined } },
      UpdateExpression: 'SET roomId = :room',
      ExpressionAttributeValues: { ':room': { S: 'TRIP9' } },
    }),
  );
  expect(await claim('TRIP9', 3)).toEqual({ result: { released: true }, roundTrips: 2 });
  expect(await budgetUsed(second)).toBe(5 + 2 + 3);
  // A claim that finds the lease held gives its early reservation back (and the next claim reserves after reading).
  await updateRoom('TRIP9', 'SET leaseOwner = :other, leaseUntil = :later', {
    ':other': { S: 'another' },
    ':later': { N: String(second * 1000 + 60_000) },
  });
  expect((await claim('TRIP9', 4)).result).toEqual({ coalesced: true });
  expect(await budgetUsed(second)).toBe(5 + 2 + 3);
  // The other holder moves the cursor past 4 (its posts are not this test's) and frees the lease: the room coalesced
  // here, so its next claim reads the members before it reserves anything.
  await updateRoom('TRIP9', 'REMOVE leaseOwner, leaseUntil SET deliveredSeq = :four', {
    ':four': { N: '4' },
  });
  expect(await claim('TRIP9', 5)).toEqual({ result: { released: true }, roundTrips: 2 });
  expect(await budgetUsed(second)).toBe(5 + 2 + 3 + 3);
  for (const id of members) expect(seqsOf(id)).toEqual([1, 2, 3, 5]);
  expect(seqsOf(joined)).toEqual([3, 5]);
  expect(seqsOf(leaving)).toEqual([1]);
});

it("a bigger room's claim, once its environment knows the room, reads the first page and reserves its posts with the lease: its chunks post at once", async () => {
  const second = Math.floor(Date.now() / 1000) + 500;
  const { claim, postChunk, lastPayload } = await countedClaims(second);
  await createRoom('PAGE9');
  const members = await addMembers('PAGE9', 9); // pages of 7 and 2, chunks of 3
  // The state machine's Release of each cycle (nothing arrived meanwhile).
  const freeLease = () => updateRoom('PAGE9', 'REMOVE leaseOwner, leaseUntil');
  // First claim here: a chunk and one more read, so the room is bigger than a chunk; the state machine reads the page.
  const first = await claim('PAGE9', 1, 7);
  expect(first.result).toMatchObject({ afterSeq: 0, uptoSeq: 1 });
  expect(first.result).not.toHaveProperty('page');
  expect(await budgetUsed(second)).toBe(0);
  await freeLease();
  // Known now: the claim reads the first page while it takes the lease, and reserves the page's 7 posts (4 ahead, as
  // remembered, and the 3 more the page showed).
  const known = await claim('PAGE9', 2, 7);
  const page = (known.result as QuietClaimResult).page;
  expect(page?.ids).toHaveLength(7);
  expect(page?.prepaid).toBe(true);
  // Where the state machine's Query goes on: in DynamoDB JSON, the last id of the page.
  expect(page?.LastEvaluatedKey?.connectionId).toEqual({ S: page?.ids[6] });
  expect(await budgetUsed(second)).toBe(7);
  // Its chunks post without a request before the first post, and reserve nothing more.
  const chunk = {
    roomId: 'PAGE9',
    payload: lastPayload(),
    payloadSeq: 2,
    afterSeq: 1,
    uptoSeq: 2,
    owner: 'claim-PAGE9-2',
    frames: 1,
  };
  const paid = await postChunk({ ...chunk, connectionIds: page?.ids.slice(0, 3), prepaid: true });
  expect(paid.roundTrips).toBe(0);
  expect(await budgetUsed(second)).toBe(7);
  // A chunk of a page the state machine read reserves its own posts first: one round trip.
  const unpaid = await postChunk({ ...chunk, connectionIds: page?.ids.slice(3, 6), prepaid: false });
  expect(unpaid.roundTrips).toBe(1);
  expect(await budgetUsed(second)).toBe(10);
  await freeLease();
  // Remembered as 7: exactly the page's posts are reserved, nothing given back.
  const third = (await claim('PAGE9', 3, 7)).result as QuietClaimResult;
  expect(third.page).toMatchObject({ prepaid: true });
  expect(await budgetUsed(second)).toBe(17);
  for (const id of page?.ids.slice(0, 6) ?? []) expect(seqsOf(id)).toEqual([2]);
  expect(members).toEqual(expect.arrayContaining(page?.ids ?? []));
});

it("a page's posts are reserved with the lease in a few reservations of one shard each, not a write per shard", async () => {
  const second = Math.floor(Date.now() / 1000) + 600;
  const { claim, budgetWrites } = await countedClaims(second);
  await createRoom('PAGE260');
  await addMembers('PAGE260', 260);
  await claim('PAGE260', 1, 300);
  await updateRoom('PAGE260', 'REMOVE leaseOwner, leaseUntil');
  // 4 reserved ahead (a chunk and one more, as remembered); the page showed 260: 256 more, in two of 128.
  const known = (await claim('PAGE260', 2, 300)).result as QuietClaimResult;
  expect(known.page).toMatchObject({ prepaid: true });
  expect(known.page?.ids).toHaveLength(260);
  expect(budgetWrites()).toBe(3);
  await updateRoom('PAGE260', 'REMOVE leaseOwner, leaseUntil');
  // Remembered as 260: two reservations of 130 while the lease is taken (one of 260 would write all 16 shards).
  expect(((await claim('PAGE260', 3, 300)).result as QuietClaimResult).page).toMatchObject({ prepaid: true });
  expect(budgetWrites()).toBe(2);
  expect(await budgetUsed(second)).toBe(520);
});

it("a bigger room's second message: the claim's page goes to the Map, the next page is queried, every member gets both, once, and the budget counts each post once", async () => {
  await createRoom('PAGEM');
  const members = await addMembers('PAGEM', 9); // pages of 7 and 2, chunks of 3
  const first = await h.machine.execute(await send('PAGEM', 1));
  expect(first.ok).toBe(true);
  expect(first.states).toContain('QueryMembersFirstPage');
  const before = await budgetTotal();
  const run = await h.machine.execute(await send('PAGEM', 2));
  expect(run).toMatchObject({ ok: true, retries: 0 });
  expect(run.states).not.toContain('QueryMembersFirstPage');
  expect(run.states).toContain('ClaimedPage');
  expect(run.states).toContain('QueryMembersNextPage');
  for (const id of members) expect(seqsOf(id)).toEqual([1, 2]);
  // 9 posts: 7 reserved by the claim, 2 by the second page's chunk.
  expect((await budgetTotal()) - before).toBe(9);
  expect((await roomItem('PAGEM'))?.leaseOwner).toBeUndefined();
});

/** Posts counted by the budget so far, every second and shard. */
async function budgetTotal(): Promise<number> {
  const { Items = [] } = await h.db.send(
    new ScanCommand({ TableName: h.tables.LimitsTable, ConsistentRead: true }),
  );
  return Items.filter((item) => item.limitKey?.S?.startsWith('post-budget#')).reduce(
    (n, item) => n + Number(item.posts?.N ?? 0),
    0,
  );
}

it('a release that finds the room busy takes its next cycle after a short window, with the messages of that window', async () => {
  const { release, deps } = await countedClaims(Math.floor(Date.now() / 1000) + 400);
  await createRoom('WIN10');
  await send('WIN10', 1);
  expect(await deps.store.claim('WIN10', 1, 'holder-WIN10', deps.now())).toMatchObject({
    afterSeq: 0,
    uptoSeq: 1,
  });
  // Message 2 arrived during the cycle: the room is busy, and message 3 comes during the window.
  await send('WIN10', 2);
  const windows: number[] = [];
  const busy = await release('WIN10', 1, async (ms) => {
    windows.push(ms);
    await send('WIN10', 3);
  });
  expect(windows).toEqual([100]);
  expect(busy).toMatchObject({ afterSeq: 1, uptoSeq: 3 });
  // Nothing arrived during that cycle: the lease is freed at once, no window.
  const quiet = await release('WIN10', 3, async (ms) => {
    windows.push(ms);
  });
  expect(quiet).toEqual({ released: true });
  expect(windows).toEqual([100]);
  expect((await roomItem('WIN10'))?.leaseOwner).toBeUndefined();
});

it('the posting budget grants a second up to FanoutPostsPerSecond in all, whichever rooms ask, and starts afresh each second', async () => {
  const { fanoutStore } = await import('../../functions/platform/wiring/dynamodb');
  const store = fanoutStore();
  const second = Math.floor(Date.now() / 1000) + 100; // a second no other test touches
  const at = second * 1000;
  // Chunks of hundreds of posts take an even part from every shard of the second.
  expect(await store.reserve(6000, 8000, at)).toBeDefined();
  expect(await store.reserve(1500, 8000, at + 10)).toBeDefined();
  expect(await store.reserve(600, 8000, at + 500)).toBeUndefined();
  expect(await store.reserve(400, 8000, at + 999)).toBeDefined();
  expect(await budgetUsed(second)).toBe(7900);
  expect(await store.reserve(8000, 8000, at + 1000)).toBeDefined();
  expect(await store.reserve(1, 8000, at + 1999)).toBeUndefined();
  // A page bigger than the budget takes a whole second of its own.
  expect(grantedPosts(await store.reserve(20_000, 8000, at + 2000))).toBe(8000);
  expect(await store.reserve(1, 8000, at + 2001)).toBeUndefined();
  expect(await budgetUsed(second + 2)).toBe(8000);
});
