import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ChatEvent } from '#core/ports';
import { type ChangeDeps, changeMessage } from '#messages/changing';
import { DynamoChangeStore } from '#messages/dynamoChanges';
import { DynamoReactionStore } from '#messages/dynamoReactions';
import { sendMessage } from '#messages/sending';
import {
  connectionStore,
  roomStore,
  seatSender,
  sendStore,
  sendTables,
  templateTables,
} from '../helpers/templateTables';

/**
 * A change's transaction (over the message's own items, never the room's) meeting another transaction
 * (TransactionConflict, injected by the fault proxy from the moment the change has taken its seq, as DynamoDB answers
 * it): the edit is tried again under the seq it took after a fresh read and stored once, or, when the conflict
 * persists, the member is answered a retryable Busy after a few tries with the message unchanged and the seq it took
 * marked a gap, and its retry with the same clientMsgId edits the message once.
 */

const tables = templateTables({ faults: true });
const table = (logicalId: string) => tables.table(logicalId);
let n = 0;

/** A room of its own with one message its author sent, and what the bus received since. */
async function world() {
  const roomId = `R${++n}`;
  const connectionId = `conn-${++n}`;
  await seatSender(tables, { roomId, connectionId, username: `alice-${n}` });
  const published: ChatEvent[] = [];
  /** From the moment a change has taken its seq, the proxy injects conflicts at `conflictShare` (the seq's ADD meets none). */
  let conflictShare = 0;
  const deps = (client: DynamoDBDocumentClient): ChangeDeps => {
    const sends = sendStore(tables, client);
    const takeSeq = sends.takeSeq.bind(sends);
    sends.takeSeq = async (...args) => {
      const taken = await takeSeq(...args);
      tables.faults.setConflict(conflictShare);
      return taken;
    };
    // The gap marker is a put of a new item, which no transaction holds on DynamoDB: the proxy lets it through.
    const markGap = sends.markGap.bind(sends);
    sends.markGap = async (...args) => {
      tables.faults.setConflict(0);
      return markGap(...args);
    };
    return {
      connections: connectionStore(tables, client),
      rooms: roomStore(tables, client),
      sends,
      changes: new DynamoChangeStore(client, sendTables(tables)),
      reactions: new DynamoReactionStore(client, table('ReactionsTable')),
      events: {
        publish: async (events) => {
          // The bus's events (the changes); the fan-out's wakes are the wake tests' (tests/messages/wakes.test.ts).
          published.push(...events.filter((e): e is ChatEvent => e.type !== 'RoomWake'));
        },
      },
      now: () => new Date(),
      messageRetentionDays: 7,
      editWindowMinutes: 15,
    };
  };
  await sendMessage(deps(tables.db), { connectionId, text: 'helo', clientMsgId: 'm-1' });
  published.length = 0;
  const edit = (clientMsgId: string) =>
    changeMessage(deps(tables.faulty), {
      connectionId,
      seq: 1,
      request: { kind: 'edit', text: 'hello' },
      clientMsgId,
    });
  const message = async () =>
    (
      await tables.db.send(
        new GetCommand({ TableName: table('MessagesTable'), Key: { roomId, seq: 1 }, ConsistentRead: true }),
      )
    ).Item;
  /** The room's events after the message: the changes stored. */
  const changes = async () =>
    (
      await tables.db.send(
        new QueryCommand({
          TableName: table('MessagesTable'),
          KeyConditionExpression: 'roomId = :r AND seq > :s',
          ExpressionAttributeValues: { ':r': roomId, ':s': 1 },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];
  const publishedSeqs = () => published.map((e) => e.seq);
  const conflictOnceSeqTaken = (share: number) => {
    conflictShare = share;
  };
  return { edit, message, changes, publishedSeqs, published: () => [...published], conflictOnceSeqTaken };
}

it('tries an edit again after a conflict under the seq it took, and stores it once', async () => {
  const w = await world();
  const conflictsBefore = tables.faults.stats().conflicts;
  w.conflictOnceSeqTaken(1);
  const editing = w.edit('e-1');
  // Off again once the first transaction met a conflict; the change is tried again in-process.
  for (let i = 0; i < 200 && tables.faults.stats().conflicts === conflictsBefore; i++)
    await new Promise((r) => setTimeout(r, 2));
  w.conflictOnceSeqTaken(0);
  tables.faults.setConflict(0);
  const reply = await editing;
  expect(tables.faults.stats().conflicts).toBeGreaterThan(conflictsBefore);
  expect(reply).toMatchObject({ type: 'changed', seq: 2, message: { seq: 1, text: 'hello' } });
  expect(await w.message()).toMatchObject({ text: 'hello', changeSeq: 2 });
  expect(await w.changes()).toEqual([expect.objectContaining({ seq: 2, change: 'edited' })]);
  expect(w.publishedSeqs()).toEqual([2]);
});

it('answers a retryable Busy after a few tries when every one meets a conflict, marks its seq a gap; the retry edits it once', async () => {
  const w = await world();
  const conflictsBefore = tables.faults.stats().conflicts;
  w.conflictOnceSeqTaken(1);
  await expect(w.edit('e-1')).rejects.toMatchObject({ name: 'Busy', code: 'BUSY' });
  // A conflict that persists gets a few tries (docs/RELIABILITY.md, "The send path"), not one per lost race.
  const tried = tables.faults.stats().conflicts - conflictsBefore;
  expect(tried).toBeGreaterThan(0);
  expect(tried).toBeLessThanOrEqual(7);
  expect(await w.message()).toMatchObject({ text: 'helo' });
  // The seq it took holds a gap marker: history and the fan-out pass it at once.
  expect(await w.changes()).toEqual([
    { roomId: expect.any(String), seq: 2, gap: true, ttl: expect.any(Number) },
  ]);
  expect(w.publishedSeqs()).toEqual([]);
  w.conflictOnceSeqTaken(0);
  tables.faults.setConflict(0);
  const reply = await w.edit('e-1');
  const again = await w.edit('e-1');
  expect(reply).toMatchObject({ seq: 3, message: { text: 'hello' } });
  expect(again).toEqual(reply);
  expect((await w.changes()).filter((item) => item.gap !== true)).toHaveLength(1);
  // The retry answered from its record publishes the stored change again, the same event (the fan-out queue keeps
  // one): it cannot know whether the first PutEvents went through.
  expect(w.publishedSeqs()).toEqual([3, 3]);
  expect(w.published()[1]).toEqual(w.published()[0]);
});
