// DynamoDB for the local cloud: dynalite (in memory, or LevelDB on disk) with the template's tables created, and the
// transactions dynalite lacks answered in front of it (local/dynamoTransactions.ts).

import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { CreateTableInput } from '@aws-sdk/client-dynamodb';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  paginateListTables,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import type { TemplateFile } from '../infra/template';
import { patchConditionFailureItem } from './dynamoConditionFailure';
import { createTransactions, type DynaliteStore, DynamoError, transactionScope } from './dynamoTransactions';
import type { RequestGuard } from './http';

export interface StartDynamoOptions {
  tables: CreateTableInput[];
  /** LevelDB directory: tables and items survive a restart. In memory when absent. */
  dataDir?: string;
  port?: number;
  host?: string;
  /** Checks every request before dynalite runs it (the local cloud's IAM); a refusal is answered as DynamoDB does. */
  guard?: DynamoGuard;
}

export type { RequestGuard } from './http';

export interface DynamoGuard {
  region: string;
  accountId: string;
  check: RequestGuard;
}

export interface LocalDynamo {
  endpoint: string;
  close(): Promise<void>;
}

interface DynaliteOptions {
  createTableMs: number;
  deleteTableMs: number;
  updateTableMs: number;
  path?: string;
}

// dynalite ships no type declarations: require() gives `any`, narrowed here to the one function we use.
const dynalite = require('dynalite') as (options: DynaliteOptions) => Server;

type Item = Record<string, Record<string, unknown>>;
type Callback = (err?: Error | null) => void;
interface IndexDb {
  put(key: string, item: Item, cb: Callback): void;
  del(key: string, cb: Callback): void;
}
interface TableDescription {
  TableName: string;
  KeySchema: { AttributeName: string }[];
  AttributeDefinitions: { AttributeName: string; AttributeType: string }[];
  LocalSecondaryIndexes?: IndexDescription[];
  GlobalSecondaryIndexes?: IndexDescription[];
}
interface IndexDescription {
  IndexName: string;
  KeySchema: { AttributeName: string }[];
  Projection: { ProjectionType: string; NonKeyAttributes?: string[] };
}
interface DynaliteDb {
  createKey(item: Item, table: TableDescription, keySchema?: unknown): string;
  createIndexKey(item: Item, table: TableDescription, keySchema: unknown): string;
  updateIndexes(
    store: unknown,
    table: TableDescription,
    existing: Item | null,
    item: Item | null,
    cb: Callback,
  ): void;
}

/**
 * dynalite keys an index entry by the index key plus only 24 bits of a hash of the item's table key, so two items
 * with the same index key can overwrite each other's entry: with 5,000 connections in one room, one or two were
 * missing from RoomIndex and never got a message. This keys entries by the whole hash instead, for writes
 * (updateIndexes) and for Query pagination (createIndexKey) alike.
 */
function patchDynaliteIndexKeys(): void {
  const db = require('dynalite/db') as DynaliteDb & { roomcastPatched?: boolean };
  if (db.roomcastPatched) return;
  db.roomcastPatched = true;
  const tableKeyDigest = (item: Item, table: TableDescription) => {
    const hash = createHash('md5');
    for (const { AttributeName } of table.KeySchema) hash.update(JSON.stringify(item[AttributeName] ?? null));
    return hash.digest('hex');
  };
  db.createIndexKey = (item, table, keySchema) =>
    db.createKey(item, table, keySchema) + tableKeyDigest(item, table);
  db.updateIndexes = (store, table, existing, item, cb) => {
    const writes: ((done: Callback) => void)[] = [];
    const deletes: ((done: Callback) => void)[] = [];
    const tableKeys = table.KeySchema.map((k) => k.AttributeName);
    for (const kind of ['Local', 'Global'] as const) {
      for (const index of table[`${kind}SecondaryIndexes`] ?? []) {
        const indexDb = (store as { getIndexDb(k: string, t: string, i: string): IndexDb }).getIndexDb(
          kind,
          table.TableName,
          index.IndexName,
        );
        const indexKeys = index.KeySchema.map((k) => k.AttributeName);
        let key: string | undefined;
        if (item && indexKeys.every((k) => item[k] != null)) {
          const projected =
            index.Projection.ProjectionType === 'ALL'
              ? item
              : Object.fromEntries(
                  [...indexKeys, ...tableKeys, ...(index.Projection.NonKeyAttributes ?? [])].map((a) => [
                    a,
                    item[a],
                  ]),
                );
          const putKey = db.createIndexKey(projected as Item, table, index.KeySchema);
          key = putKey;
          writes.push((done) => indexDb.put(putKey, projected as Item, done));
        }
        if (existing && indexKeys.every((k) => existing[k] != null)) {
          const oldKey = db.createIndexKey(existing, table, index.KeySchema);
          if (oldKey !== key) deletes.push((done) => indexDb.del(oldKey, done));
        }
      }
    }
    const all = (tasks: ((done: Callback) => void)[], then: Callback) => {
      let left = tasks.length;
      let failed = false;
      if (left === 0) return then();
      for (const task of tasks) {
        task((err) => {
          if (failed) return;
          if (err) {
            failed = true;
            return then(err);
          }
          if (--left === 0) then();
        });
      }
    };
    all(deletes, (err) => (err ? cb(err) : all(writes, cb)));
  };
}

