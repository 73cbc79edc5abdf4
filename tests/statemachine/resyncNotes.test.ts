import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoFanoutStore, MAX_RESYNC_NOTES } from '../../functions/domain/fanout/dynamoFanout';
import { useFanoutMachine } from '../helpers/fanoutMachine';

/**
 * A room's item must not grow without bound (DynamoDB refuses an item over 400 KB, and every send and lease write
 * pays for its size): resync notes of members who left are dropped, and the notes are capped.
 */
const { h, addMembers, createRoom, send, framesOf, roomItem } = useFanoutMachine();
const { managementApi } = h;

async function note(roomId: string, notes: Record<string, number>): Promise<void> {
  await h.db.send(
    new UpdateItemCommand({
      TableName: h.tables.RoomsTable,
      Key: { roomId: { S: roomId } },
      UpdateExpression: 'SET resyncAfter = :notes',
      ExpressionAttributeValues: {
        ':notes': { M: Object.fromEntries(Object.entries(notes).map(([id, n]) => [id, { N: String(n) }])) },
      },
    }),
  );
}

it('the notes of members who left are dropped at the next claim; a member still in the room keeps and gets its own', async () => {
  await createRoom('NOTES1');
  const [stays, ...others] = (await addMembers('NOTES1', 4)) as [string, ...string[]];
  const departed = Array.from({ length: 40 }, (_, i) => `left-${i}=`);
  await note('NOTES1', { [stays]: 0, ...Object.fromEntries(departed.map((id) => [id, 0])) });
  expect((await h.machine.execute(await send('NOTES1', 1))).ok).toBe(true);
  expect(framesOf(stays)).toEqual([['resync:0'], [1]]);
  for (const id of others) expect(framesOf(id)).toEqual([[1]]);
  expect(Object.keys((await roomItem('NOTES1'))?.resyncAfter?.M ?? {})).toEqual([]);
});

it(`a room's item holds at most ${MAX_RESYNC_NOTES} notes; a noted member's note can still move earlier`, async () => {
  await createRoom('NOTES2');
  const noted = Object.fromEntries(Array.from({ length: MAX_RESYNC_NOTES }, (_, i) => [`m-${i}=`, 5]));
  await note('NOTES2', noted);
  const store = new DynamoFanoutStore(DynamoDBDocumentClient.from(h.db), {
    rooms: h.tables.RoomsTable as string,
    messages: h.tables.MessagesTable as string,
    connections: h.tables.ConnectionsTable as string,
    roomIndex: process.env.ROOM_INDEX as string,
    limits: h.tables.LimitsTable as string,
  });
  await store.markResync('NOTES2', 'one-too-many=', 3);
  await store.markResync('NOTES2', 'm-7=', 2);
  const notes = (await roomItem('NOTES2'))?.resyncAfter?.M ?? {};
  expect(Object.keys(notes)).toHaveLength(MAX_RESYNC_NOTES);
  expect(notes['one-too-many=']).toBeUndefined();
  expect(notes['m-7=']).toEqual({ N: '2' });
});

it('a noted member whose cycle post is refused gets its resync frame with the repost that reaches it, in a room that then goes quiet', async () => {
  await createRoom('NOTES3');
  const [noted, other] = (await addMembers('NOTES3', 2)) as [string, string];
  // Its note from an earlier message; its post of message 1 (the resync frame first) answers 429 once.
  await note('NOTES3', { [noted]: 0 });
  managementApi.throttle.set(noted, 1);
  expect((await h.machine.execute(await send('NOTES3', 1))).ok).toBe(true);
  expect(h.bus.events.map((e) => e['detail-type'])).toEqual(['FanoutRepost']);
  // No message follows: the repost is the member's only post that succeeds, so it must carry the resync frame.
  expect(framesOf(noted)).toEqual([['resync:0'], [1]]);
  expect(framesOf(other)).toEqual([[1]]);
  expect(Object.keys((await roomItem('NOTES3'))?.resyncAfter?.M ?? {})).toEqual([]);
});

it('members a repost still owed when its Deliver failed past its retries are noted, and their next post carries the resync frame', async () => {
  await createRoom('NOTES4');
  const [owed, other] = (await addMembers('NOTES4', 2)) as [string, string];
  managementApi.throttle.set(owed, 1);
  // Every repost's Deliver fails: the Map's Retry does not take a function's own error, so the Catch runs.
  h.beforeStep = async (step) => {
    if (step.op === 'post' && step.groups !== undefined) throw new Error('the repost crashed');
  };
  expect((await h.machine.execute(await send('NOTES4', 1))).ok).toBe(true);
  expect(h.runs.find((r) => r.states.includes('RepostFailed'))?.states).not.toContain('RepostLost');
  expect(framesOf(owed)).toEqual([]);
  expect((await roomItem('NOTES4'))?.resyncAfter?.M?.[owed]).toEqual({ N: '0' });
  h.beforeStep = async () => undefined;
  expect((await h.machine.execute(await send('NOTES4', 2))).ok).toBe(true);
  expect(framesOf(owed)).toEqual([['resync:0'], [2]]);
  expect(framesOf(other)).toEqual([[1], [2]]);
});
