import { join } from 'node:path';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { roomKeyOf } from '#core/aws/roomMembers';
import { loadTemplate } from '../../tools/infra/template';
import { statesByName } from '../../tools/local/aslStates';
import { readEvent } from '../helpers/events';
import { useFanoutMachine } from '../helpers/fanoutMachine';

/**
 * The fan-out state machine of template.yaml as the fan-out pipe starts it: a batch of the FIFO queue's records (a
 * room's events in the room's order; an everyone-broadcast has its own machine, tests/broadcast/broadcastMachine.test.ts).
 * Small pages (7) and chunks (3), so a few members span several of each.
 */
const { h, addMembers, createRoom, send, framesOf, seqsOf, recordsOf, expectPruned, roomWithMembers } =
  useFanoutMachine();
const { managementApi } = h;

/** A presence change in `roomId`, or a broadcast to everyone without one, as the chat bus carries it. */
function eventOf(roomId: string | undefined, text: string) {
  const event = readEvent<{ detail: Record<string, unknown> }>('fanout');
  const payload = roomId
    ? JSON.stringify({ type: 'presence', roomId, username: text, event: 'joined' })
    : JSON.stringify({ type: 'broadcast', messageId: `b-${text}`, text });
  const detail = roomId ? { messageId: `p-${text}`, roomId, payload } : { messageId: `b-${text}`, payload };
  return { ...event, 'detail-type': roomId ? 'Presence' : 'Broadcast', detail };
}

/** What each frame a connection received names: the presence change's user, or the broadcast's text. */
const namesOf = (id: string) =>
  managementApi.received.get(id)?.map((raw) => {
    const frame = JSON.parse(raw) as { username?: string; text?: string };
    return frame.username ?? frame.text;
  });

const connectionItem = async (connectionId: string) =>
  (
    await h.db.send(
      new GetItemCommand({
        TableName: h.tables.ConnectionsTable,
        Key: { connectionId: { S: connectionId } },
        ConsistentRead: true,
      }),
    )
  ).Item;

/** A member's subscription to a room, where the fan-out keeps its resync note for that room. */
const subscriptionItem = async (connectionId: string, roomId: string) =>
  (
    await h.db.send(
      new GetItemCommand({
        TableName: h.tables.SubscriptionsTable,
        Key: { connectionId: { S: connectionId }, roomId: { S: roomId } },
        ConsistentRead: true,
      }),
    )
  ).Item;

it('has at most 35 states, nested ones included', () => {
  const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'));
  const fanout = template.stateMachines().find((m) => m.logicalId === 'FanoutStateMachine');
  const states = [...statesByName(fanout?.definition as object)];
  expect(states.length).toBeLessThanOrEqual(35);
  expect(states.map(([name]) => name)).toEqual(
    expect.arrayContaining(['Prepare', 'PostChunk', 'UnindexGone']),
  );
});

