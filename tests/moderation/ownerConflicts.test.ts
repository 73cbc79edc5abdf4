import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoRoomStore } from '#core/aws/rooms';
import { busyFrom } from '#core/errors';
import { retryingConflicts } from '#platform/aws/conflicts';
import { type DynamoFaultProxy, startDynamoFaultProxy } from '../../tools/local/dynamoFaults';
import {
  localDocumentClient,
  roomStore,
  startTemplateTables,
  type TemplateTables,
} from '../helpers/templateTables';

/**
 * An owner's change (one transaction of the room's item and its gates) meets the joins' transactions on the gates in
 * a busy room (DynamoDB cancels it with a TransactionConflict reason, writing nothing): it is tried again, so rotating
 * the key or closing the room works in a room people keep joining; a conflict that never ends still fails, after a
 * bounded number of tries.
 */
let tables: TemplateTables;
let faults: DynamoFaultProxy;
let faulty: DynamoDBDocumentClient;
let rooms: DynamoRoomStore;
beforeAll(async () => {
  tables = await startTemplateTables();
  faults = await startDynamoFaultProxy({ target: tables.endpoint, host: '127.0.0.1' });
  faulty = localDocumentClient(faults.endpoint, 1);
  rooms = new DynamoRoomStore(faulty, tables.table('RoomsTable'));
});
afterAll(async () => {
  faulty.destroy();
  await faults.close();
  await tables.close();
});
afterEach(() => faults.setConflict(0));

const NOW = 1_795_000_000;
async function room(roomId: string) {
  await tables.db.send(
    new PutCommand({
      TableName: tables.table('RoomsTable'),
      Item: { roomId, ownerId: 'owner', seq: 3, createdAt: '2026-01-01T00:00:00.000Z' },
    }),
  );
}
const stored = async (roomId: string) =>
  (await tables.db.send(new GetCommand({ TableName: tables.table('RoomsTable'), Key: { roomId } }))).Item;

it('closes a room whose gates a join holds at first: the change is tried again and applies', async () => {
  await room('BUSY1');
  faults.setConflict(1);
  // The join's transaction ends after the first refusal, within milliseconds.
  const closing = rooms.changeAsOwner('BUSY1', 'owner', NOW, { kind: 'close', closedAt: 'then' });
  while (faults.stats().conflicts === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  faults.setConflict(0);
  expect((await closing)?.closedAt).toBe('then');
  expect(faults.stats().conflicts).toBeGreaterThan(0);
  expect((await stored('BUSY1'))?.closedAt).toBe('then');
});

it('still refuses a non-owner, conflict or not', async () => {
  await room('BUSY2');
  expect(
    await rooms.changeAsOwner('BUSY2', 'intruder', NOW, { kind: 'close', closedAt: 'then' }),
  ).toBeUndefined();
  expect((await stored('BUSY2'))?.closedAt).toBeUndefined();
});

it('answers BUSY (retry), not INTERNAL, when joins hold the gates through every try', async () => {
  await room('BUSY3');
  faults.setConflict(1);
  const error = await rooms
    .changeAsOwner('BUSY3', 'owner', NOW, { kind: 'close', closedAt: 'then' })
    .catch((e: unknown) => e);
  faults.setConflict(0);
  expect(busyFrom(error)).toMatchObject({ code: 'BUSY' });
  expect((await stored('BUSY3'))?.closedAt).toBeUndefined();
});

it("answers with the key its own change wrote, though another tab's rotation came right after", async () => {
  await room('BUSY4');
  const store = roomStore(tables);
  const other = roomStore(tables);
  const read = store.get.bind(store);
  // Between this change's commit and its read of the room, the owner's other tab rotates the key again.
  store.get = async (roomId) => {
    await other.changeAsOwner(roomId, 'owner', NOW, { kind: 'rotateKey', inviteKey: 'KEY-OF-TAB-B' });
    return read(roomId);
  };
  const changed = await store.changeAsOwner('BUSY4', 'owner', NOW, {
    kind: 'rotateKey',
    inviteKey: 'KEY-OF-TAB-A',
    removedName: 'mallory',
  });
  expect(changed).toMatchObject({ inviteKey: 'KEY-OF-TAB-A', keyRequired: true });
  expect(changed?.removedNames).toEqual(new Set(['mallory']));
  expect((await stored('BUSY4'))?.inviteKey).toBe('KEY-OF-TAB-B');
});

it('gives up after eight tries of a conflict that does not end, with DynamoDB own error', async () => {
  let tries = 0;
  const conflict = Object.assign(new Error('Transaction is ongoing for the item'), {
    name: 'TransactionConflictException',
  });
  const error = await retryingConflicts(
    async () => {
      tries++;
      throw conflict;
    },
    () => 0,
  ).catch((e: Error) => e);
  expect(error).toBe(conflict);
  expect(tries).toBe(8);
});
