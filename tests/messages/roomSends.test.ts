import type { ChatClient, Frame } from '../helpers/chatClient';
import { roomCloud } from '../helpers/roomCloud';

/**
 * A room's senders never wait for or refuse each other, through the real sendmessage handler, template, IAM and the
 * local DynamoDB (which refuses a transaction meeting another, as DynamoDB does): one client pasting 20 messages
 * back to back and 40 members sending at once all get acks with consecutive seqs, first time, no BUSY, no error.
 */
jest.setTimeout(240_000);

/** Replies on a VM shared with other work can take seconds; these tests count answers, not time. */
const PATIENCE_MS = 90_000;

const stage = roomCloud(
  {
    settings: { SendRateLimit: '1000', FrameRateLimit: '100000' },
  },
  { closeClients: 'file', patienceMs: PATIENCE_MS },
);
const member = stage.connect;

/** Sends once, no retry: the reply (an ack or an error) to that clientMsgId. */
async function sendOnce(client: ChatClient, clientMsgId: string): Promise<Frame> {
  client.send({ action: 'sendmessage', message: `text ${clientMsgId}`, clientMsgId });
  return client.next(
    (f) => (f.type === 'ack' || f.type === 'error') && f.clientMsgId === clientMsgId,
    PATIENCE_MS,
    `the reply to ${clientMsgId}`,
  );
}

const consecutive = (seqs: number[]) => {
  const sorted = [...seqs].sort((a, b) => a - b);
  return sorted.every((seq, i) => i === 0 || seq === (sorted[i - 1] as number) + 1);
};

it('one client pasting 20 messages back to back: all 20 acked, first time, with 20 consecutive seqs', async () => {
  const paster = await member('paster');
  await paster.expectReply({ action: 'createroom' }, PATIENCE_MS);
  const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => sendOnce(paster, `paste-${i}`)));
  expect(replies.filter((r) => r.type !== 'ack')).toEqual([]);
  const seqs = replies.map((r) => r.seq as number);
  expect(new Set(seqs).size).toBe(20);
  expect(consecutive(seqs)).toBe(true);
});

it('40 members of one room sending at once: all acked, first time, none refused, every seq stored once', async () => {
  const members = await Promise.all(Array.from({ length: 40 }, (_, i) => member(`crowd${i}`)));
  const [owner, ...others] = members as [ChatClient, ...ChatClient[]];
  const roomId = (await owner.expectReply({ action: 'createroom' }, PATIENCE_MS)).roomId as string;
  for (const client of others) await client.expectReply({ action: 'joinroom', roomId }, PATIENCE_MS);
  const replies = await Promise.all(members.map((client, i) => sendOnce(client, `crowd-${i}`)));
  expect(replies.filter((r) => r.type !== 'ack')).toEqual([]);
  const seqs = replies.map((r) => r.seq as number);
  expect(new Set(seqs).size).toBe(40);
  expect(consecutive(seqs)).toBe(true);
  // Every one of them is in the room's history, once, under its seq.
  const history = await owner.expectReply({ action: 'history', afterSeq: 0, limit: 100 }, PATIENCE_MS);
  const stored = (history.messages as Frame[]).map((m) => m.seq as number);
  expect(stored.filter((seq) => seqs.includes(seq)).sort((a, b) => a - b)).toEqual(
    [...seqs].sort((a, b) => a - b),
  );
});