describe("a room's messages", () => {
  it('a batch sent out of seq order, with a repeat, reaches each member as one batch frame in seq order', async () => {
    const members = await roomWithMembers('ORDER1', 5);
    const [m1, m2, m3] = [await send('ORDER1', 1), await send('ORDER1', 2), await send('ORDER1', 3)];
    const run = await h.machine.execute(recordsOf(m3, m1, m2, m2));
    expect(run).toMatchObject({ ok: true, output: { rooms: 1, events: 3, frames: 1 } });
    for (const id of members) expect(framesOf(id)).toEqual([[1, 2, 3]]);
  });

  it('a presence change of the batch comes first, and the messages read from the log share one frame after it', async () => {
    const members = await roomWithMembers('PLACE2', 2);
    const run = await h.machine.execute(
      recordsOf(
        await send('PLACE2', 1),
        eventOf('PLACE2', 'ann'),
        await send('PLACE2', 2),
        await send('PLACE2', 3),
      ),
    );
    expect(run.ok).toBe(true);
    // The wakes stand for the log: messages 1-3 are read from it in one run, the batch's presence change before them.
    for (const id of members) expect(framesOf(id)).toEqual([['presence'], [1, 2, 3]]);
  });

  it('two rooms in one batch: each member gets its own room only, and nobody else gets anything', async () => {
    await createRoom('ROOMA3');
    await createRoom('ROOMB3');
    const a = await addMembers('ROOMA3', 4);
    const b = await addMembers('ROOMB3', 4);
    const outsiders = await addMembers('OTHER3', 3);
    const run = await h.machine.execute(
      recordsOf(await send('ROOMA3', 1), await send('ROOMB3', 1), await send('ROOMA3', 2)),
    );
    expect(run).toMatchObject({ ok: true, output: { rooms: 2, events: 3 } });
    for (const id of a) expect(framesOf(id)).toEqual([[1, 2]]);
    for (const id of b) expect(framesOf(id)).toEqual([[1]]);
    for (const id of outsiders) expect(managementApi.received.has(id)).toBe(false);
  });

  it('reaches every member of a room that spans several pages and chunks, once', async () => {
    const members = await roomWithMembers('PAGED4', 23);
    const run = await h.machine.execute(recordsOf(await send('PAGED4', 1)));
    expect(run.ok).toBe(true);
    for (const id of members) expect(seqsOf(id)).toEqual([1]);
    expect(run.states).toContain('QueryNextPage');
  });

  it('an unreadable record is dropped and the rest of the batch delivered', async () => {
    const members = await roomWithMembers('BADREC', 2);
    const [good] = recordsOf(await send('BADREC', 1));
    const run = await h.machine.execute([{ ...good, body: '{not json' }, good]);
    expect(run.ok).toBe(true);
    for (const id of members) expect(seqsOf(id)).toEqual([1]);
  });

  it('ends cleanly for an empty room', async () => {
    const run = await h.machine.execute(recordsOf(eventOf('EMPTY5', 'nobody')));
    expect(run).toMatchObject({ ok: true });
    expect(managementApi.received.size).toBe(0);
  });
});

