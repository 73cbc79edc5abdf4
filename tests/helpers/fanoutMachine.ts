import { join } from 'node:path';
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ROOM_INDEX_SHARDS, roomIndexShard, roomKeyOf } from '#core/aws/roomMembers';
import type { Notifier } from '#core/ports';
import { DynamoCursorStore } from '#deliver/dynamoCursor';
import type { PostDeps } from '#deliver/post';
import { type Prepared, prepareRooms } from '#deliver/prepare';
import type { LogEntry, LogStore } from '#deliver/roomLog';
import { loadTemplate } from '../../tools/infra/template';
import { statesByName } from '../../tools/local/aslStates';
import { type LocalDynamo, startDynamo } from '../../tools/local/dynamodb';
import { type DynamoFaultProxy, startDynamoFaultProxy } from '../../tools/local/dynamoFaults';
import { type ExecutionSummary, LocalStateMachine } from '../../tools/local/stepfunctions';
import type { StepFunctionsTestClock } from '../../tools/local/testClock';
import { readEvent } from './events';
import { FakeEventBus } from './fakeEventBus';
import { FakeManagementApi } from './fakeManagementApi';

/**
 * A room's events through the fan-out state machine of template.yaml (aws-local-stepfunctions against dynalite), as
 * the fan-out pipe starts it: with a batch of the FIFO fan-out queue's records (`recordsOf`), or, for a broadcast to
 * everyone, with the event itself. The real Deliver handler runs Prepare and the posts, to a fake management API.
 * `useFanoutMachine()` registers the file's set-up and clean-up hooks; its fields are set once the file's first
 * `beforeAll` has run.
 */
export type Step = { op?: string; [key: string]: unknown };

export interface FanoutMachine {
  managementApi: FakeManagementApi;
  dynamo: LocalDynamo;
  db: DynamoDBClient;
  tables: Record<string, string>;
  /** The fan-out machine, its own DynamoDB tasks (the prunes, the queries) sent to dynalite. */
  machine: LocalStateMachine;
  /** The same machine with its own DynamoDB tasks sent through `dynamodb` (e.g. a fault proxy). */
  machineWith: (dynamodb: DynamoDBClient) => LocalStateMachine;
  /** Every step Deliver ran, with what it answered (emptied before each test). */
  steps: { input: Step; output: unknown }[];
  /** Runs before a step reaches Deliver (a test's hook into what it stages; reset before each test). */
  beforeStep: (input: Step) => Promise<void>;
  /** The chat bus Deliver publishes to (a chunk's Repost, a room handed on); emptied before each test. */
  bus: FakeEventBus;
  /** The repost machine of template.yaml (statemachines/repost.asl.json), its Deliver the same as the fan-out's. */
  repostMachine: LocalStateMachine;
  /** Runs the repost machine for each Repost event on the bus, as its rule would, and takes them off the bus. */
  runReposts: () => Promise<ExecutionSummary[]>;
}

/** Small pages and chunks, so a few members span several of each. */
const SMALL_PAGES = { FanoutPageSize: '7', FanoutChunkSize: '3', FanoutMaxConcurrency: '4' };

/**
 * The local Step Functions' test clock (tools/local/testClock.ts) for these tests: every Wait and Retry pause of the
 * fan-out machine lasts 10 ms per second. Here Deliver runs in-process, with no concurrency limit whose release a
 * retry waits for, and what the tests stage (throttled posts, conflicts, failures) is counted in tries, not in
 * time, so the pauses' length changes no outcome.
 */
export const testClock = (definition: object): StepFunctionsTestClock => ({
  msPerSecond: 10,
  states: [...statesByName<{ Type: string; Retry?: unknown }>(definition)]
    .filter(([, s]) => s.Type === 'Wait' || s.Retry)
    .map(([name]) => name),
});

