import type { ChatClient, Frame } from '../helpers/chatClient';
import { cloudTables } from '../helpers/deliveryChecker';
import { roomCloud } from '../helpers/roomCloud';

/**
 * Per-member delivery state lives with the member (docs/ARCHITECTURE.md): when the fan-out cannot reach a room's
 * members on its post and its one repost, each is owed a resync frame, noted on the member's own subscription. The
 * room's item, which every send writes, takes no write per member; each member still gets its resync frame with
 * its next post. Counted on the local cloud's per-key write accounting (tools/local/dynamoKeyThroughput.ts).
 */
jest.setTimeout(240_000);

const MEMBERS = 12;
const world = roomCloud({
  settings: { SendRateLimit: '1000', FrameRateLimit: '100000' },
  // The repost machine's waits (the repost's 2 s, then rounds of resync tries a second to half a minute apart) last
  // 10 ms per second: what is counted here is who ends up noted and what the room's item took, not when.
  stepFunctionsTestClock: { msPerSecond: 10, states: ['WaitToRepost', 'WaitToResync'] },
});

it('a throttled fan-out notes every member it could not reach without writing the room item per member', async () => {
  const { cloud } = world;
  const owner = await world.connect('owner');
  const created = await owner.expectReply({ action: 'createroom' });
  const roomId = String(created.roomId);
  const members = await Promise.all(Array.from({ length: MEMBERS }, (_, i) => world.connect(`member-${i}`)));
  for (const m of members) await m.expectReply({ action: 'joinroom', roomId, key: created.inviteKey });
  await world.test.settle();
  await cloud.resetDynamoKeyStats();

  // Every post is answered 429, the repost's too: nobody gets message 1 live.
  cloud.gateway.setFaults({ faultThrottle: 1 });
  const first = await owner.expectReply({ action: 'sendmessage', message: 'lost live', clientMsgId: 'm-1' });
  await world.test.settle();
  cloud.gateway.setFaults({ faultThrottle: 0 });
  expect(members.every((m) => !m.frames.some((f) => f.type === 'message' && f.seq === first.seq))).toBe(true);

  // The room's item took only the room's own writes (its seq): none per member noted.
  const roomKey = `S:${roomId}`;
  const rooms = await cloud.dynamoKeyStats({ table: cloudTables(cloud).rooms });
  const roomWrites = rooms.find((k) => k.key === roomKey && k.index === undefined)?.writes ?? 0;
  expect(roomWrites).toBeGreaterThan(0);
  expect(roomWrites).toBeLessThan(MEMBERS);

  // The next message reaches each member after its resync frame (after seq 0: message 1 may be missing).
  const second = await owner.expectReply({ action: 'sendmessage', message: 'back', clientMsgId: 'm-2' });
  await Promise.all(members.map((m) => m.next((f) => f.type === 'message' && f.seq === second.seq, 90_000)));
  const resyncs = (m: ChatClient) => m.frames.filter((f: Frame) => f.type === 'resync');
  expect(members.map((m) => resyncs(m).length)).toEqual(members.map(() => 1));
  expect(resyncs(members[0] as ChatClient)[0]).toMatchObject({ roomId, afterSeq: 0 });
});
