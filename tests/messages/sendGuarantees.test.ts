import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { busyFrom, PublishFailed } from '#core/errors';
import type { ChatEvent, EventPublisher } from '#core/ports';
import { DynamoMessageStore } from '#messages/dynamoMessages';
import type { DynamoSendStore } from '#messages/dynamoSends';
import { sendMessage } from '#messages/sending';
import type { SendDeps } from '#messages/sendTypes';
import { connectionStore, seatSender, sendStore, templateTables } from '../helpers/templateTables';

/**
 * The send path's guarantees against the local DynamoDB, with the real adapters: one message under one seq whatever
 * is retried or raced, senders of one room never refused for each other, the first ack for every retry, a seq taken
 * and never stored left as a gap history passes, and each message published by every attempt that finds it stored,
 * the same event each time, across a failed PutEvents, an attempt that dies between two writes, a sender answered
 * Busy, and DynamoDB refusing writes (injected by the fault proxy, as DynamoDB answers them).
 */

const tables = templateTables({ faults: true });
const table = (logicalId: string) => tables.table(logicalId);
let n = 0;

/** A room of its own for each test, a sender in it, and what the bus received. */
async function world({ room = 'own' }: { room?: 'own' | 'lobby' } = {}) {
  const roomId = room === 'lobby' ? 'lobby' : `R${++n}`;
  const connectionId = `conn-${++n}`;
  await seatSender(tables, { roomId, connectionId, username: `alice-${n}`, room: room === 'own' });
  const published: ChatEvent[] = [];
  // The events for the bus's consumers (MessageSent); the fan-out's wakes are the wake tests' (tests/messages/wakes.test.ts).
  let publish = async (all: Parameters<EventPublisher['publish']>[0]) => {
    const events = all.filter((e): e is ChatEvent => e.type !== 'RoomWake' && e.type !== 'Repost');
    published.push(...events);
  };
  const deps = (client = tables.db, sends = sendStore(tables, client)): SendDeps => ({
    connections: connectionStore(tables, client),
    sends,
    events: { publish: (events) => publish(events) },
    now: () => new Date(),
    messageRetentionDays: 7,
  });
  const stored = async () =>
    (
      await tables.db.send(
        new QueryCommand({
          TableName: table('MessagesTable'),
          KeyConditionExpression: 'roomId = :r',
          ExpressionAttributeValues: { ':r': roomId },
          ConsistentRead: true,
        }),
      )
    ).Items ?? [];
  const roomSeq = async () =>
    (
      await tables.db.send(
        new GetCommand({ TableName: table('RoomsTable'), Key: { roomId }, ConsistentRead: true }),
      )
    ).Item?.seq;
  const publishedSeqs = () => published.map((e) => (JSON.parse(e.payload) as { seq: number }).seq);
  const send = (
    clientMsgId: string | undefined,
    extra: {
      signal?: AbortSignal;
      replyTo?: number;
      client?: DynamoDBDocumentClient;
      sends?: DynamoSendStore;
    } = {},
  ) =>
    sendMessage(deps(extra.client, extra.sends), {
      connectionId,
      text: `text of ${clientMsgId}`,
      clientMsgId,
      signal: extra.signal,
      replyTo: extra.replyTo,
    });
  /** What `history` answers after `afterSeq`. */
  const history = async (afterSeq = 0) =>
    new DynamoMessageStore(tables.db, table('MessagesTable'), table('ReactionsTable')).after(
      roomId,
      afterSeq,
      50,
      Math.floor(Date.now() / 1000),
    );
  return {
    roomId,
    send,
    sendStore: (client = tables.db) => sendStore(tables, client),
    history,
    stored,
    roomSeq,
    publishedSeqs,
    /** The events published, in order. */
    published: () => [...published],
    setPublish: (next: typeof publish) => {
      publish = next;
    },
  };
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
const messagesOf = (items: Record<string, unknown>[]) => items.filter((item) => item.gap !== true);

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

  it('acks a retry with the first ack, takes no seq, stores nothing new and publishes the same event again', async () => {
    const w = await world();
    const first = await w.send('m-1');
    const again = await w.send('m-1');
    expect(again.ack).toEqual(first.ack);
    expect(await w.stored()).toHaveLength(1);
    // The retry answered from the record: the room's counter did not move, so it left no gap either.
    expect(await w.roomSeq()).toBe(1);
    // It cannot know whether the first attempt's PutEvents went through: it publishes the same event, which the
    // fan-out queue keeps once (template.yaml, RoomEventsRule).
    expect(w.publishedSeqs()).toEqual([1, 1]);
    expect(w.published()[1]).toEqual(w.published()[0]);
  });

  it('stores one message for five attempts of one clientMsgId racing; all get its ack, the losers seqs are gaps', async () => {
    const w = await world();
    const acks = (await Promise.all(Array.from({ length: 5 }, () => w.send('m-race')))).map((r) => r.ack);
    expect(new Set(acks.map((a) => `${a.seq}/${a.messageId}`)).size).toBe(1);
    const stored = await w.stored();
    expect(messagesOf(stored)).toHaveLength(1);
    // Every seq the room counted holds the message or a gap marker: nothing is left for a reader to wait for.
    expect(stored.map((item) => item.seq)).toEqual(range(1, Number(await w.roomSeq())));
    expect((await w.history()).map((m) => m.seq)).toEqual([acks[0]?.seq]);
    // Each attempt published what it found stored: one event, five times.
    expect(w.published()).toHaveLength(5);
    expect(new Set(w.published().map((e) => JSON.stringify(e)))).toEqual(
      new Set([JSON.stringify(w.published()[0])]),
    );
    expect(w.publishedSeqs()[0]).toBe(acks[0]?.seq);
  });

  it('acks 20 sends of one client sent back to back with the seqs 1 to 20, none refused', async () => {
    const w = await world();
    // No waits and no retries: a send refused (Busy) fails the test.
    const acks = await Promise.all(range(0, 20).map((i) => w.send(`m-${i}`)));
    expect(acks.map((r) => r.ack.seq).sort((a, b) => a - b)).toEqual(range(1, 20));
    const stored = await w.stored();
    expect(stored.map((m) => m.seq)).toEqual(range(1, 20));
    expect(new Set(stored.map((m) => m.clientMsgId)).size).toBe(20);
    expect(await w.roomSeq()).toBe(20);
    expect(w.publishedSeqs().sort((a, b) => a - b)).toEqual(range(1, 20));
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

describe('a seq taken and never stored', () => {
  it('an attempt that dies between taking the seq and putting the message leaves a gap history passes; the retry acks the next seq', async () => {
    const w = await world();
    // The function dies (a crash, a timeout) after the counter's ADD and before any put.
    const dying = w.sendStore();
    dying.record = () => new Promise(() => undefined);
    void w.send('m-1', { sends: dying });
    while (Number((await w.roomSeq()) ?? 0) < 1) await new Promise((r) => setTimeout(r, 5));
    const retry = await w.send('m-1');
    const next = await w.send('m-2');
    expect([retry.ack.seq, next.ack.seq]).toEqual([2, 3]);
    expect((await w.history()).map((m) => m.seq)).toEqual([2, 3]);
    expect((await w.history(1)).map((m) => m.seq)).toEqual([2, 3]);
    expect(w.publishedSeqs()).toEqual([2, 3]);
  });

  it('an attempt that dies between its record and its message: the retry puts the message under the recorded seq and acks it', async () => {
    const w = await world();
    const dying = w.sendStore();
    let recorded = false;
    dying.put = () => {
      recorded = true;
      return new Promise(() => undefined);
    };
    void w.send('m-1', { sends: dying });
    while (!recorded) await new Promise((r) => setTimeout(r, 5));
    const { ack } = await w.send('m-1');
    expect(ack.seq).toBe(1);
    expect(await w.roomSeq()).toBe(1);
    expect(await w.stored()).toEqual([expect.objectContaining({ seq: 1, messageId: ack.messageId })]);
    // The dead attempt never stored the message: the retry that put it publishes it, so the room gets it live rather
    // than from history.
    expect(w.publishedSeqs()).toEqual([1]);
  });
});

/** A copy of a stored item with the keys of it and of every map inside it in reverse order. */
function reversedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversedKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([k, v]) => [k, reversedKeys(v)]),
  );
}

