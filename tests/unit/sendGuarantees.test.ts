import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type SendDeps, sendMessage } from '../../functions/domain/messaging/sending';
import type { ChatEvent } from '../../functions/domain/ports';
import { DynamoConnectionStore } from '../../functions/platform/aws/connections';
import { DynamoRoomStore } from '../../functions/platform/aws/rooms';
import { DynamoSendStore } from '../../functions/platform/aws/sends';
import { Busy, PublishFailed } from '../../functions/platform/errors';
import { type DynamoFaultProxy, startDynamoFaultProxy } from '../../local/dynamoFaults';
import { localDocumentClient, startTemplateTables, type TemplateTables } from '../helpers/templateTables';

/**
 * The send path's guarantees against the local DynamoDB and its transactions, with the real adapters: one message
 * under one seq whatever is retried or raced, no seq without its message, the first ack for every retry, and one
 * publish per message, including across a failed PutEvents, an attempt that dies after storing, a sender answered
 * Busy, and transactions cancelled by a conflict (injected by the fault proxy, as DynamoDB answers them).
 */

let tables: TemplateTables;
let db: DynamoDBDocumentClient;
let faults: DynamoFaultProxy;
/** A document client that reaches DynamoDB through the fault proxy. */
let faulty: DynamoDBDocumentClient;
const table = (logicalId: string) => tables.table(logicalId);
let n = 0;

beforeAll(async () => {
  tables = await startTemplateTables();
  db = tables.db;
  faults = await startDynamoFaultProxy({ target: tables.endpoint, host: '127.0.0.1' });
  faulty = localDocumentClient(faults.endpoint, 1);
});

afterAll(async () => {
  faulty.destroy();
  await faults.close();
  await tables.close();
});

afterEach(() => faults.setConflict(0));