/** Only what CreateTable accepts: LocalTable carries extras (logicalId, ttlAttribute). */
function createInput(table: CreateTableInput): CreateTableInput {
  const {
    TableName,
    AttributeDefinitions,
    KeySchema,
    BillingMode,
    ProvisionedThroughput,
    GlobalSecondaryIndexes,
    LocalSecondaryIndexes,
  } = table;
  return {
    TableName,
    AttributeDefinitions,
    KeySchema,
    BillingMode,
    ProvisionedThroughput,
    GlobalSecondaryIndexes,
    LocalSecondaryIndexes,
  };
}

async function waitActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesReady = (Table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    if (Table?.TableStatus === 'ACTIVE' && indexesReady) return;
    if (Date.now() > deadline) throw new Error(`DynamoDB table ${tableName} is not ACTIVE after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The IAM action and resource ARNs of one DynamoDB request (the Service Authorization Reference for DynamoDB): the
 * table, or `table/<name>/index/<index>` when a Query or Scan reads an index, or each table of a batch. A request
 * that names no known operation or no table gets no action: dynalite answers its validation error.
 */
export function dynamoRequestScope(
  target: string | undefined,
  body: Buffer,
  region: string,
  accountId: string,
): { action?: string; resources: string[]; checks?: { action: string; resources: string[] }[] } {
  const operation = /^DynamoDB_\d{8}\.([A-Za-z]+)$/.exec(target ?? '')?.[1];
  if (!operation) return { resources: [] };
  let input: unknown;
  try {
    input = body.length > 0 ? JSON.parse(body.toString('utf8')) : {};
  } catch {
    return { resources: [] };
  }
  if (!isObj(input)) return { resources: [] };
  const action = `dynamodb:${operation}`;
  const table = (name: unknown) =>
    typeof name === 'string' && name.startsWith('arn:')
      ? name
      : `arn:aws:dynamodb:${region}:${accountId}:table/${String(name)}`;
  if (operation === 'ListTables') return { action, resources: ['*'] };
  // A transaction is authorized item by item, by the action each item performs (docs/PARITY.md).
  if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
    const checks = transactionScope(operation, input, table);
    return { action: checks[0]?.action, resources: checks[0]?.resources ?? [], checks };
  }
  if (isObj(input.RequestItems)) return { action, resources: Object.keys(input.RequestItems).map(table) };
  if (typeof input.ResourceArn === 'string') return { action, resources: [input.ResourceArn] };
  if (typeof input.TableName !== 'string') return { resources: [] };
  const index = (operation === 'Query' || operation === 'Scan') && typeof input.IndexName === 'string';
  return { action, resources: [`${table(input.TableName)}${index ? `/index/${input.IndexName}` : ''}`] };
}

function refuse(res: ServerResponse, code: string, message: string): void {
  // DynamoDB's JSON 1.0 error shape; AccessDeniedException comes with a capital `Message` (docs/PARITY.md).
  const text = JSON.stringify({
    __type: `com.amazon.coral.service#${code}`,
    [code === 'AccessDeniedException' ? 'Message' : 'message']: message,
  });
  res.writeHead(400, {
    'Content-Type': 'application/x-amz-json-1.0',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomBytes(26).toString('hex').toUpperCase(),
  });
  res.end(text);
}

