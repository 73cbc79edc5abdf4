import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  DynamoConnectionStore,
  DynamoMessageStore,
  DynamoRoomStore,
  DynamoSendLog,
} from '../../functions/shared/adapters/dynamo';
import type { ChatEvent } from '../../functions/shared/ports';
import { type SendDeps, sendMessage, TAKEOVER_MARGIN_MS } from '../../functions/shared/sending';
import { startTemplateTables, type TemplateTables } from '../helpers/templateTables';

/**
 * A send whose first attempt is answered Busy while its seq is still being recorded (a backlogged table), and whose
 * retry comes after the first attempt's function has timed out: against the local DynamoDB (dynalite), with the
 * first attempt's recordSeq held back by hand so the race happens the same way every run. Whatever the timing, the
 * message is stored under one seq, published once under that seq, and every retry acks that seq.
 */

const T0 = Date.parse('2026-11-22T12:00:00.000Z');
/** SendMessage's timeout in the template. */
const LIFE_MS = 10_000;

let tables: TemplateTables;
let db: DynamoDBDocumentClient;
const table = (logicalId: string) => tables.table(logicalId);
let n = 0;

beforeAll(async () => {
  tables = await startTemplateTables();
  db = tables.db;
});

afterAll(async () => {
  await tables.close();
});

