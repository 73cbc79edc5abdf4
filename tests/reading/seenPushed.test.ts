import type { ChatClient, Frame } from '../helpers/chatClient';
import { roomCloud } from '../helpers/roomCloud';

/**
 * "Seen by" pushed through the fan-out, on the local cloud: a member's `markread` that moves its position reaches the
 * room's other members as a `seen` frame, reads that meet in one fan-out cycle arrive as one frame, and a room over
 * SeenByMaxMembers (3 here) is told nothing. A cycle is held open by slowing the management API's answers, so the
 * reads made meanwhile wait in the room's message group behind it, as a busy room's do.
 */
jest.setTimeout(240_000);

const PATIENCE_MS = 90_000;

const stage = roomCloud(
  {
    settings: { SeenByMaxMembers: '3', FrameRateLimit: '1000' },
  },
  {
    closeClients: 'file',
    patienceMs: PATIENCE_MS,
    reset: (cloud) => cloud.gateway.setFaults({ apiLatencyMs: 0 }),
  },
);

/** A room of the named guests, each join seen by everyone before the next. */
const room = (names: string[]) => stage.settledRoom(names);

const isSeen = (roomId: string) => (f: Frame) => f.type === 'seen' && f.roomId === roomId;
const seenFrames = (client: ChatClient, mark: number, roomId: string) =>
  client.since(mark).filter(isSeen(roomId));

it('pushes a member’s read to the others as a seen frame, only when the position moved', async () => {
  const { roomId, members } = await room(['ana', 'ben', 'cat']);
  const [ana, ben, cat] = members as [ChatClient, ChatClient, ChatClient];
  const ack = await ana.expectReply({ action: 'sendmessage', message: 'hello' }, PATIENCE_MS);
  const seq = ack.seq as number;
  await ben.next((f) => f.type === 'message' && f.seq === seq, PATIENCE_MS);

  const read = await ben.expectReply({ action: 'markread', seq }, PATIENCE_MS);
  expect(read).toMatchObject({ type: 'read', roomId, lastReadSeq: seq });
  for (const other of [ana, cat])
    expect(await other.next(isSeen(roomId), PATIENCE_MS, 'ben’s read')).toEqual({
      type: 'seen',
      roomId,
      members: [{ username: 'ben', lastReadSeq: seq }],
    });

  // The same position again moves nothing: nobody is told.
  const mark = ana.mark();
  await ben.expectReply({ action: 'markread', seq }, PATIENCE_MS);
  await stage.test.settle();
  expect(seenFrames(ana, mark, roomId)).toEqual([]);
});

it('delivers two reads of one fan-out cycle to each member as one seen frame', async () => {
  const { roomId, members } = await room(['dan', 'eve', 'fay']);
  const [dan, eve, fay] = members as [ChatClient, ChatClient, ChatClient];
  const mark = dan.mark();
  // Each post answered after 3 s: the message's cycle stays open while eve and fay read it.
  stage.cloud.gateway.setFaults({ apiLatencyMs: 3000 });
  const prepared = () => stage.test.invocations.filter((i) => i.op === 'prepare').length;
  const before = prepared();
  const ack = await dan.expectReply({ action: 'sendmessage', message: 'read me' }, PATIENCE_MS);
  const seq = ack.seq as number;
  // The message's cycle has begun: what is published now waits in the room's group for the next one.
  for (let waited = 0; prepared() === before; waited += 20) {
    if (waited > PATIENCE_MS) throw new Error('the message’s fan-out never started');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await Promise.all([
    eve.expectReply({ action: 'markread', seq }, PATIENCE_MS),
    fay.expectReply({ action: 'markread', seq }, PATIENCE_MS),
  ]);
  const frame = await dan.next(isSeen(roomId), PATIENCE_MS, 'the reads');
  stage.cloud.gateway.setFaults({ apiLatencyMs: 0 });
  await stage.test.settle();
  expect(seenFrames(dan, mark, roomId)).toEqual([frame]);
  const positions = (frame.members as Frame[]).map((m) => [m.username, m.lastReadSeq]).sort();
  expect(positions).toEqual([
    ['eve', seq],
    ['fay', seq],
  ]);
});

it('pushes no read in a room over SeenByMaxMembers', async () => {
  const { roomId, members } = await room(['gus', 'hal', 'ivy', 'jay']);
  const [gus, hal] = members as [ChatClient, ChatClient];
  const ack = await gus.expectReply({ action: 'sendmessage', message: 'too many of us' }, PATIENCE_MS);
  const seq = ack.seq as number;
  const mark = gus.mark();
  expect(await hal.expectReply({ action: 'markread', seq }, PATIENCE_MS)).toMatchObject({ lastReadSeq: seq });
  // A message after the read: had the read been published, its frame would have come before this one.
  const next = await hal.expectReply({ action: 'sendmessage', message: 'after the read' }, PATIENCE_MS);
  await gus.next((f) => f.type === 'message' && f.seq === next.seq, PATIENCE_MS);
  await stage.test.settle();
  expect(seenFrames(gus, mark, roomId)).toEqual([]);
});