/** How long close() waits for requests in flight to be answered. */
const CLOSE_DRAIN_MS = 2000;

/** Counts the requests being answered; drained() resolves when none is (or after `maxMs`). */
function countRequests(server: Server): { drained(maxMs: number): Promise<void> } {
  let count = 0;
  let waiters: (() => void)[] = [];
  server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
    count++;
    res.once('close', () => {
      count--;
      if (count === 0) for (const wake of waiters.splice(0)) wake();
    });
  });
  return {
    drained: (maxMs) =>
      count === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              waiters = waiters.filter((w) => w !== done);
              resolve();
            }, maxMs);
            const done = () => {
              clearTimeout(timer);
              resolve();
            };
            waiters.push(done);
          }),
  };
}

/** The operation an `X-Amz-Target` header names (`DynamoDB_20120810.PutItem` -> `PutItem`). */
const operationOf = (target: string | undefined) => /^DynamoDB_\d{8}\.([A-Za-z]+)$/.exec(target ?? '')?.[1];

function answer(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/x-amz-json-1.0',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomBytes(26).toString('hex').toUpperCase(),
  });
  res.end(text);
}

/**
 * Puts the local cloud's own front in place of dynalite's request listener, in the same process: the body is read
 * once, checked by the guard (when there is one), and then either answered here (the transactions dynalite lacks) or
 * replayed to dynalite (which reads only the method, url, headers and the data/end events of a request).
 */
function frontRequests(server: Server, store: DynaliteStore, guard: DynamoGuard | undefined): void {
  const [dynaliteListener] = server.listeners('request') as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void)[];
  if (!dynaliteListener) throw new Error('dynalite has no request listener to front');
  const transactions = createTransactions(store);
  server.removeAllListeners('request');
  const serve = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const operation = operationOf(req.headers['x-amz-target'] as string | undefined);
    if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
      let input: Record<string, unknown>;
      try {
        input = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        return answer(res, 400, { __type: 'com.amazon.coral.service#SerializationException' });
      }
      const run =
        operation === 'TransactWriteItems'
          ? transactions.transactWriteItems(input)
          : transactions.transactGetItems(input);
      run.then(
        (output) => answer(res, 200, output),
        (error: Error) =>
          error instanceof DynamoError
            ? answer(res, 400, (error as DynamoError).body())
            : answer(res, 500, {
                __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
                message: error.message,
              }),
      );
      return;
    }
    if (operation === 'PutItem' || operation === 'UpdateItem' || operation === 'DeleteItem') {
      let input: unknown;
      try {
        input = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        return toDynalite(req, res, body); // dynalite answers the SerializationException
      }
      transactions.refuseHeldItem(operation, (input ?? {}) as Record<string, unknown>).then(
        () => toDynalite(req, res, body),
        (error: unknown) =>
          error instanceof DynamoError ? answer(res, 400, error.body()) : toDynalite(req, res, body),
      );
      return;
    }
    toDynalite(req, res, body);
  };
  const toDynalite = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const replay = Object.assign(new EventEmitter(), {
      method: req.method,
      url: req.url,
      headers: req.headers,
    });
    dynaliteListener(replay as unknown as IncomingMessage, res);
    if (body.length > 0) replay.emit('data', body);
    replay.emit('end');
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => {});
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (!guard) return serve(req, res, body);
      const { action, resources, checks } = dynamoRequestScope(
        req.headers['x-amz-target'] as string | undefined,
        body,
        guard.region,
        guard.accountId,
      );
      const check = async () => {
        for (const one of checks ?? [{ action, resources }]) {
          const refusal = await guard.check(req, body, one.action, one.resources);
          if (refusal) return refusal;
        }
        return undefined;
      };
      check().then(
        (refusal) => (refusal ? refuse(res, refusal.code, refusal.message) : serve(req, res, body)),
        (error: Error) => refuse(res, 'InternalServerError', error.message),
      );
    });
  });
}

/** dynalite builds its store inside dynalite(): this hands the next one built to `take`. */
function captureStore(take: (store: DynaliteStore) => void): void {
  const db = require('dynalite/db') as { create(options: unknown): DynaliteStore };
  const create = db.create;
  db.create = (options) => {
    db.create = create;
    const store = create(options);
    take(store);
    return store;
  };
}

