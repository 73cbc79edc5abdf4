import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { CHANGE_LIMITS } from '#protocol';
import type { ChatClient, Frame } from '../helpers/chatClient';
import { roomCloud } from '../helpers/roomCloud';

/**
 * Many members react to one message at once (a popular message in a busy room). Reactions live in the Reactions
 * table (one small item per message and member, a summary per message: messages/dynamoReactions.ts), so no reaction
 * rewrites the message nor meets another in a transaction: every reaction of the burst is answered at once (no BUSY),
 * stored once, counted once, and the message's count is the number of members who reacted.
 */
jest.setTimeout(240_000);

const MEMBERS = 50;
const world = roomCloud(
  { settings: { FrameRateLimit: '100000', StrikeLimit: '100000' } },
  { closeClients: 'file' },
);

/** The Reactions table's items of one message, read as the admin (not through the product). */
async function reactionItems(roomId: string, seq: number) {
  const { Items } = await world.db.send(
    new QueryCommand({
      TableName: world.table('ReactionsTable'),
      KeyConditionExpression: '#t = :t',
      ExpressionAttributeNames: { '#t': 'target' },
      ExpressionAttributeValues: { ':t': { S: `${roomId}#${seq}` } },
      ConsistentRead: true,
    }),
  );
  const items = (Items ?? []).map((item) => unmarshall(item));
  return {
    summary: items.find((item) => item.key === '#'),
    members: items.filter((item) => String(item.key).startsWith('m#')),
  };
}

async function roomWith(owner: ChatClient, n: number, prefix: string) {
  const created = await owner.expectReply({ action: 'createroom' });
  const roomId = String(created.roomId);
  const members = await Promise.all(Array.from({ length: n }, (_, i) => world.connect(`${prefix}-${i}`)));
  for (const m of members) await m.expectReply({ action: 'joinroom', roomId, key: created.inviteKey });
  return { roomId, members };
}

it(`${MEMBERS} members reacting to one message within a second: every reaction stored and counted`, async () => {
  const owner = await world.connect('owner');
  const { roomId, members } = await roomWith(owner, MEMBERS, 'fan');
  const post = await owner.expectReply({
    action: 'sendmessage',
    message: 'react to this',
    clientMsgId: 'p-1',
  });
  await world.test.settle();

  const replies = await Promise.all(
    members.map((m, i) =>
      m.ask({ action: 'react', seq: post.seq, reaction: '👍', clientMsgId: `r-${i}` }, 60_000),
    ),
  );
  // Nothing is refused, not even as BUSY: no reaction waits for another. A refusal is shown with what the cloud logged
  // of timed-out routes and cold starts, which says where its time went.
  const refused = replies.filter((f) => f.type !== 'changed');
  const why = refused.length
    ? world.test.logs.filter((line) => /timed out|INIT \(cold start\)|answered busy/.test(line))
    : [];
  expect({ refused, why }).toEqual({ refused: [], why: [] });
  // Each member's reply shows its own reaction.
  for (const reply of replies)
    expect((reply.message as Frame).reactions).toEqual([
      expect.objectContaining({ reaction: '👍', mine: true }),
    ]);

  const { summary, members: given } = await reactionItems(roomId, Number(post.seq));
  expect(given).toHaveLength(MEMBERS);
  expect(given.every((item) => [...(item.given as Set<string>)].join() === '👍')).toBe(true);
  expect(summary).toMatchObject({ counts: { '👍': MEMBERS }, total: MEMBERS });

  const page = await owner.expectReply({ action: 'history', afterSeq: Number(post.seq) - 1, limit: 1 });
  const message = (page.messages as Frame[])[0] as Frame & {
    reactions?: { reaction: string; count: number }[];
  };
  expect(message.reactions).toEqual([{ reaction: '👍', count: MEMBERS, by: expect.any(Array) }]);
  // Its first givers are named, however many gave it at once (docs/DECISIONS.md "Who reacted").
  expect((message.reactions as unknown as { by: string[] }[])[0]?.by).toHaveLength(
    CHANGE_LIMITS.reactorsNamed,
  );
  // The highest reaction event carries the final count, so a client applying events ends at MEMBERS.
  await world.test.settle();
  // Alone or in a batch, every member got each reaction event once.
  const events = owner.frames
    .flatMap((f) => (f.type === 'batch' ? (f.messages as Frame[]) : [f]))
    .filter((f) => f.type === 'reaction' && f.roomId === roomId && f.targetSeq === post.seq);
  expect(events).toHaveLength(MEMBERS);
  const last = events.reduce((a, b) => (Number(b.seq) > Number(a.seq) ? b : a));
  expect(last.count).toBe(MEMBERS);
});

it('a reaction toggled twice is off, stored and counted so', async () => {
  const owner = await world.connect('toggler-owner');
  const { roomId, members } = await roomWith(owner, 1, 'toggler');
  const [bob] = members as [ChatClient];
  const post = await owner.expectReply({ action: 'sendmessage', message: 'toggle me' });
  const on = await bob.expectReply({ action: 'react', seq: post.seq, reaction: '🎉' });
  expect((on.message as Frame).reactions).toEqual([
    { reaction: '🎉', count: 1, mine: true, by: ['toggler-0'] },
  ]);
  const off = await bob.expectReply({ action: 'react', seq: post.seq, reaction: '🎉', remove: true });
  expect((off.message as Frame).reactions).toBeUndefined();
  // Taking back again changes nothing (no seq taken).
  const again = await bob.expectReply({ action: 'react', seq: post.seq, reaction: '🎉', remove: true });
  expect(again.seq).toBeUndefined();
  const { summary, members: given } = await reactionItems(roomId, Number(post.seq));
  expect(summary?.counts).toEqual({});
  expect(summary?.total).toBe(0);
  expect(given.every((item) => item.given === undefined)).toBe(true);
  const page = await bob.expectReply({ action: 'history', afterSeq: Number(post.seq) - 1, limit: 1 });
  expect((page.messages as Frame[])[0]?.reactions).toBeUndefined();
});

it('a reaction to a deleted message is refused and stores nothing', async () => {
  const owner = await world.connect('deleter');
  const { roomId, members } = await roomWith(owner, 1, 'late');
  const [bob] = members as [ChatClient];
  const post = await owner.expectReply({ action: 'sendmessage', message: 'soon gone' });
  await owner.expectReply({ action: 'deletemessage', seq: post.seq });
  const refused = await bob.ask({ action: 'react', seq: post.seq, reaction: '👍' });
  expect(refused).toMatchObject({ type: 'error', code: 'MESSAGE_DELETED' });
  const { summary, members: given } = await reactionItems(roomId, Number(post.seq));
  expect(summary).toBeUndefined();
  expect(given).toEqual([]);
});