/** A room of its own for each test, a sender in it, and what the bus received. */
async function world({ room = 'own' }: { room?: 'own' | 'lobby' } = {}) {
  const roomId = room === 'lobby' ? 'lobby' : `R${++n}`;
  const connectionId = `conn-${++n}`;
  if (room === 'own')
    await db.send(new PutCommand({ TableName: table('RoomsTable'), Item: { roomId, seq: 0 } }));
  await db.send(
    new PutCommand({
      TableName: table('ConnectionsTable'),
      Item: { connectionId, roomId, username: `alice-${n}`, connectedAt: new Date().toISOString() },
    }),
  );
  const published: ChatEvent[] = [];
  let publish = async (events: ChatEvent[]) => {
    published.push(...events);
  };
  const deps = (client = db): SendDeps => ({
    connections: new DynamoConnectionStore(client, table('ConnectionsTable'), 'RoomIndex'),
    rooms: new DynamoRoomStore(client, table('RoomsTable')),
    sends: new DynamoSendStore(client, {
      rooms: table('RoomsTable'),
      messages: table('MessagesTable'),
      sends: table('SendsTable'),
    }),
    events: { publish: (events) => publish(events) },
    now: () => new Date(),
    messageRetentionDays: 7,
    roomIdleDays: 30,
  });
  const stored = async () =>
    (
      await db.send(
        new QueryCommand({
          TableName: table('MessagesTable'),
          KeyConditionExpression: 'roomId = :r',
          ExpressionAttributeValues: { ':r': roomId },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];
  const roomSeq = async () =>
    (await db.send(new GetCommand({ TableName: table('RoomsTable'), Key: { roomId }, ConsistentRead: true })))
      .Item?.seq;
  const publishedSeqs = () => published.map((e) => (JSON.parse(e.payload) as { seq: number }).seq);
  const send = (
    clientMsgId: string | undefined,
    extra: { signal?: AbortSignal; client?: DynamoDBDocumentClient } = {},
  ) =>
    sendMessage(deps(extra.client), {
      connectionId,
      text: `text of ${clientMsgId}`,
      clientMsgId,
      signal: extra.signal,
    });
  return {
    roomId,
    send,
    stored,
    roomSeq,
    publishedSeqs,
    setPublish: (next: typeof publish) => {
      publish = next;
    },
  };
}

describe('one message under one seq', () => {
  it('stores a send under the room next seq, publishes it once, and acks that seq', async () => {
    const w = await world();
    const { ack } = await w.send('m-1');
    expect(ack).toMatchObject({ type: 'ack', clientMsgId: 'm-1', roomId: w.roomId, seq: 1 });
    expect(await w.stored()).toEqual([
      expect.objectContaining({ seq: 1, messageId: ack.messageId, text: 'text of m-1' }),
    ]);
    expect(await w.roomSeq()).toBe(1);
    expect(w.publishedSeqs()).toEqual([1]);
  });

  it('acks a retry with the first ack, stores and publishes nothing new', async () => {
    const w = await world();
    const first = await w.send('m-1');
    const again = await w.send('m-1');
    expect(again.ack).toEqual(first.ack);
    expect(await w.stored()).toHaveLength(1);
    expect(await w.roomSeq()).toBe(1);
    expect(w.publishedSeqs()).toEqual([1]);
  });

  it('stores one message for five attempts of one clientMsgId racing, and all five get its ack', async () => {
    const w = await world();
    const acks = (await Promise.all(Array.from({ length: 5 }, () => w.send('m-race')))).map((r) => r.ack);
    expect(new Set(acks.map((a) => `${a.seq}/${a.messageId}`)).size).toBe(1);
    expect(await w.stored()).toHaveLength(1);
    expect(await w.roomSeq()).toBe(1);
    expect(w.publishedSeqs()).toEqual([1]);
  });

  it('gives 20 concurrent sends the seqs 1 to 20, each with its message, none empty', async () => {
    const w = await world();
    // The room's item is in every send's transaction and DynamoDB cancels one that meets another on it, so some
    // sends may be answered Busy with nothing stored; the client retries those with the same clientMsgId.
    const sendUntilStored = async (clientMsgId: string) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await w.send(clientMsgId);
        } catch (error) {
          if (!(error instanceof Busy) || attempt >= 20) throw error;
        }
      }
    };
    const acks = await Promise.all(Array.from({ length: 20 }, (_, i) => sendUntilStored(`m-${i}`)));
    expect(acks.map((r) => r.ack.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const stored = await w.stored();
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(stored.map((m) => m.clientMsgId)).size).toBe(20);
    expect(await w.roomSeq()).toBe(20);
    expect(w.publishedSeqs().sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('creates the lobby row with its first message, and sends without a clientMsgId too', async () => {
    const w = await world({ room: 'lobby' });
    const before = Number((await w.roomSeq()) ?? 0);
    const { ack } = await w.send(undefined);
    expect(ack.seq).toBe(before + 1);
    expect(ack).not.toHaveProperty('clientMsgId');
    expect(await w.roomSeq()).toBe(before + 1);
  });
});

describe('publishing across failures', () => {
  it('hands publishing back when PutEvents fails: the retry publishes it once, under its first seq', async () => {
    const w = await world();
    w.setPublish(async () => {
      throw new PublishFailed('bus refused', 1);
    });
    await expect(w.send('m-1')).rejects.toMatchObject({
      publicMessage: expect.stringMatching(/stored but could not be sent.*same clientMsgId/),
    });
    expect(await w.stored()).toHaveLength(1);
    expect(w.publishedSeqs()).toEqual([]);
    const published: ChatEvent[] = [];
    w.setPublish(async (events) => {
      published.push(...events);
    });
    const retry = await w.send('m-1');
    const again = await w.send('m-1');
    expect(retry.ack.seq).toBe(1);
    expect(again.ack).toEqual(retry.ack);
    expect(published.map((e) => JSON.parse(e.payload).seq)).toEqual([1]);
    expect(await w.stored()).toHaveLength(1);
  });

  it('an attempt that dies after storing leaves the message to history: the retry acks it and publishes nothing', async () => {
    const w = await world();
    // PutEvents never answers: the function is gone (a crash, a timeout) between the transaction and the bus.
    let publishing = false;
    w.setPublish(() => {
      publishing = true;
      return new Promise<void>(() => undefined);
    });
    void w.send('m-1');
    // The dead attempt must be inside its publish (its transaction landed) before the retry's publish is set,
    // however long that takes (the test's timeout bounds it).
    while (!publishing) await new Promise((r) => setTimeout(r, 10));
    w.setPublish(async () => {
      throw new Error('the retry must not publish what the dead attempt was publishing');
    });
    const { ack } = await w.send('m-1');
    expect(ack.seq).toBe(1);
    // Members that missed it live find it by seq, as `history` reads it.
    expect(await w.stored()).toEqual([expect.objectContaining({ seq: 1, messageId: ack.messageId })]);
  });

  it('stores nothing for an attempt already answered Busy; its retry stores the message under the next seq', async () => {
    const w = await world();
    const busy = new AbortController();
    busy.abort();
    await expect(w.send('m-1', { signal: busy.signal })).rejects.toMatchObject({ name: 'Busy' });
    expect(await w.stored()).toHaveLength(0);
    expect(await w.roomSeq()).toBe(0);
    const { ack } = await w.send('m-1');
    expect(ack.seq).toBe(1);
    expect(w.publishedSeqs()).toEqual([1]);
  });
});

describe('transaction conflicts (TransactionCanceledException, reason TransactionConflict)', () => {
  it('retries a transaction cancelled by a conflict and stores the message once', async () => {
    const w = await world();
    const conflictsBefore = faults.stats().conflicts;
    faults.setConflict(1);
    const sending = w.send('m-1', { client: faulty });
    // Off again once the first transaction met a conflict; the send retries in-process.
    for (let i = 0; i < 200 && faults.stats().conflicts === conflictsBefore; i++)
      await new Promise((r) => setTimeout(r, 2));
    faults.setConflict(0);
    const { ack } = await sending;
    expect(faults.stats().conflicts).toBeGreaterThan(conflictsBefore);
    expect(ack.seq).toBe(1);
    expect(await w.stored()).toHaveLength(1);
    expect(w.publishedSeqs()).toEqual([1]);
  });

  it('answers a retryable Busy when every try meets a conflict, having stored nothing; the retry stores it once', async () => {
    const w = await world();
    faults.setConflict(1);
    await expect(w.send('m-1', { client: faulty })).rejects.toMatchObject({ name: 'Busy' });
    expect(await w.stored()).toHaveLength(0);
    expect(await w.roomSeq()).toBe(0);
    faults.setConflict(0);
    const { ack } = await w.send('m-1', { client: faulty });
    expect(ack.seq).toBe(1);
    expect(await w.stored()).toHaveLength(1);
  });
});