export async function startDynamo(opts: StartDynamoOptions): Promise<LocalDynamo> {
  patchDynaliteIndexKeys();
  patchConditionFailureItem();
  let store: DynaliteStore | undefined;
  captureStore((built) => {
    store = built;
  });
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(opts.dataDir !== undefined && { path: opts.dataDir }),
  });
  if (!store) throw new Error('dynalite built no store');
  frontRequests(server, store, opts.guard);
  // Long keep-alive, as the gateway's: with Node's 5 s default, a client thread starved of CPU for a few seconds
  // (a background-priority state machine under overload) reused a pooled socket the server had just closed, and
  // its Query failed with `TimeoutError: socket hang up`.
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  const inFlight = countRequests(server);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  // dynalite closes its database with the server: requests still being answered (an IAM check, an index
  // update) would then fail on a closed database and throw out of dynalite's callback, taking the process down.
  const close = async (): Promise<void> => {
    await inFlight.drained(CLOSE_DRAIN_MS);
    const closed = new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
    });
    // No keep-alive socket may bring a request once the database is closing.
    server.closeAllConnections();
    await closed;
  };

  // Tables are created as the local admin (docs/PARITY.md), in the region the guard expects.
  const client = new DynamoDBClient({
    endpoint,
    region: opts.guard?.region ?? 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const existing = new Set<string>();
    for await (const page of paginateListTables({ client }, {})) {
      for (const name of page.TableNames ?? []) existing.add(name);
    }
    for (const table of opts.tables) {
      if (!table.TableName) throw new Error('startDynamo: a table has no TableName');
      if (!existing.has(table.TableName)) {
        try {
          await client.send(new CreateTableCommand(createInput(table)));
        } catch (err) {
          // Listed a moment ago as absent; a concurrent creator is fine, anything else is not.
          if (!(err instanceof ResourceInUseException)) throw err;
        }
      }
      await waitActive(client, table.TableName);
    }
  } catch (err) {
    // The start-up error is the one worth reporting; a failure to close on top of it would only mask it.
    await close().catch(() => undefined);
    throw err;
  } finally {
    client.destroy();
  }
  return { endpoint, close };
}

/** What the DynamoDB thread (local/dynamoThread.ts) is started with. */
export interface DynamoThreadInit {
  /** The template as the main thread read it (the thread does not parse it again). */
  template: TemplateFile;
  parameters?: Record<string, string>;
  /** The secrets the main thread's IAM handed to the sandboxes and state machines (LocalIam.secrets()). */
  secrets: Record<string, string>;
  dataDir?: string;
  host?: string;
}

export type DynamoThreadMessage =
  | { kind: 'ready'; endpoint: string }
  | { kind: 'log'; line: string }
  | { kind: 'closed' }
  | { kind: 'error'; message: string };

/**
 * Starts DynamoDB (startDynamo with the IAM guard) in a worker thread of its own (`workerPath`, the built
 * local/dynamoThread.ts), so its event loop is not the one the gateway, the management API and the state machines
 * share. IAM denials come back through `log`.
 */
export function startDynamoThread(
  workerPath: string,
  init: DynamoThreadInit,
  log: (line: string) => void,
): Promise<LocalDynamo> {
  const worker = new Worker(workerPath, {
    workerData: init,
    // The SDK's notice that its 2027 versions need Node 22 says nothing about this thread's tables.
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return new Promise<LocalDynamo>((resolve, reject) => {
    let closed: (() => void) | undefined;
    worker.on('message', (message: DynamoThreadMessage) => {
      if (message.kind === 'log') log(message.line);
      else if (message.kind === 'closed') closed?.();
      else if (message.kind === 'error') {
        reject(new Error(`local DynamoDB thread: ${message.message}`));
        closed?.();
      } else
        resolve({
          endpoint: message.endpoint,
          close: async () => {
            await new Promise<void>((done) => {
              closed = done;
              worker.postMessage({ kind: 'close' });
            });
            await worker.terminate();
          },
        });
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      reject(new Error(`local DynamoDB thread exited with code ${code} before it was ready`));
      closed?.();
    });
  });
}
