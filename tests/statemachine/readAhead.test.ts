import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { READ_AHEAD_MESSAGES } from '#deliver/readAhead';
import { useFanoutMachine, useTransactionConflicts } from '../helpers/fanoutMachine';

/**
 * Read-ahead (functions/deliver/readAhead.ts): a busy room's execution also posts the messages already stored after
 * its batch, in the same frames, and the room's cursor, saved after the posts, makes the later batches that carry
 * those messages post nothing again. Small pages (7) and chunks (3), as the other machine tests.
 */
const { h, addMembers, createRoom, send, framesOf, recordsOf } = useFanoutMachine();
const { runMeetingConflict } = useTransactionConflicts(h);

const cursorOf = async (roomId: string) =>
  (
    await h.db.send(
      new GetItemCommand({
        TableName: h.tables.LimitsTable,
        Key: { limitKey: { S: `fanout-cursor#${roomId}` } },
        ConsistentRead: true,
      }),
    )
  ).Item;

it("a busy room's batch posts the messages stored after it in the same frame, and their own batches post nothing again", async () => {
  await createRoom('AHEAD1');
  const members = await addMembers('AHEAD1', 4);
  const events = [];
  for (let seq = 1; seq <= 8; seq++) events.push(await send('AHEAD1', seq));
  // The queue's first batch holds 1 and 2; 3 to 8 are stored and wait in the queue behind it.
  expect((await h.machine.execute(recordsOf(...events.slice(0, 2)))).ok).toBe(true);
  for (const id of members) expect(framesOf(id)).toEqual([[1, 2, 3, 4, 5, 6, 7, 8]]);
  const cursor = await cursorOf('AHEAD1');
  expect(cursor?.high).toEqual({ N: '8' });
  expect(Object.keys(JSON.parse(cursor?.skip?.S ?? '{}')).sort()).toEqual(['3', '4', '5', '6', '7', '8']);

  // Their own batches come: nothing is posted twice, and the cursor forgets each as it comes.
  for (const batch of [events.slice(2, 5), events.slice(5, 8)])
    expect((await h.machine.execute(recordsOf(...batch))).ok).toBe(true);
  for (const id of members) expect(framesOf(id)).toEqual([[1, 2, 3, 4, 5, 6, 7, 8]]);
  expect(JSON.parse((await cursorOf('AHEAD1'))?.skip?.S ?? '')).toEqual({});

  // The next message is posted as ever.
  expect((await h.machine.execute(recordsOf(await send('AHEAD1', 9)))).ok).toBe(true);
  for (const id of members) expect(framesOf(id)).toEqual([[1, 2, 3, 4, 5, 6, 7, 8], [9]]);
});

it('a message stored late, below what was read ahead, is posted when its event comes, and nothing above it twice', async () => {
  await createRoom('AHEAD2');
  const [member] = (await addMembers('AHEAD2', 1)) as [string];
  const events = [];
  for (let seq = 1; seq <= 5; seq++) events.push(await send('AHEAD2', seq));
  // 3's sender has taken its seq and not stored it yet when the batch of 1 and 2 is prepared.
  const three = await h.db.send(
    new DeleteItemCommand({
      TableName: h.tables.MessagesTable,
      Key: { roomId: { S: 'AHEAD2' }, seq: { N: '3' } },
      ReturnValues: 'ALL_OLD',
    }),
  );
  expect((await h.machine.execute(recordsOf(...events.slice(0, 2)))).ok).toBe(true);
  expect(framesOf(member)).toEqual([[1, 2, 4, 5]]);
  // 3 is stored and published after all; 4 and 5's own events come after it.
  await h.db.send(new PutItemCommand({ TableName: h.tables.MessagesTable, Item: three.Attributes ?? {} }));
  const [, , e3, e4, e5] = events as [
    unknown,
    unknown,
    (typeof events)[number],
    (typeof events)[number],
    (typeof events)[number],
  ];
  expect((await h.machine.execute(recordsOf(e4, e3, e5))).ok).toBe(true);
  expect(framesOf(member)).toEqual([[1, 2, 4, 5], [3]]);
});

it('a quiet room (one message a batch) reads nothing ahead: each message in its own execution', async () => {
  await createRoom('QUIET3');
  const [member] = (await addMembers('QUIET3', 1)) as [string];
  const one = await send('QUIET3', 1);
  const two = await send('QUIET3', 2);
  expect((await h.machine.execute(recordsOf(one))).ok).toBe(true);
  expect(framesOf(member)).toEqual([[1]]);
  expect((await h.machine.execute(recordsOf(two))).ok).toBe(true);
  expect(framesOf(member)).toEqual([[1], [2]]);
});

it(`reads at most ${READ_AHEAD_MESSAGES} messages ahead; the rest go with their own batches`, async () => {
  await createRoom('AHEAD4');
  const [member] = (await addMembers('AHEAD4', 1)) as [string];
  const events = [];
  const last = 2 + READ_AHEAD_MESSAGES + 3;
  for (let seq = 1; seq <= last; seq++) events.push(await send('AHEAD4', seq));
  expect((await h.machine.execute(recordsOf(...events.slice(0, 2)))).ok).toBe(true);
  for (let at = 2; at < last; at += 10)
    expect((await h.machine.execute(recordsOf(...events.slice(at, at + 10)))).ok).toBe(true);
  const seqs = framesOf(member).flat();
  // Every message once, in order.
  expect(seqs).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  expect(framesOf(member)[0]).toHaveLength(2 + READ_AHEAD_MESSAGES);
});

it('a batch whose every message was posted ahead Queries no member and posts nothing, and still saves the cursor', async () => {
  await createRoom('AHEAD5');
  const [member] = (await addMembers('AHEAD5', 1)) as [string];
  const events = [];
  for (let seq = 1; seq <= 4; seq++) events.push(await send('AHEAD5', seq));
  expect((await h.machine.execute(recordsOf(...events.slice(0, 2)))).ok).toBe(true);
  h.steps.length = 0;
  const run = await h.machine.execute(recordsOf(...events.slice(2)));
  expect(run.ok).toBe(true);
  expect(run.states.filter((s) => s.startsWith('Query'))).toEqual([]);
  expect(h.steps.map((s) => s.input.op)).toEqual(['prepare']);
  expect(framesOf(member)).toEqual([[1, 2, 3, 4]]);
  expect(JSON.parse((await cursorOf('AHEAD5'))?.skip?.S ?? '')).toEqual({});
});

it('a cursor save that meets a transaction is tried again, so the messages posted ahead are not posted twice', async () => {
  await createRoom('AHEAD6');
  const members = await addMembers('AHEAD6', 2);
  const events = [];
  for (let seq = 1; seq <= 4; seq++) events.push(await send('AHEAD6', seq));
  // The batch of 1 and 2 posts 3 and 4 ahead; its SaveCursor, the machine's only write here, is refused once.
  await runMeetingConflict(recordsOf(...events.slice(0, 2)));
  for (const id of members) expect(framesOf(id)).toEqual([[1, 2, 3, 4]]);
  expect((await h.machine.execute(recordsOf(...events.slice(2)))).ok).toBe(true);
  for (const id of members) expect(framesOf(id)).toEqual([[1, 2, 3, 4]]);
});