/** A send store whose message put waits, once reached, until released: an attempt held back mid-send. */
function heldPut(store: DynamoSendStore) {
  const realPut = store.put.bind(store);
  let reached = false;
  let release: () => void = () => undefined;
  const released = new Promise<void>((r) => {
    release = r;
  });
  store.put = async (message, expiresAt) => {
    reached = true;
    await released;
    return realPut(message, expiresAt);
  };
  return {
    store,
    release: () => release(),
    reached: async () => {
      while (!reached) await new Promise((r) => setTimeout(r, 5));
    },
  };
}

describe('an attempt whose message put is slow', () => {
  it('stores the message once when its retry puts it first from the record: the slow put finds its own message, not an older event', async () => {
    const w = await world();
    // The first attempt's put is held back (SDK retries under throttling) until its retry has put the message.
    const slow = heldPut(w.sendStore());
    const first = w.send('m-slow', { sends: slow.store });
    await slow.reached();
    const retry = await w.send('m-slow');
    slow.release();
    const { ack } = await first;
    expect(ack).toEqual(retry.ack);
    expect(messagesOf(await w.stored())).toEqual([
      expect.objectContaining({ seq: retry.ack.seq, messageId: retry.ack.messageId }),
    ]);
    expect((await w.history()).map((m) => m.seq)).toEqual([retry.ack.seq]);
    // Both published, each finding the message stored: one event's detail twice, which the fan-out queue's
    // content-based deduplication keeps once (template.yaml, RoomEventsRule).
    expect(w.published()).toHaveLength(2);
    expect(w.published()[1]).toEqual(w.published()[0]);
  });

  it("publishes a retry's event byte for byte as the first attempt's, though DynamoDB gives the stored maps' keys in another order", async () => {
    const w = await world();
    const original = await w.send('m-0');
    await w.send('m-1', { replyTo: original.ack.seq });
    // The retry reads the message back; DynamoDB's maps (replyTo here) promise no key order.
    const reordering = w.sendStore();
    const realMessage = reordering.message.bind(reordering);
    reordering.message = async (roomId, seq) => {
      const found = await realMessage(roomId, seq);
      return found && (reversedKeys(found) as typeof found);
    };
    await w.send('m-1', { replyTo: original.ack.seq, sends: reordering });
    const events = w.published();
    expect(events).toHaveLength(3);
    expect(JSON.parse(String(events[1]?.payload))).toMatchObject({ replyTo: { seq: original.ack.seq } });
    expect(events[2]).toEqual(events[1]);
  });
});

