import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { takeSeqUpdate } from '#messages/roomEvents';
import { connectionStore, roomEntry, sendTables, templateTables } from '../helpers/templateTables';

/**
 * Joins and sends of one room do not meet: a join's transaction checks its connection's gate into the room
 * (core/aws/rooms.ts), never the room's item, which every send's seq `ADD` writes. Against the local DynamoDB, which
 * refuses a write that meets an ongoing transaction on its item as DynamoDB does (TransactionConflictException).
 */

const tables = templateTables();

it("24 joins and 24 sends at once into one room, ten times over: no send's seq meets a join's transaction", async () => {
  const connections = connectionStore(tables);
  const entry = roomEntry(tables);
  const sendOutcomes: string[] = [];
  const joinOutcomes: string[] = [];
  for (let trial = 0; trial < 10; trial++) {
    const roomId = `GATES${trial}AA`;
    await tables.db.send(
      new PutCommand({
        TableName: tables.table('RoomsTable'),
        Item: { roomId, seq: 0, inviteKey: 'K', keyRequired: true },
      }),
    );
    const ids = Array.from({ length: 24 }, (_, i) => `gates-${trial}-${i}`);
    for (const connectionId of ids)
      await connections.put({
        connectionId,
        roomId: 'lobby',
        username: connectionId,
        connectedAt: new Date().toISOString(),
      });
    const at = new Date().toISOString();
    const [joined, sent] = await Promise.all([
      Promise.all(
        ids.map((connectionId) =>
          entry.enter({
            connectionId,
            from: 'lobby',
            roomId,
            username: connectionId,
            inviteKey: 'K',
            at,
            nowSeconds: Math.floor(Date.now() / 1000),
          }),
        ),
      ),
      // The send path's own seq write, sent once: a conflict would be its TransactionConflictException.
      Promise.all(
        ids.map(() =>
          tables.db.send(new UpdateCommand(takeSeqUpdate(sendTables(tables), roomId, Date.now()))).then(
            () => 'taken',
            (error: Error) => error.name,
          ),
        ),
      ),
    ]);
    joinOutcomes.push(...joined);
    sendOutcomes.push(...sent);
  }
  console.info(
    `join gates: ${sendOutcomes.filter((o) => o !== 'taken').length} of 240 sends met a transaction, ` +
      `${joinOutcomes.filter((o) => o === 'conflict').length} of 240 joins met another join at the first try`,
  );
  expect(sendOutcomes).toEqual(Array(240).fill('taken'));
  // Joins meet only the joins of their own gate (12 per room): they try again (joining.ts), as they did before.
  expect(joinOutcomes.filter((o) => o !== 'entered' && o !== 'conflict')).toEqual([]);
});
