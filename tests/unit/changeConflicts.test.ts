import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type ChangeDeps, changeMessage } from '../../functions/domain/messaging/changes/changing';
import { DynamoChangeStore } from '../../functions/domain/messaging/changes/dynamoChanges';
import { sendMessage } from '../../functions/domain/messaging/sending';
import type { ChatEvent } from '../../functions/domain/ports';
import { DynamoConnectionStore } from '../../functions/platform/aws/connections';
import { DynamoRoomStore } from '../../functions/platform/aws/rooms';
import { DynamoSendStore } from '../../functions/platform/aws/sends';
import { type DynamoFaultProxy, startDynamoFaultProxy } from '../../local/dynamoFaults';
import { localDocumentClient, startTemplateTables, type TemplateTables } from '../helpers/templateTables';

/**
 * A change's transaction meeting another transaction (TransactionConflict, injected by the fault proxy, as DynamoDB
 * answers it; the local DynamoDB never does): the edit is tried again after a fresh read and stored once, or, when the
 * conflict persists, the member is answered a retryable Busy after a few tries with nothing changed, and its retry
 * with the same clientMsgId edits the message once.
 */

let tables: TemplateTables;
let db: DynamoDBDocumentClient;
let faults: DynamoFaultProxy;
/** A document client that reaches DynamoDB through the fault proxy. */
let faulty: DynamoDBDocumentClient;
const table = (logicalId: string) => tables.table(logicalId);
let n = 0;

beforeAll(async () => {
  tables = await startTemplateTables();
  db = tables.db;
  faults = await startDynamoFaultProxy({ target: tables.endpoint, host: '127.0.0.1' });
  faulty = localDocumentClient(faults.endpoint, 1);
});

afterAll(async () => {
  faulty.destroy();
  await faults.close();
  await tables.close();
});

afterEach(() => faults.setConflict(0));

/** A room of its own with one message its author sent, and what the bus received since. */
async function world() {
  const roomId = `R${++n}`;
  const connectionId = `conn-${++n}`;
  await db.send(new PutCommand({ TableName: table('RoomsTable'), Item: { roomId, seq: 0 } }));
  await db.send(
    new PutCommand({
      TableName: table('ConnectionsTable'),
      Item: { connectionId, roomId, username: `alice-${n}`, connectedAt: new Date().toISOString() },
    }),
  );
  const published: ChatEvent[] = [];
  const deps = (client: DynamoDBDocumentClient): ChangeDeps => {
    const tablesOfSends = {
      rooms: table('RoomsTable'),
      messages: table('MessagesTable'),
      sends: table('SendsTable'),
    };
    return {
      connections: new DynamoConnectionStore(client, table('ConnectionsTable'), 'RoomIndex'),
      rooms: new DynamoRoomStore(client, table('RoomsTable')),
      sends: new DynamoSendStore(client, tablesOfSends),
      changes: new DynamoChangeStore(client, tablesOfSends),
      events: {
        publish: async (events) => {
          published.push(...events);
        },
      },
      now: () => new Date(),
      messageRetentionDays: 7,
      roomIdleDays: 30,
      editWindowMinutes: 15,
    };
  };
  await sendMessage(deps(db), { connectionId, text: 'helo', clientMsgId: 'm-1' });
  published.length = 0;
  const edit = (clientMsgId: string) =>
    changeMessage(deps(faulty), {
      connectionId,
      seq: 1,
      request: { kind: 'edit', text: 'hello' },
      clientMsgId,
    });
  const message = async () =>
    (
      await db.send(
        new GetCommand({ TableName: table('MessagesTable'), Key: { roomId, seq: 1 }, ConsistentRead: true }),
      )
    ).Item;
  /** The room's events after the message: the changes stored. */
  const changes = async () =>
    (
      await db.send(
        new QueryCommand({
          TableName: table('MessagesTable'),
          KeyConditionExpression: 'roomId = :r AND seq > :s',
          ExpressionAttributeValues: { ':r': roomId, ':s': 1 },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];
  const publishedSeqs = () => published.map((e) => e.seq);
  return { edit, message, changes, publishedSeqs };
}

it('tries an edit again after a conflict and stores it once, under the next seq', async () => {
  const w = await world();
  const conflictsBefore = faults.stats().conflicts;
  faults.setConflict(1);
  const editing = w.edit('e-1');
  // Off again once the first transaction met a conflict; the change is tried again in-process.
  for (let i = 0; i < 200 && faults.stats().conflicts === conflictsBefore; i++)
    await new Promise((r) => setTimeout(r, 2));
  faults.setConflict(0);
  const reply = await editing;
  expect(faults.stats().conflicts).toBeGreaterThan(conflictsBefore);
  expect(reply).toMatchObject({ type: 'changed', seq: 2, message: { seq: 1, text: 'hello' } });
  expect(await w.message()).toMatchObject({ text: 'hello', changeSeq: 2 });
  expect(await w.changes()).toHaveLength(1);
  expect(w.publishedSeqs()).toEqual([2]);
});

it('answers a retryable Busy after a few tries when every one meets a conflict; the retry edits it once', async () => {
  const w = await world();
  const conflictsBefore = faults.stats().conflicts;
  faults.setConflict(1);
  await expect(w.edit('e-1')).rejects.toMatchObject({ name: 'Busy' });
  // A conflict that persists gets a few tries (docs/RELIABILITY.md, "The send path"), not one per lost race.
  const tried = faults.stats().conflicts - conflictsBefore;
  expect(tried).toBeGreaterThan(0);
  expect(tried).toBeLessThanOrEqual(4);
  expect(await w.message()).toMatchObject({ text: 'helo' });
  expect(await w.changes()).toHaveLength(0);
  expect(w.publishedSeqs()).toEqual([]);
  faults.setConflict(0);
  const reply = await w.edit('e-1');
  const again = await w.edit('e-1');
  expect(reply).toMatchObject({ seq: 2, message: { text: 'hello' } });
  expect(again).toEqual(reply);
  expect(await w.changes()).toHaveLength(1);
  expect(w.publishedSeqs()).toEqual([2]);
});