describe("a room's first seq", () => {
  it('marks seq 1 a gap when another sender stored seq 2 before the first-seq check read the room', async () => {
    const w = await world();
    const first = w.sendStore();
    const realNewest = first.newestSeq.bind(first);
    const realTake = first.takeSeq.bind(first);
    let took = false;
    let otherStored: () => void = () => undefined;
    const stored = new Promise<void>((r) => {
      otherStored = r;
    });
    first.takeSeq = async (...args) => {
      const taken = await realTake(...args);
      took = true;
      return taken;
    };
    // The first sender's check of its seq 1 reads the room's newest event only after the second has stored seq 2.
    first.newestSeq = async (roomId) => {
      await stored;
      return realNewest(roomId);
    };
    const slow = w.send('m-first', { sends: first });
    while (!took) await new Promise((r) => setTimeout(r, 5));
    const other = await w.send('m-other');
    otherStored();
    const { ack } = await slow;
    expect(other.ack.seq).toBe(2);
    expect(ack.seq).toBe(3);
    // Seq 1 is a marked gap, not a hole readers wait on: history passes it at once.
    expect(await w.stored()).toContainEqual(expect.objectContaining({ seq: 1, gap: true }));
    expect((await w.history()).map((m) => m.seq)).toEqual([2, 3]);
  });
});