/** `settings`: the template's fan-out constants for this file (Mappings.Deploy; default: small pages and chunks). */
export function useFanoutMachine(settings: Record<string, string> = SMALL_PAGES) {
  const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'), { constants: settings });
  const h = {
    managementApi: new FakeManagementApi(),
    bus: new FakeEventBus(),
    steps: [],
    beforeStep: async () => undefined,
  } as unknown as FanoutMachine;

  beforeAll(async () => {
    process.env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI = await h.managementApi.start();
    process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = await h.bus.start();
    h.dynamo = await startDynamo({ tables: template.tables() });
    process.env.AWS_ENDPOINT_URL_DYNAMODB = h.dynamo.endpoint;
    h.tables = Object.fromEntries(template.tables().map((t) => [t.logicalId, t.TableName as string]));
    Object.assign(process.env, {
      CONNECTIONS_TABLE: h.tables.ConnectionsTable,
      SUBSCRIPTIONS_TABLE: h.tables.SubscriptionsTable,
      ROOMS_TABLE: h.tables.RoomsTable,
      MESSAGES_TABLE: h.tables.MessagesTable,
      LIMITS_TABLE: h.tables.LimitsTable,
    });
    h.db = new DynamoDBClient({
      endpoint: h.dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    const { handler: deliver } = await import('#deliver/index');
    const fanout = template.stateMachines().find((m) => m.logicalId === 'FanoutStateMachine');
    if (!fanout) throw new Error('FanoutStateMachine missing from template.yaml');
    // Each machine's Deliver steps: the real handler, recorded, after the test's hook.
    const invokeFunction = async (_arn: string, payload: unknown) => {
      await h.beforeStep(payload as Step);
      const output = await deliver(payload as never);
      h.steps.push({ input: payload as Step, output });
      return output;
    };
    const machineOf = (m: typeof fanout, dynamodb: DynamoDBClient) =>
      new LocalStateMachine(
        m.name,
        m.definition,
        { dynamodb, invokeFunction },
        { testClock: testClock(m.definition), type: m.type },
      );
    h.machineWith = (dynamodb) => machineOf(fanout, dynamodb);
    h.machine = h.machineWith(h.db);
    const repost = template.stateMachines().find((m) => m.logicalId === 'RepostStateMachine');
    if (!repost) throw new Error('RepostStateMachine missing from template.yaml');
    h.repostMachine = machineOf(repost, h.db);
    h.runReposts = async () => {
      const reposts = h.bus.events.filter((e) => e['detail-type'] === 'Repost');
      h.bus.events.splice(
        0,
        h.bus.events.length,
        ...h.bus.events.filter((e) => e['detail-type'] !== 'Repost'),
      );
      const runs: ExecutionSummary[] = [];
      for (const e of reposts) runs.push(await h.repostMachine.execute(e.detail));
      return runs;
    };
  });

  afterAll(async () => {
    await h.bus.stop();
    await h.managementApi.stop();
    await h.dynamo.close();
  });

  beforeEach(() => {
    const api = h.managementApi;
    api.received.clear();
    api.throttle.clear();
    api.delayMs = 0;
    api.gone.clear();
    api.beforeAnswer = undefined;
    h.steps.length = 0;
    h.bus.events.length = 0;
    h.beforeStep = async () => undefined;
  });

  /**
   * Adds `count` members to a room. By default all under the room index's shard 0 at every key level (their ids
   * chosen so), so that a few members span several pages and chunks of one key; `spread`: ids as they come, over every
   * shard of the full key level, the room's item raised to it (a big room's, as a join raises it).
   */
  async function addMembers(
    roomId: string,
    count: number,
    options: { spread?: boolean } = {},
  ): Promise<string[]> {
    const idOf = (i: number) => {
      const plain = `${roomId}-${String(i).padStart(3, '0')}=`;
      if (options.spread) return plain;
      for (let k = 0; ; k++) {
        const id = `${roomId}-${String(i).padStart(3, '0')}-${k}=`;
        if (roomIndexShard(id, ROOM_INDEX_SHARDS) === 0) return id;
      }
    };
    const ids = Array.from({ length: count }, (_, i) => idOf(i));
    if (options.spread)
      await h.db.send(
        new UpdateItemCommand({
          TableName: h.tables.RoomsTable,
          Key: { roomId: { S: roomId } },
          UpdateExpression: 'SET keyLevel = :full',
          ExpressionAttributeValues: { ':full': { N: String(ROOM_INDEX_SHARDS) } },
        }),
      );
    for (let i = 0; i < ids.length; i += 25) {
      // Each member as the functions write it: its connection, and its subscription to the room (the index entry).
      const slice = ids.slice(i, i + 25);
      const connections = slice.map((id) => ({
        PutRequest: {
          Item: {
            connectionId: { S: id },
            roomId: { S: roomId },
            username: { S: `user-${id}` },
            connectedAt: { S: new Date().toISOString() },
          },
        },
      }));
      const subscriptions = slice.map((id) => ({
        PutRequest: {
          Item: {
            connectionId: { S: id },
            roomId: { S: roomId },
            roomKey: { S: roomKeyOf(roomId, id, ROOM_INDEX_SHARDS) },
            username: { S: `user-${id}` },
          },
        },
      }));
      await h.db.send(
        new BatchWriteItemCommand({ RequestItems: { [h.tables.ConnectionsTable as string]: connections } }),
      );
      await h.db.send(
        new BatchWriteItemCommand({
          RequestItems: { [h.tables.SubscriptionsTable as string]: subscriptions },
        }),
      );
    }
    return ids;
  }

  /** A room made by `createRoom` with `count` members added by `addMembers`: their connection ids. */
  async function roomWithMembers(roomId: string, count: number, options: { spread?: boolean } = {}) {
    await createRoom(roomId);
    return addMembers(roomId, count, options);
  }

  async function createRoom(roomId: string): Promise<void> {
    await h.db.send(
      new PutItemCommand({
        TableName: h.tables.RoomsTable,
        Item: { roomId: { S: roomId }, seq: { N: '0' }, createdAt: { S: new Date().toISOString() } },
      }),
    );
  }

  /** Stores the room's next message as sendmessage does (the seq and the message), and returns its event. */
  async function send(roomId: string, seq: number, text = `m${seq}`) {
    const message = {
      roomId,
      seq,
      messageId: `${roomId}-${seq}`,
      username: 'alice',
      text,
      sentAt: new Date().toISOString(),
    };
    await h.db.send(
      new PutItemCommand({
        TableName: h.tables.MessagesTable,
        Item: {
          roomId: { S: roomId },
          seq: { N: String(seq) },
          messageId: { S: message.messageId },
          username: { S: 'alice' },
          text: { S: text },
          sentAt: { S: message.sentAt },
        },
      }),
    );
    await h.db.send(
      new UpdateItemCommand({
        TableName: h.tables.RoomsTable,
        Key: { roomId: { S: roomId } },
        UpdateExpression: 'SET seq = :seq',
        ConditionExpression: 'seq = :was',
        ExpressionAttributeValues: { ':seq': { N: String(seq) }, ':was': { N: String(seq - 1) } },
      }),
    );
    const event = readEvent<{ detail: Record<string, unknown> }>('fanout');
    const payload = JSON.stringify({ type: 'message', ...message });
    return { ...event, detail: { type: 'MessageSent', messageId: message.messageId, roomId, seq, payload } };
  }

  /** The seqs each frame a connection received carries, frame by frame (a resync frame as `resync:<afterSeq>`). */
  function framesOf(connectionId: string): (number | string)[][] {
    return (h.managementApi.received.get(connectionId) ?? []).map((raw) => {
      const frame = JSON.parse(raw) as {
        type: string;
        seq?: number;
        afterSeq?: number;
        messages?: { seq: number }[];
      };
      if (frame.type === 'message') return [frame.seq as number];
      if (frame.type === 'batch') return (frame.messages ?? []).map((m) => m.seq);
      if (frame.type === 'resync') return [`resync:${frame.afterSeq}`];
      return [frame.type];
    });
  }

  /** The connection's subscription to its room is out of the room index (the fan-out's prune), not deleted. */
  async function expectPruned(connectionId: string): Promise<void> {
    const { Item: connection } = await h.db.send(
      new GetItemCommand({
        TableName: h.tables.ConnectionsTable,
        Key: { connectionId: { S: connectionId } },
      }),
    );
    const roomId = connection?.roomId?.S as string;
    const { Item } = await h.db.send(
      new GetItemCommand({
        TableName: h.tables.SubscriptionsTable,
        Key: { connectionId: { S: connectionId }, roomId: { S: roomId } },
      }),
    );
    // Out of the room index (no more posts), kept for $disconnect to tell the room it left.
    expect(Item).toBeDefined();
    expect(Item?.roomKey).toBeUndefined();
  }

  /** In the room index (its subscription keeps its roomKey): the next fan-out posts to it. */
  async function indexed(connectionId: string, roomId: string): Promise<boolean> {
    const { Item } = await h.db.send(
      new GetItemCommand({
        TableName: h.tables.SubscriptionsTable,
        Key: { connectionId: { S: connectionId }, roomId: { S: roomId } },
      }),
    );
    return Item?.roomKey !== undefined;
  }

  /**
   * Runs a room's next executions while its turn handed it on (a RoomWake on the bus: roomLog.ts ROOM_TURN_MS, which
   * a loaded machine may reach), as the queue would, until `done`; at most `executions` of them.
   */
  async function untilDelivered(roomId: string, done: () => boolean, executions = 20): Promise<void> {
    for (let i = 0; i < executions && !done(); i++) {
      const wakes = h.bus.events.filter((e) => e['detail-type'] === 'RoomWake' && e.detail.roomId === roomId);
      h.bus.events.splice(0, h.bus.events.length, ...h.bus.events.filter((e) => !wakes.includes(e)));
      if (wakes.length === 0) return;
      const run = await h.machine.execute(recordsOf(...wakes.map((e) => ({ detail: e.detail }))));
      if (!run.ok) throw new Error(`the room's next execution failed: ${run.error} ${run.cause}`);
    }
  }

  return {
    h,
    untilDelivered,
    addMembers,
    createRoom,
    roomWithMembers,
    send,
    framesOf,
    seqsOf: (connectionId: string) => framesOf(connectionId).flat(),
    ops: () => h.steps.map((s) => s.input.op),
    expectPruned,
    indexed,
    recordsOf,
  };
}

let receipts = 0;

/**
 * The fan-out pipe's batch, as EventBridge Pipes hands it to the state machine: one SQS record per bus event, its body
 * the event's detail (RoomEventsRule's InputPath), its message group the event's room (its MessageGroupId), in the
 * order given.
 */
export function recordsOf(...events: { detail: Record<string, unknown>; [key: string]: unknown }[]) {
  return events.map((event) => {
    receipts++;
    return {
      messageId: `00000000-0000-4000-8000-${String(receipts).padStart(12, '0')}`,
      receiptHandle: `receipt-${receipts}`,
      body: JSON.stringify(event.detail),
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SequenceNumber: `18${String(receipts).padStart(18, '0')}`,
        MessageGroupId: String(event.detail.roomId),
        MessageDeduplicationId: `dedup-${receipts}`,
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: 'x',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:roomcast-FanoutQueue.fifo',
      awsRegion: 'us-east-1',
    };
  });
}

/**
 * The product's log store (DynamoCursorStore) over the log the records themselves carry: a room new to the fan-out
 * (no cursor) whose stored events are the records' messages (each record's seq and frame) and whose counter is the
 * highest of their seqs; the item SaveCursor writes (`itemOf`) is the product's own.
 */
export function recordsLogStore(input: unknown): LogStore {
  const bySeq = new Map<number, LogEntry>();
  for (const record of Array.isArray(input) ? input : []) {
    try {
      const detail = JSON.parse(String((record as { body?: unknown }).body)) as {
        seq?: unknown;
        payload?: unknown;
      };
      if (typeof detail.seq === 'number' && typeof detail.payload === 'string')
        bySeq.set(detail.seq, { seq: detail.seq, payload: detail.payload });
    } catch {
      // Not an event: Prepare drops it.
    }
  }
  const log = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  return new (class extends DynamoCursorStore {
    override async cursor() {
      return undefined;
    }
    override async head() {
      return { seq: log.at(-1)?.seq ?? 0, removed: [] };
    }
    override async storedAfter(_roomId: string, afterSeq: number, limit: number) {
      return log.filter((e) => e.seq > afterSeq).slice(0, limit);
    }
    /** A seq the records do not hold is never stored: fenced. */
    override async fence() {
      return undefined;
    }
    /** The records' log is all the room took: it sleeps once read. */
    override async sleep() {
      return true;
    }
    override async handOff() {}
  })({} as DynamoDBDocumentClient, { limits: 'unused', messages: 'unused', rooms: 'unused' }, 86_400, {
    publish: async () => undefined,
  });
}

/** Deliver's Prepare as the product runs it (prepareRooms), over the log the records carry (recordsLogStore). */
export const prepareWithoutCursor = (input: unknown): Promise<Prepared> =>
  prepareRooms(input, recordsLogStore(input));

/**
 * The machine's own DynamoDB calls through the fault proxy (Deliver's do not), which answers its writes
 * TransactionConflictException until the first such answer reaches the machine: as on AWS, where a single-item write
 * to an item an ongoing transaction writes fails, changing nothing, until the transaction ends. Registers its own
 * set-up and clean-up; call it in the file's top scope or a describe, after `useFanoutMachine`.
 */
export function useTransactionConflicts(h: FanoutMachine) {
  let faults: DynamoFaultProxy;
  let proxied: DynamoDBClient;
  let conflicted: LocalStateMachine;

  beforeAll(async () => {
    faults = await startDynamoFaultProxy({ target: h.dynamo.endpoint, host: '127.0.0.1' });
    proxied = new DynamoDBClient({
      endpoint: faults.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    proxied.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          if ((error as Error).name === 'TransactionConflictException') faults.setConflict(0);
          throw error;
        }
      },
      { step: 'initialize', name: 'transactionEnds' },
    );
    conflicted = h.machineWith(proxied);
  });

  afterAll(async () => {
    proxied.destroy();
    await faults.close();
  });

  return {
    /** Runs `event` with the machine's next writes conflicting; the execution must succeed, retrying the conflict. */
    async runMeetingConflict(event: unknown) {
      const before = faults.stats().conflicts;
      faults.setConflict(1);
      const run = await conflicted.execute(event).finally(() => faults.setConflict(0));
      // A failed execution shows as the error and the state that failed (DynamoDB.TransactionConflictException, ...).
      expect({ ok: run.ok, error: run.error, failedState: run.failedState }).toEqual({ ok: true });
      expect(faults.stats().conflicts - before).toBeGreaterThan(0);
      expect(run.retries).toBeGreaterThan(0);
    },
  };
}

/**
 * Deliver's post ports for a test of `post`: a budget store that grants every post and keeps no notes but the
 * members it is told to resync (`notes`), and a notifier that delivers each post and keeps whom it reached
 * (`posted`). A test gives what it is about: store methods over these, its own notifier `post`, its clock.
 */
export function postStage({
  store = {},
  post,
  ...rest
}: Partial<Omit<PostDeps, 'store' | 'notifier'>> & {
  store?: Partial<Record<keyof PostDeps['store'], unknown>>;
  post?: Notifier['post'];
} = {}) {
  const posted: string[] = [];
  const notes: string[] = [];
  const deps: PostDeps = {
    store: {
      reserve: async () => true,
      reserveAll: async () => true,
      refund: async () => undefined,
      markResync: async (_roomId: string, connectionId: string) => {
        notes.push(connectionId);
      },
      resyncNotes: async () => ({}),
      clearResync: async () => undefined,
      ...store,
    } as unknown as PostDeps['store'],
    notifier: {
      post:
        post ??
        (async (connectionId) => {
          posted.push(connectionId);
          return 'delivered';
        }),
      info: async () => undefined,
    } as unknown as Notifier,
    postsPerSecond: 100,
    now: () => Date.now(),
    random: () => 0,
    ...rest,
  };
  return { deps, posted, notes };
}
