import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SlowMode } from '#core/errors';
import { DynamoMessageStore } from '#messages/dynamoMessages';
import { history } from '#messages/roomHistory';
import { sendMessage } from '#messages/sending';
import type { SendDeps } from '#messages/sendTypes';
import { connectionStore, seatSender, sendStore, templateTables } from '../helpers/templateTables';

/**
 * A `history` page lists the seqs given up that its read passed (`gaps`: docs/DECISIONS.md, "Gaps are told where
 * members read"), against the local DynamoDB with the real adapters: a send refused by slow mode marks its seq a gap,
 * and a reader catching up is told so instead of waiting for it; a seq taken and not stored yet is no gap.
 */

const tables = templateTables();
let n = 0;

async function slowRoom() {
  const roomId = `G${++n}`;
  const connectionId = `conn-${n}`;
  await seatSender(tables, { roomId, connectionId, username: `bob-${n}` });
  await tables.db.send(
    new UpdateCommand({
      TableName: tables.table('RoomsTable'),
      Key: { roomId },
      UpdateExpression: 'SET slowModeSeconds = :s',
      ExpressionAttributeValues: { ':s': 30 },
    }),
  );
  // Slow mode's turn: taken by the first send, refused to the second (30 s have not passed), taken by the third.
  let turns = 0;
  const deps: SendDeps = {
    connections: connectionStore(tables),
    sends: sendStore(tables),
    events: { publish: async () => undefined },
    now: () => new Date(),
    messageRetentionDays: 7,
    slowTurn: async () => (++turns === 2 ? 25_000 : 0),
  };
  const send = (text: string) => sendMessage(deps, { connectionId, text });
  const messages = new DynamoMessageStore(
    tables.db,
    tables.table('MessagesTable'),
    tables.table('ReactionsTable'),
  );
  const page = (query: { afterSeq?: number; beforeSeq?: number; limit?: number }) =>
    history({ connections: deps.connections, messages, now: () => new Date() }, connectionId, {
      limit: 50,
      ...query,
    });
  return { roomId, send, page, sends: deps.sends };
}

it('lists the seq of a send refused by slow mode, after a page start and on the latest page', async () => {
  const r = await slowRoom();
  expect((await r.send('one')).ack.seq).toBe(1);
  await expect(r.send('two')).rejects.toBeInstanceOf(SlowMode);
  expect((await r.send('three')).ack.seq).toBe(3);

  const after = await r.page({ afterSeq: 1 });
  expect(after.messages.map((m) => m.seq)).toEqual([3]);
  expect(after.gaps).toEqual([2]);
  const latest = await r.page({});
  expect(latest.messages.map((m) => m.seq)).toEqual([1, 3]);
  expect(latest.gaps).toEqual([2]);
  // A page past the gap has none to tell.
  expect(await r.page({ afterSeq: 2 })).not.toHaveProperty('gaps');
});

it('does not list a seq taken and not stored yet: its message may still come', async () => {
  const r = await slowRoom();
  await r.send('one');
  const taken = await r.sends.takeSeq(r.roomId, Date.now());
  expect(taken).toMatchObject({ kind: 'taken', seq: 2 });
  await expect(r.send('refused')).rejects.toBeInstanceOf(SlowMode); // seq 3, given up
  await r.send('four');
  const page = await r.page({ afterSeq: 1 });
  expect(page.messages.map((m) => m.seq)).toEqual([4]);
  expect(page.gaps).toEqual([3]);
});

it('a cut page lists only the gaps below its last message; the next page lists the rest', async () => {
  const r = await slowRoom();
  await r.send('one');
  await expect(r.send('two')).rejects.toBeInstanceOf(SlowMode);
  await r.send('three');
  await r.send('four');
  const first = await r.page({ afterSeq: 0, limit: 1 });
  expect(first.messages.map((m) => m.seq)).toEqual([1]);
  expect(first.hasMore).toBe(true);
  expect(first).not.toHaveProperty('gaps');
  const next = await r.page({ afterSeq: 1, limit: 1 });
  expect(next.messages.map((m) => m.seq)).toEqual([3]);
  expect(next.gaps).toEqual([2]);
});
