import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ChatClient } from '../helpers/chatClient';
import { effectiveSetting } from '../helpers/cloudSettings';
import { roomCloud } from '../helpers/roomCloud';

/**
 * Sessions on record: after a connection closes, its item says who, from where, when it began and ended and how
 * (close code and reason), how many messages it sent and when, and when the last admin broadcast reached it;
 * found by username through UsernameIndex; never the text of a message; kept SessionRetentionDays (TTL).
 */
jest.setTimeout(240_000);

const world = roomCloud();

async function sessionsOf(username: string): Promise<Record<string, unknown>[]> {
  const { Items } = await DynamoDBDocumentClient.from(world.db).send(
    new QueryCommand({
      TableName: world.table('SessionsTable'),
      IndexName: 'UsernameIndex',
      KeyConditionExpression: 'username = :u',
      ExpressionAttributeValues: { ':u': username },
    }),
  );
  return Items ?? [];
}

it('keeps one record per connection, by username, with counts and times but no message text', async () => {
  const startedAt = new Date().toISOString();
  const alice = await ChatClient.connect(world.cloud.wsUrl, 'alice');
  const roomId = String((await alice.expectReply({ action: 'createroom' })).roomId);
  await alice.expectReply({ action: 'sendmessage', message: 'secret words one' });
  await alice.expectReply({ action: 'sendmessage', message: 'secret words two' });
  const posted = await fetch(`${world.cloud.httpUrl}/broadcast`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ message: 'maintenance soon', roomId }),
  });
  expect(posted.status).toBe(202);
  await alice.next((f) => f.type === 'broadcast');
  // She may leave with her own messages' posts still in flight: a 410 takes her out of the room index only, and
  // $disconnect still reads her room to record the broadcast she saw.
  const open = await sessionsOf('alice');
  expect(open).toEqual([expect.objectContaining({ username: 'alice', messagesSent: 2 })]);
  expect(open[0]?.disconnectedAt).toBeUndefined();

  await alice.close(4001, 'done for today');
  let closed: Record<string, unknown> | undefined;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    [closed] = await sessionsOf('alice');
    if (closed?.lastBroadcastAt) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const retentionDays = await effectiveSetting(world.cloud, 'SessionRetentionDays');
  expect(closed).toMatchObject({
    username: 'alice',
    sourceIp: '127.0.0.1',
    messagesSent: 2,
    closeCode: 4001,
    closeReason: 'done for today',
    lastMessageAt: expect.any(String),
    lastBroadcastAt: expect.any(String),
    disconnectedAt: expect.any(String),
  });
  const at = (name: string) => String(closed?.[name]);
  expect(at('connectedAt') >= startedAt.slice(0, 19)).toBe(true);
  expect(at('lastMessageAt') >= at('connectedAt')).toBe(true);
  expect(at('lastBroadcastAt') >= at('lastMessageAt')).toBe(true);
  expect(at('disconnectedAt') >= at('lastBroadcastAt')).toBe(true);
  const ttl = Number(closed?.ttl);
  expect(ttl - Date.parse(at('disconnectedAt')) / 1000).toBeCloseTo(retentionDays * 86400, -2);
  expect(JSON.stringify(closed)).not.toContain('secret words');
});