describe('posts that fail', () => {
  it('deletes exactly the connections that answered 410 Gone and keeps the live ones', async () => {
    const members = await roomWithMembers('STALE6', 10);
    const stale = [members[1], members[6], members[9]] as string[];
    for (const id of stale) managementApi.gone.add(id);
    const run = await h.machine.execute(recordsOf(eventOf('STALE6', 'prune')));
    expect(run.ok).toBe(true);
    for (const id of stale) await expectPruned(id);
    for (const id of members.filter((m) => !stale.includes(m))) {
      expect(await connectionItem(id)).toBeDefined();
      expect(namesOf(id)).toEqual(['prune']);
    }
  });

  it('a member answered 429 is handed to the repost machine, posted again once after a Wait, and gets the message once', async () => {
    const members = await roomWithMembers('RETRY7', 4);
    managementApi.throttle.set(members[2] as string, 1);
    const run = await h.machine.execute(recordsOf(await send('RETRY7', 1)));
    expect(run.ok).toBe(true);
    // The fan-out's execution does not wait for the throttled member: it hands it on through the bus.
    expect(run.states).not.toContain('WaitToRepost');
    const handed = h.bus.events.filter((e) => e['detail-type'] === 'Repost');
    expect(handed.map((e) => e.detail.retry)).toEqual([{ [members[2] as string]: 0 }]);
    expect(seqsOf(members[2] as string)).toEqual([]);
    const repost = await h.repostMachine.execute(handed[0]?.detail);
    expect(repost.ok).toBe(true);
    for (const id of members) expect(seqsOf(id)).toEqual([1]);
    expect(repost.states).toEqual(expect.arrayContaining(['WaitToRepost', 'RepostChunk']));
    const reposts = h.steps.filter((s) => s.input.retry !== undefined);
    expect(reposts.map((s) => Object.keys(s.input.retry as object))).toEqual([[members[2]]]);
    // Delivered on the repost: no resync note is left.
    expect((await subscriptionItem(members[2] as string, 'RETRY7'))?.resyncAfter).toBeUndefined();
  });

  it('a member still throttled on the repost is noted, and its next post starts with a resync frame', async () => {
    await createRoom('RESYN8');
    const [member, other] = (await addMembers('RESYN8', 2)) as [string, string];
    managementApi.throttle.set(member, 1_000_000);
    const first = await h.machine.execute(recordsOf(await send('RESYN8', 1), await send('RESYN8', 2)));
    // The batch is not failed for it: the execution succeeds, the other member has both messages; the repost
    // machine tries the member again, then its resync frame, then notes it.
    expect(first.ok).toBe(true);
    expect((await h.runReposts()).map((r) => r.ok)).toEqual([true]);
    expect(seqsOf(other)).toEqual([1, 2]);
    expect(managementApi.received.has(member)).toBe(false);
    expect((await subscriptionItem(member, 'RESYN8'))?.resyncAfter).toEqual({ N: '0' });

    managementApi.throttle.delete(member);
    const next = await h.machine.execute(recordsOf(await send('RESYN8', 3)));
    expect(next.ok).toBe(true);
    expect(framesOf(member)).toEqual([['resync:0'], [3]]);
    expect(framesOf(other)).toEqual([[1, 2], [3]]);
    // The note went with the frame: the post after that carries none.
    expect((await subscriptionItem(member, 'RESYN8'))?.resyncAfter).toBeUndefined();
  });

  it("a member of two rooms throttled in both keeps a note per room, and each room's next post tells it", async () => {
    await createRoom('NOTEA9');
    await createRoom('NOTEB9');
    const [member, otherA] = (await addMembers('NOTEA9', 2)) as [string, string];
    const [otherB] = (await addMembers('NOTEB9', 1)) as [string];
    // The member also follows room B (a second subscription, not shown).
    await h.db.send(
      new PutItemCommand({
        TableName: h.tables.SubscriptionsTable,
        Item: {
          connectionId: { S: member },
          roomId: { S: 'NOTEB9' },
          roomKey: { S: roomKeyOf('NOTEB9', member, 1) },
          username: { S: `user-${member}` },
        },
      }),
    );
    managementApi.throttle.set(member, 1_000_000);
    await send('NOTEA9', 1);
    await send('NOTEA9', 2);
    const a = await h.machine.execute(recordsOf(await send('NOTEA9', 3)));
    await h.runReposts();
    const b = await h.machine.execute(recordsOf(await send('NOTEB9', 1), await send('NOTEB9', 2)));
    await h.runReposts();
    expect([a.ok, b.ok]).toEqual([true, true]);
    expect(seqsOf(otherA)).toEqual([3]);
    expect(seqsOf(otherB)).toEqual([1, 2]);
    // Two notes, one per room: B's did not overwrite A's.
    expect((await subscriptionItem(member, 'NOTEA9'))?.resyncAfter).toEqual({ N: '2' });
    expect((await subscriptionItem(member, 'NOTEB9'))?.resyncAfter).toEqual({ N: '0' });
    expect((await connectionItem(member))?.resyncAfter).toBeUndefined();

    managementApi.throttle.delete(member);
    await h.machine.execute(recordsOf(await send('NOTEA9', 4)));
    await h.machine.execute(recordsOf(await send('NOTEB9', 3)));
    // Each room's next post starts with that room's resync frame, naming it.
    const resyncs = (managementApi.received.get(member) ?? [])
      .map((raw) => JSON.parse(raw) as { type: string; roomId?: string; afterSeq?: number })
      .filter((f) => f.type === 'resync')
      .map((f) => [f.roomId, f.afterSeq]);
    expect(resyncs).toEqual([
      ['NOTEA9', 2],
      ['NOTEB9', 0],
    ]);
    expect((await subscriptionItem(member, 'NOTEA9'))?.resyncAfter).toBeUndefined();
    expect((await subscriptionItem(member, 'NOTEB9'))?.resyncAfter).toBeUndefined();
  });

  it('a Deliver that fails past its retries hands its room back, so the queue delivers only its records again', async () => {
    const members = await roomWithMembers('CRASH9', 3);
    h.beforeStep = async (input) => {
      if (input.op === 'post') throw new Error('Deliver crashed');
    };
    const batch = recordsOf(await send('CRASH9', 1));
    const run = await h.machine.execute(batch);
    // The execution succeeds, its output naming the room's records for the pipe to leave in the queue.
    expect(run).toMatchObject({
      ok: true,
      output: { rooms: 0, batchItemFailures: batch.map((r) => ({ itemIdentifier: r.messageId })) },
    });
    expect(run.states).toContain('HandBackRoom');
    h.beforeStep = async () => undefined;
    // The same records, received again after the queue's visibility timeout.
    const again = await h.machine.execute(batch);
    expect(again.ok).toBe(true);
    for (const id of members) expect(seqsOf(id)).toEqual([1]);
  });
});