describe('a room re-created after its item expired', () => {
  it('continues after the highest seq its stored messages hold, and the fan-out cursor starts there', async () => {
    const w = await world();
    for (const id of ['m-1', 'm-2', 'm-3']) await w.send(id);
    // The room's item expires (TTL) while its messages live on; the same DM room is opened again at seq 0.
    await tables.db.send(
      new PutCommand({ TableName: table('RoomsTable'), Item: { roomId: w.roomId, seq: 0 } }),
    );
    const { ack } = await w.send('m-4');
    const again = await w.send('m-5');
    expect([ack.seq, again.ack.seq]).toEqual([4, 5]);
    expect(messagesOf(await w.stored()).map((m) => m.clientMsgId)).toEqual([
      'm-1',
      'm-2',
      'm-3',
      'm-4',
      'm-5',
    ]);
    const room = await tables.db.send(
      new GetCommand({ TableName: table('RoomsTable'), Key: { roomId: w.roomId }, ConsistentRead: true }),
    );
    expect(room.Item).toMatchObject({ seq: 5, deliveredSeq: 3 });
  });
});

describe('publishing across failures', () => {
  it('tells the sender to retry when PutEvents fails: each retry publishes the message under its first seq', async () => {
    const w = await world();
    w.setPublish(async () => {
      throw new PublishFailed('bus refused', 1);
    });
    await expect(w.send('m-1')).rejects.toMatchObject({
      publicMessage: expect.stringMatching(/stored but could not be sent.*same clientMsgId/),
    });
    expect(await w.stored()).toHaveLength(1);
    expect(w.publishedSeqs()).toEqual([]);
    const all: Parameters<EventPublisher['publish']>[0] = [];
    w.setPublish(async (events) => {
      all.push(...events);
    });
    const retry = await w.send('m-1');
    const again = await w.send('m-1');
    expect(retry.ack.seq).toBe(1);
    expect(again.ack).toEqual(retry.ack);
    const published = all.filter((e): e is ChatEvent => e.type === 'MessageSent');
    expect(published.map((e) => JSON.parse(e.payload).seq)).toEqual([1, 1]);
    expect(published[1]).toEqual(published[0]);
    // Each retry wakes the room for the seq: the first attempt's wake never went out.
    expect(all.filter((e) => e.type === 'RoomWake').map((e) => e.seq)).toEqual([1, 1]);
    expect(await w.stored()).toHaveLength(1);
  });

  it('an attempt that dies inside its PutEvents: the retry acks it and publishes the same event', async () => {
    const w = await world();
    // PutEvents never answers: the function is gone (a crash, a timeout) between storing and the bus, and nobody can
    // know whether its event reached the bus.
    const lost: Parameters<EventPublisher['publish']>[0] = [];
    w.setPublish((events) => {
      lost.push(...events);
      return new Promise<void>(() => undefined);
    });
    void w.send('m-1');
    // The dead attempt must be inside its publish before the retry's publish is set, however long that takes (the
    // test's timeout bounds it).
    while (lost.length === 0) await new Promise((r) => setTimeout(r, 10));
    const published: Parameters<EventPublisher['publish']>[0] = [];
    w.setPublish(async (events) => {
      published.push(...events);
    });
    const { ack } = await w.send('m-1');
    expect(ack.seq).toBe(1);
    expect(await w.stored()).toEqual([expect.objectContaining({ seq: 1, messageId: ack.messageId })]);
    // The room gets it live either way: the retry publishes the same event and wakes the room for its seq, whether
    // or not the dead attempt's wake went out (the fan-out posts a seq once, from the log).
    expect(published[0]).toEqual(lost[0]);
    expect(published[1]).toMatchObject({ type: 'RoomWake', seq: 1 });
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

describe('DynamoDB refusing writes', () => {
  const throttled = () =>
    Promise.reject(
      Object.assign(new Error('Rate of requests exceeds'), {
        name: 'ProvisionedThroughputExceededException',
      }),
    );

  it('marks a seq whose record write was refused as a gap at once, so the room is not held up waiting for it', async () => {
    const w = await world();
    const refused = w.sendStore();
    refused.record = throttled;
    const error = await w.send('m-1', { sends: refused }).catch((e: unknown) => e);
    expect(busyFrom(error)).toMatchObject({ code: 'BUSY' });
    // The fan-out passes a gap marker at once; a seq missing without one holds every later message until it is fenced.
    expect(await w.stored()).toEqual([expect.objectContaining({ seq: 1, gap: true })]);
    const { ack } = await w.send('m-1');
    expect(ack.seq).toBe(2);
    expect((await w.history()).map((m) => m.seq)).toEqual([2]);
  });

  it('marks a seq as a gap when the message put of a send without a clientMsgId is refused', async () => {
    const w = await world();
    const refused = w.sendStore();
    refused.put = throttled;
    const error = await w.send(undefined, { sends: refused }).catch((e: unknown) => e);
    expect(busyFrom(error)).toMatchObject({ code: 'BUSY' });
    expect(await w.stored()).toEqual([expect.objectContaining({ seq: 1, gap: true })]);
  });

  it('leaves a seq its record holds unmarked when the message put is refused: the retry stores the message there', async () => {
    const w = await world();
    const refused = w.sendStore();
    refused.put = throttled;
    await expect(w.send('m-1', { sends: refused })).rejects.toMatchObject({ code: 'BUSY' });
    expect(await w.stored()).toEqual([]);
    const { ack } = await w.send('m-1');
    expect(ack.seq).toBe(1);
    expect(await w.stored()).toEqual([expect.objectContaining({ seq: 1, messageId: ack.messageId })]);
    // The retry put the message, and publishes it: the room gets it live.
    expect(w.publishedSeqs()).toEqual([1]);
  });

  it('waits out a join holding the room item in a transaction (TransactionConflictException) and stores the message once', async () => {
    const w = await world();
    const conflictsBefore = tables.faults.stats().conflicts;
    tables.faults.setConflict(1);
    const sending = w.send('m-1', { client: tables.faulty });
    for (let i = 0; i < 200 && tables.faults.stats().conflicts === conflictsBefore; i++)
      await new Promise((r) => setTimeout(r, 2));
    tables.faults.setConflict(0);
    const { ack } = await sending;
    expect(tables.faults.stats().conflicts).toBeGreaterThan(conflictsBefore);
    expect(ack.seq).toBe(1);
    expect(await w.stored()).toHaveLength(1);
    expect(w.publishedSeqs()).toEqual([1]);
  });

  it('answers BUSY when DynamoDB throttles past the retries, having taken no seq; the retry stores it once', async () => {
    const w = await world();
    tables.faults.setThrottle(1);
    const refused = await w.send('m-1', { client: tables.faulty }).catch((error: unknown) => error);
    // The route answers what busyFrom makes of it (functions/core/websocket.ts).
    expect(busyFrom(refused)).toMatchObject({ code: 'BUSY', limit: 'dynamodb-throttling' });
    expect(await w.roomSeq()).toBe(0);
    tables.faults.setThrottle(0);
    const { ack } = await w.send('m-1', { client: tables.faulty });
    expect(ack.seq).toBe(1);
    expect(await w.stored()).toHaveLength(1);
  });
});
