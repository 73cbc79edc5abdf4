import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { LocalCloud, LocalCloudOptions } from '../../tools/local/cloud';
import { ChatClient, FRAME_TIMEOUT_MS, type Frame, isPresence, settledRoom } from './chatClient';
import { adminDynamo, startTestCloud, type TestCloud } from './localCloud';

/** A test file's local cloud and the clients its tests opened (see `roomCloud`). */
export interface RoomCloud {
  /** The cloud with its logs, invocations and `settle()`. */
  readonly test: TestCloud;
  readonly cloud: LocalCloud;
  /** A DynamoDB client signed with the local admin key, made on first use and destroyed after the file. */
  readonly db: DynamoDBClient;
  /** The physical name of a table of template.yaml, by its logical id (`RoomsTable`). */
  table(logicalId: string): string;
  /** How many connections the Connections table holds (a strongly consistent count). */
  storedConnections(): Promise<number>;
  /** Sets the number `attribute` of the item at `key` (its string key attributes) in table `logicalId`, past the routes. */
  setNumber(logicalId: string, key: Record<string, string>, attribute: string, value: number): Promise<void>;
  /**
   * The room's audit rows as `action actor>target`, with ` detail` when `withDetail` and the row has one: the
   * Sessions table's UsernameIndex under `#moderation#<roomId>`, where the owners' and moderators' actions are kept.
   */
  auditOf(roomId: string, withDetail?: boolean): Promise<string[]>;
  /** A client of the cloud (a guest without `username`), closed by the fixture. */
  connect(username?: string): Promise<ChatClient>;
  /** Closes this client when the fixture closes its own. */
  keep(client: ChatClient): void;
  /** A room created by `owner` with `others` joined by its link, the owner having seen each arrive. */
  roomOf(owner: ChatClient, ...others: ChatClient[]): Promise<{ roomId: string; key: string }>;
  /** One guest per name, the first creating a room and the others joining, each join seen by everyone. */
  settledRoom(names: string[]): Promise<{ roomId: string; members: ChatClient[] }>;
}

/**
 * Starts a local cloud (`options` over startTestCloud's) before a test file's tests and closes it after them, with the
 * clients its tests opened: after each test, or after the file when `closeClients` is `'file'` (tests that share
 * clients). `patienceMs` bounds each connect and each reply the fixture waits for: long where a test loads a shared
 * machine. `reset` puts the cloud's fault switches back after each test, before its clients close (a client closed
 * under a fault would meet it). `drain` waits, each time the fixture has closed its clients, until every $disconnect
 * has removed its connection (15 s at most) and the fan-outs are done: each test (or the file's end) finds no stored
 * connection, and closing the cloud cuts no write. `settle` lets the fan-outs finish before the cloud closes. Called
 * from the top of the file, or of a `describe` for a cloud of that block's own.
 */
export function roomCloud(
  options: Partial<LocalCloudOptions> = {},
  {
    closeClients = 'test',
    patienceMs = FRAME_TIMEOUT_MS,
    reset,
    drain = false,
    settle = false,
  }: {
    closeClients?: 'test' | 'file';
    patienceMs?: number;
    reset?: (cloud: LocalCloud) => void;
    drain?: boolean;
    settle?: boolean;
  } = {},
): RoomCloud {
  let test: TestCloud | undefined;
  let db: DynamoDBClient | undefined;
  const open: ChatClient[] = [];
  const closeOpen = async () => {
    await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
    if (!drain || !test) return;
    const deadline = Date.now() + 120_000;
    while ((await fixture.storedConnections()) > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await test.settle();
  };
  beforeAll(async () => {
    test = await startTestCloud(options);
  });
  afterEach(async () => {
    if (reset && test) reset(test.cloud);
    if (closeClients === 'test') await closeOpen();
  });
  afterAll(async () => {
    await closeOpen();
    if (settle) await test?.settle();
    db?.destroy();
    await test?.cloud.close();
  });
  const fixture: RoomCloud = {
    get test() {
      if (!test) throw new Error('the local cloud is not started yet');
      return test;
    },
    get cloud() {
      return fixture.test.cloud;
    },
    get db() {
      db ??= adminDynamo(fixture.cloud);
      return db;
    },
    table(logicalId) {
      const table = fixture.cloud.template.tables().find((t) => t.logicalId === logicalId);
      if (!table?.TableName) throw new Error(`template.yaml has no ${logicalId}`);
      return table.TableName;
    },
    async storedConnections() {
      const count = new ScanCommand({
        TableName: fixture.table('ConnectionsTable'),
        Select: 'COUNT',
        ConsistentRead: true,
      });
      return (await fixture.db.send(count)).Count ?? 0;
    },
    async setNumber(logicalId, key, attribute, value) {
      await fixture.db.send(
        new UpdateItemCommand({
          TableName: fixture.table(logicalId),
          Key: Object.fromEntries(Object.entries(key).map(([name, id]) => [name, { S: id }])),
          UpdateExpression: 'SET #attribute = :value',
          ExpressionAttributeNames: { '#attribute': attribute },
          ExpressionAttributeValues: { ':value': { N: String(value) } },
        }),
      );
    },
    async auditOf(roomId, withDetail = false) {
      const { Items = [] } = await fixture.db.send(
        new QueryCommand({
          TableName: fixture.table('SessionsTable'),
          IndexName: 'UsernameIndex',
          KeyConditionExpression: 'username = :room',
          ExpressionAttributeValues: { ':room': { S: `#moderation#${roomId}` } },
        }),
      );
      const row = (item: Record<string, AttributeValue>) =>
        `${item.action?.S} ${item.actor?.S}>${item.target?.S ?? ''}`;
      return Items.map((item) => (withDetail ? `${row(item)} ${item.detail?.S ?? ''}`.trim() : row(item)));
    },
    async connect(username) {
      const client = await ChatClient.connect(fixture.cloud.wsUrl, username, patienceMs);
      open.push(client);
      return client;
    },
    keep(client) {
      open.push(client);
    },
    async roomOf(owner, ...others) {
      const created = await owner.expectReply({ action: 'createroom' }, patienceMs);
      const roomId = created.roomId as string;
      const key = created.inviteKey as string;
      for (const other of others) {
        await other.expectReply({ action: 'joinroom', roomId, key }, patienceMs);
        await owner.next(isPresence(roomId, 'join', other.username), patienceMs);
      }
      return { roomId, key };
    },
    settledRoom(names) {
      return settledRoom(fixture.cloud.wsUrl, names, open, patienceMs);
    },
  };
  return fixture;
}

/** Sends a message and waits for its answer: the ack, or the error refusing it. */
export const say = (client: ChatClient, message: string): Promise<Frame> =>
  client.ask({ action: 'sendmessage', message });

/**
 * Posts `body` to the bucket with an `upload` frame's presigned POST, its fields changed by `fields` (a test forging
 * one), from `origin` when given (a browser's CORS): S3's status, its error code, headers and text.
 */
export async function postUpload(
  upload: Frame,
  body: Buffer,
  {
    origin,
    fields = (f) => f,
  }: { origin?: string; fields?: (f: Record<string, string>) => Record<string, string> } = {},
) {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields({ ...(upload.fields as Record<string, string>) })))
    form.append(name, value);
  form.append('file', new Blob([body]));
  const res = await fetch(upload.url as string, {
    method: 'POST',
    body: form,
    ...(origin && { headers: { origin } }),
  });
  const text = await res.text();
  return { status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1], headers: res.headers, text };
}
