import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoConnectionStore } from '#core/aws/connections';
import { DynamoRoomStore } from '#core/aws/rooms';
import type { Notifier } from '#core/ports';
import { DynamoSendStore } from '#messages/dynamoSends';
import { DynamoRoomEntry } from '#rooms/dynamoEntry';
import { loadTemplate } from '../../tools/infra/template';
import { startDynamo } from '../../tools/local/dynamodb';
import { type DynamoFaultProxy, startDynamoFaultProxy } from '../../tools/local/dynamoFaults';

/** The tables of template.yaml in a fresh local DynamoDB (dynalite with transactions), for tests of the real DynamoDB adapters. */
export interface TemplateTables {
  /** A document client as the local admin. */
  db: DynamoDBDocumentClient;
  /** Where the local DynamoDB listens. */
  endpoint: string;
  /** The physical name of a table, by its logical id in template.yaml. */
  table(logicalId: string): string;
  close(): Promise<void>;
}

/**
 * A document client as the local admin at `endpoint`. `maxAttempts: 1` for a client behind the fault proxy: the SDK
 * does not retry what the proxy injects, so the code under test meets every fault itself.
 */
export function localDocumentClient(endpoint: string, maxAttempts?: number): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      ...(maxAttempts !== undefined && { maxAttempts }),
    }),
  );
}

export async function startTemplateTables(): Promise<TemplateTables> {
  const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'));
  const dynamo = await startDynamo({ tables: template.tables() });
  const db = localDocumentClient(dynamo.endpoint);
  return {
    db,
    endpoint: dynamo.endpoint,
    table: (logicalId) => template.tables().find((t) => t.logicalId === logicalId)?.TableName ?? '',
    close: async () => {
      db.destroy();
      await dynamo.close();
    },
  };
}

/** A test file's template tables (see `templateTables`), read once its `beforeAll` has run. */
export interface TableFixture extends Omit<TemplateTables, 'close'> {
  /** With `faults`: the fault proxy in front of the local DynamoDB, its switches put back to none after each test. */
  readonly faults: DynamoFaultProxy;
  /** With `faults`: a document client through the fault proxy that tries each call once (it meets every fault). */
  readonly faulty: DynamoDBDocumentClient;
}

/**
 * Starts the template's tables before a test file's tests and closes them after, with a fault proxy in front when
 * `faults` is set. Called from the top of the file; its fields are read inside tests and their `beforeAll`s.
 */
export function templateTables({ faults: withFaults = false }: { faults?: boolean } = {}): TableFixture {
  let tables: TemplateTables | undefined;
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined)
      throw new Error(
        `${what} is not started (templateTables(${withFaults ? '{ faults }' : ''}) runs in beforeAll)`,
      );
    return value;
  };
  beforeAll(async () => {
    tables = await startTemplateTables();
  });
  const proxied = withFaults
    ? faultProxy(
        () => started(tables, 'the local DynamoDB').endpoint,
        (endpoint) => localDocumentClient(endpoint, 1),
      )
    : undefined;
  afterAll(async () => {
    await tables?.close();
  });
  return {
    get db() {
      return started(tables, 'the local DynamoDB').db;
    },
    get endpoint() {
      return started(tables, 'the local DynamoDB').endpoint;
    },
    table: (logicalId) => started(tables, 'the local DynamoDB').table(logicalId),
    get faults() {
      return started(proxied, 'the fault proxy').faults;
    },
    get faulty() {
      return started(proxied, 'the fault proxy').client;
    },
  };
}

/**
 * A fault proxy in front of the local DynamoDB at `target()` (read in `beforeAll`), with `client(endpoint)` made
 * through it, for the tests of the file or describe it is called in: started before them, its switches put back to
 * none after each test, both closed after them. Make the client with `maxAttempts: 1`, so the code under test meets
 * every fault itself.
 */
export function faultProxy<C extends { destroy(): void }>(
  target: () => string,
  client: (endpoint: string) => C,
): { readonly faults: DynamoFaultProxy; readonly client: C } {
  let proxied: { faults: DynamoFaultProxy; client: C } | undefined;
  beforeAll(async () => {
    const faults = await startDynamoFaultProxy({ target: target(), host: '127.0.0.1' });
    proxied = { faults, client: client(faults.endpoint) };
  });
  afterEach(() => {
    proxied?.faults.setConflict(0);
    proxied?.faults.setThrottle(0);
  });
  afterAll(async () => {
    proxied?.client.destroy();
    await proxied?.faults.close();
  });
  const started = () => {
    if (!proxied) throw new Error('the fault proxy is not started yet');
    return proxied;
  };
  return {
    get faults() {
      return started().faults;
    },
    get client() {
      return started().client;
    },
  };
}

/** What the store factories below read: a document client and the template's table names. */
type Tables = Pick<TemplateTables, 'db' | 'table'>;

/** The connections store of the template's tables, through `client` (the local admin's by default). */
export const connectionStore = (tables: Tables, client = tables.db) =>
  new DynamoConnectionStore(client, tables.table('ConnectionsTable'), {
    table: tables.table('SubscriptionsTable'),
    index: 'RoomSubscribers',
  });

/** The rooms store of the template's tables. */
export const roomStore = (tables: Tables, client = tables.db) =>
  new DynamoRoomStore(client, tables.table('RoomsTable'));

/** The join/leave transactions over the template's rooms, connections and subscriptions. */
export const roomEntry = (tables: Tables, client = tables.db) =>
  new DynamoRoomEntry(client, {
    rooms: tables.table('RoomsTable'),
    connections: tables.table('ConnectionsTable'),
    subscriptions: tables.table('SubscriptionsTable'),
  });

/** The tables a send (and a change) writes: the room's seq, the message, the send's record. */
export const sendTables = (tables: Pick<TemplateTables, 'table'>) => ({
  rooms: tables.table('RoomsTable'),
  messages: tables.table('MessagesTable'),
  sends: tables.table('SendsTable'),
});

/** The sends store of the template's tables. */
export const sendStore = (tables: Tables, client = tables.db) =>
  new DynamoSendStore(client, sendTables(tables));

/** A message store with no history, for joins whose replies' history is not under test. */
export const noHistory = () => ({
  after: async () => [],
  latest: async () => [],
  before: async () => [],
  quoted: async () => new Map(),
  reactions: async () => new Map(),
  pins: async () => [],
});

/** A notifier that delivers every post and keeps the frames each connection was sent, parsed, in order. */
export function recordingNotifier() {
  const posts = new Map<string, Record<string, unknown>[]>();
  const notifier: Notifier = {
    post: async (id, payload) => {
      posts.set(id, [...(posts.get(id) ?? []), JSON.parse(payload)]);
      return 'delivered';
    },
    info: async () => undefined,
  };
  return { notifier, posts };
}

/**
 * A connection of `username` in `roomId`, as a join leaves it, and the room's item with its seq at 0 unless `room` is
 * false (the lobby has no item).
 */
export async function seatSender(
  tables: Tables,
  {
    roomId,
    connectionId,
    username,
    room = true,
  }: { roomId: string; connectionId: string; username: string; room?: boolean },
) {
  if (room)
    await tables.db.send(new PutCommand({ TableName: tables.table('RoomsTable'), Item: { roomId, seq: 0 } }));
  await tables.db.send(
    new PutCommand({
      TableName: tables.table('ConnectionsTable'),
      Item: { connectionId, roomId, username, connectedAt: new Date().toISOString() },
    }),
  );
}