/** A room of its own for each test (the lobby's row appears with its first seq), and a sender in it. */
async function world({
  holdFirstRecord = true,
  holdFirstSeq = false,
  failFirstSeq,
}: {
  holdFirstRecord?: boolean;
  holdFirstSeq?: boolean;
  failFirstSeq?: Error;
} = {}) {
  const roomId = `R${++n}`;
  const connectionId = `conn-${n}`;
  await db.send(new PutCommand({ TableName: table('RoomsTable'), Item: { roomId, seq: 0 } }));
  await db.send(
    new PutCommand({
      TableName: table('ConnectionsTable'),
      Item: { connectionId, roomId, username: 'alice', connectedAt: new Date(T0).toISOString() },
    }),
  );
  const sends = new DynamoSendLog(db, table('SendsTable'));
  const published: ChatEvent[] = [];
  /** The first recordSeq waits for `release()`: the first attempt's write stuck in a backlog. */
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let recordCalls = 0;
  let seqCalls = 0;
  const rooms = new DynamoRoomStore(db, table('RoomsTable'));
  /** With holdFirstSeq, the first nextSeq waits for `release()` instead. */
  const heldRooms = Object.assign(Object.create(rooms) as DynamoRoomStore, {
    nextSeq: async (roomId: string) => {
      if (++seqCalls === 1 && holdFirstSeq) await held;
      if (seqCalls === 1 && failFirstSeq) throw failFirstSeq;
      return rooms.nextSeq(roomId);
    },
  });
  const heldSends = Object.assign(Object.create(sends) as DynamoSendLog, {
    recordSeq: async (...args: Parameters<DynamoSendLog['recordSeq']>) => {
      if (++recordCalls === 1 && holdFirstRecord) await held;
      return sends.recordSeq(...args);
    },
  });
  const depsAt = (ms: number): SendDeps => ({
    connections: new DynamoConnectionStore(db, table('ConnectionsTable'), 'RoomIndex'),
    rooms: heldRooms,
    messages: new DynamoMessageStore(db, table('MessagesTable')),
    sends: heldSends,
    events: {
      publish: async (events) => {
        published.push(...events);
      },
    },
    now: () => new Date(ms),
    messageRetentionDays: 7,
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
  const publishedSeqs = () => published.map((e) => (JSON.parse(e.payload) as { seq: number }).seq);
  const send = (ms: number, extra: { signal?: AbortSignal } = {}) =>
    sendMessage(depsAt(ms), {
      connectionId,
      text: 'hello',
      clientMsgId: 'm-1',
      deadline: ms + LIFE_MS,
      ...extra,
    });
  return {
    send,
    stored,
    publishedSeqs,
    release,
    held: () => recordCalls >= 1,
    seqAsked: () => seqCalls >= 1,
  };
}

async function until(condition: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 200 && !(await condition()); i++) await new Promise((r) => setTimeout(r, 10));
}

/** The first attempt: it takes seq 1 and stores the message; its recordSeq is held; then it is answered Busy. */
async function firstAttemptStuck(w: Awaited<ReturnType<typeof world>>) {
  const busy = new AbortController();
  const first = w.send(T0, { signal: busy.signal }).then(
    (r) => r,
    (error: Error) => error,
  );
  await until(async () => w.held() && (await w.stored()).length === 1);
  busy.abort();
  // Wrapped, so that awaiting this function does not wait for the held attempt itself.
  return { first };
}

it('a retry right after the first attempt timed out waits for its seq, and then acks and publishes that seq', async () => {
  const w = await world();
  const { first } = await firstAttemptStuck(w);
  // Half a second after the first attempt's function timed out: its seq is still on its way.
  const early = await w.send(T0 + LIFE_MS + 500).catch((error: Error) => error);
  expect(early).toMatchObject({ name: 'RateLimited' });
  w.release();
  expect(await first).toMatchObject({ name: 'Busy' });

  const retry = await w.send(T0 + 60_000);
  expect(retry.ack.seq).toBe(1);
  const copies = await w.stored();
  expect(copies.map((m) => m.seq)).toEqual([1]);
  expect(w.publishedSeqs()).toEqual([1]);
});

it('a retry that takes the claim over fences the first attempt off: one stored copy, one seq acked and published', async () => {
  const w = await world();
  const { first } = await firstAttemptStuck(w);
  // Long after the first attempt's life: the retry may take over, and takes seq 2.
  const takeover = await w.send(T0 + LIFE_MS + TAKEOVER_MARGIN_MS + 1);
  expect(takeover.ack.seq).toBe(2);
  // Then the first attempt's seq lands: refused, and its copy under seq 1 goes.
  w.release();
  expect(await first).toMatchObject({ name: 'Busy' });

  const retry = await w.send(T0 + 120_000);
  expect(retry.ack).toEqual(takeover.ack);
  const copies = await w.stored();
  expect(copies.map((m) => m.seq)).toEqual([2]);
  expect(w.publishedSeqs()).toEqual([2]);
});

it('an attempt answered Busy after storing gives its publish claim back, so a retry at once publishes the message', async () => {
  const w = await world();
  const { first } = await firstAttemptStuck(w);
  w.release();
  expect(await first).toMatchObject({ name: 'Busy' });
  const retry = await w.send(T0 + 1000);
  expect(retry.ack.seq).toBe(1);
  expect(w.publishedSeqs()).toEqual([1]);
});

it('an attempt answered Busy while taking its seq records it, stores the message and lets the retry publish at once', async () => {
  const w = await world({ holdFirstRecord: false, holdFirstSeq: true });
  const busy = new AbortController();
  const first = w.send(T0, { signal: busy.signal }).catch((error: Error) => error);
  await until(() => w.seqAsked());
  busy.abort();
  w.release();
  expect(await first).toMatchObject({ name: 'Busy' });
  expect((await w.stored()).map((m) => m.seq)).toEqual([1]);
  expect(w.publishedSeqs()).toEqual([]);

  const retry = await w.send(T0 + 1000);
  expect(retry.ack.seq).toBe(1);
  expect(w.publishedSeqs()).toEqual([1]);
});

it('an attempt answered Busy before it took a seq gives its claim back, so the retry is not kept waiting', async () => {
  const w = await world({ holdFirstRecord: false });
  const busy = new AbortController();
  busy.abort();
  await expect(w.send(T0, { signal: busy.signal })).rejects.toMatchObject({ name: 'Busy' });
  const retry = await w.send(T0 + 1000);
  expect(retry.ack.seq).toBe(1);
  expect(w.publishedSeqs()).toEqual([1]);
});

/** An error as the SDK throws it for an answer with this status. */
const awsError = (name: string, httpStatusCode: number) =>
  Object.assign(new Error(name), {
    name,
    $fault: httpStatusCode < 500 ? 'client' : 'server',
    $metadata: { httpStatusCode },
  });

it('an attempt whose seq DynamoDB refused (throttled) gives its claim back: the retry a moment later is acked', async () => {
  const w = await world({
    holdFirstRecord: false,
    failFirstSeq: awsError('ProvisionedThroughputExceededException', 400),
  });
  await expect(w.send(T0)).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
  // Not "still being sent" until the first attempt's life and the takeover margin have passed (30 s).
  const retry = await w.send(T0 + 200);
  expect(retry.ack.seq).toBe(1);
  expect((await w.stored()).map((m) => m.seq)).toEqual([1]);
  expect(w.publishedSeqs()).toEqual([1]);
});

it('an attempt whose seq may have been taken (a 500) keeps its claim: a retry is told to wait, then gets no gap', async () => {
  const w = await world({ holdFirstRecord: false, failFirstSeq: awsError('InternalServerError', 500) });
  await expect(w.send(T0)).rejects.toMatchObject({ name: 'InternalServerError' });
  const early = await w.send(T0 + 200).catch((error: Error) => error);
  expect(early).toMatchObject({ name: 'RateLimited' });
  // Past the fence, the retry takes the claim over and sends.
  const late = await w.send(T0 + LIFE_MS + TAKEOVER_MARGIN_MS + 1);
  expect(late.ack.seq).toBe(1);
  expect(w.publishedSeqs()).toEqual([1]);
});
