// DynamoDB for the local cloud: dynalite (in memory, or LevelDB on disk) with the template's tables created, and the
// transactions dynalite lacks answered in front of it (tools/local/dynamoTransactions.ts).

import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import type { CreateTableInput } from '@aws-sdk/client-dynamodb';
import type { TemplateFile } from '../infra/template';
import { type AwsProfile, type LatencyName, waitCall } from './awsProfile';
import { patchConditionFailureItem } from './dynamoConditionFailure';
import {
  type Charge,
  createKeyThroughput,
  type KeyedTable,
  type KeyStat,
  type KeyThroughput,
  keyValue,
  throttleBody,
} from './dynamoKeyThroughput';
import { adminCall, createTables } from './dynamoTables';
import { createTransactions, type DynaliteStore, DynamoError, transactionScope } from './dynamoTransactions';
import type { ConditionContext, RequestGuard } from './http';

export interface StartDynamoOptions {
  tables: CreateTableInput[];
  /** LevelDB directory: tables and items survive a restart. In memory when absent. */
  dataDir?: string;
  port?: number;
  host?: string;
  /** Checks every request before dynalite runs it (the local cloud's IAM); a refusal is answered as DynamoDB does. */
  guard?: DynamoGuard;
  /**
   * Tests only: DynamoDB's per-partition-key limits (1,000 WCU/s, 3,000 RCU/s) times this, within (0, 1]; default 1.
   * The limits are always enforced (tools/local/dynamoKeyThroughput.ts).
   */
  keyLimitScale?: number;
  /**
   * Tests only: the clock of the per-key windows (epoch ms), so a test of the limits decides when a second has passed
   * instead of depending on how fast a loaded machine sends; default Date.now.
   */
  keyThroughputNow?: () => number;
  /**
   * `--gsi-lag-ms`: a global secondary index shows a write this many ms after the write is answered (default 0: at
   * once). GSIs are updated asynchronously and a Query of one may miss a write just made (Amazon DynamoDB Developer
   * Guide, "Using Global Secondary Indexes in DynamoDB", "Read consistency for global secondary indexes"); a local
   * index is updated with its item.
   */
  gsiLagMs?: number;
  /**
   * `--aws-profile`: each item, query or transaction call waits the profile's latency before it is served (the
   * tables' management calls take none). Absent, calls are served at once.
   */
  profile?: AwsProfile;
}

export type { RequestGuard } from './http';

export interface DynamoGuard {
  region: string;
  accountId: string;
  check: RequestGuard;
}

export interface LocalDynamo {
  endpoint: string;
  /**
   * Writes and reads per partition key value (of a table, or of a global secondary index) since the start or the
   * last resetKeyStats(), busiest by writes first: at most `top` keys, optionally of one table.
   */
  keyStats(options?: { top?: number; table?: string }): Promise<KeyStat[]>;
  resetKeyStats(): Promise<void>;
  /**
   * Tests only, an in-process store with gsiLagMs: applies every index update still waiting out its lag now, in write
   * order, and resolves once they are applied — so a test of what the lag hides holds the lag open as long as it
   * needs (a lag of minutes) instead of racing a short one on a loaded machine.
   */
  flushIndexLag?(): Promise<void>;
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
  itemSize(item: Item): number;
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
 * missing from the room index and never got a message. This keys entries by the whole hash instead, for writes
 * (updateIndexes) and for Query pagination (createIndexKey) alike.
 */
function patchDynaliteIndexKeys(): void {
  const db = require('dynalite/db') as DynaliteDb & { roomcastPatched?: boolean; writeIndexes?: unknown };
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
    // A global index's entries, written gsiLagMs after the item when the store has a lag (GSIs are eventually
    // consistent; a local index is updated with its item).
    const lag = gsiLagOf.get(store as object);
    const laggedWrites: ((done: Callback) => void)[] = [];
    const laggedDeletes: ((done: Callback) => void)[] = [];
    const tableKeys = table.KeySchema.map((k) => k.AttributeName);
    for (const kind of ['Local', 'Global'] as const) {
      const [writes_, deletes_] =
        kind === 'Global' && lag && lag.ms > 0 ? [laggedWrites, laggedDeletes] : [writes, deletes];
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
          writes_.push((done) => indexDb.put(putKey, projected as Item, done));
        }
        if (existing && indexKeys.every((k) => existing[k] != null)) {
          const oldKey = db.createIndexKey(existing, table, index.KeySchema);
          if (oldKey !== key) deletes_.push((done) => indexDb.del(oldKey, done));
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
    if (lag && (laggedWrites.length > 0 || laggedDeletes.length > 0)) {
      // Applied in the order the items were written: every update waits the same lag, then the ones before it.
      const apply = () => {
        clearTimeout(timer);
        lag.waiting.delete(apply);
        lag.chain = lag.chain.then(
          () => new Promise<void>((done) => all(laggedDeletes, () => all(laggedWrites, () => done()))),
        );
      };
      // Unreferenced: a lag still running never keeps a process alive (the server does while it serves).
      const timer = setTimeout(apply, lag.ms).unref();
      lag.waiting.add(apply);
    }
    all(deletes, (err) => (err ? cb(err) : all(writes, cb)));
  };
  // Every PutItem, UpdateItem and DeleteItem (a BatchWriteItem's items too) updates its indexes here, with the old
  // and the new item, under the item's lock and before the item is written: the write is charged to its partition
  // keys here, and a write over a key's limit fails before anything is written. Transactions charge all their
  // items at once before writing (tools/local/dynamoTransactions.ts) and write through `writeIndexes`.
  const writeIndexes = db.updateIndexes;
  db.writeIndexes = writeIndexes;
  db.updateIndexes = (store, table, existing, item, cb) => {
    const throughput = throughputOf.get(store as object);
    if (throughput) {
      const refused = throughput.chargeWrites(throughput.writeCharges(table, existing, item, false));
      if (refused.length > 0)
        return cb(
          Object.assign(new Error('throttled'), {
            statusCode: 400,
            body: throttleBody(refused.map((r) => r.throttle)),
          }),
        );
    }
    writeIndexes(store, table, existing, item, cb);
  };
}

/** The global indexes' lag of each dynalite store (StartDynamoOptions.gsiLagMs), and its chain of late updates. */
const gsiLagOf = new WeakMap<object, { ms: number; chain: Promise<void>; waiting: Set<() => void> }>();

/** The key throughput of each dynalite store (one per startDynamo). */
const throughputOf = new WeakMap<object, KeyThroughput>();

/** Only what CreateTable accepts: LocalTable carries extras (logicalId, ttlAttribute). */
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
  /** A table's partition key attribute, by table name: what dynamodb:LeadingKeys is read from. */
  hashKeyOfTable?: (tableName: string) => string | undefined,
): { action?: string; resources: string[]; checks?: ScopeCheck[] } {
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
    const checks: ScopeCheck[] = hashKeyOfTable
      ? transactionItemChecks(operation, input, table, hashKeyOfTable)
      : transactionScope(operation, input, table);
    return { action: checks[0]?.action, resources: checks[0]?.resources ?? [], checks };
  }
  if (isObj(input.RequestItems)) {
    const tables = Object.keys(input.RequestItems);
    if (!hashKeyOfTable) return { action, resources: tables.map(table) };
    // One check per table, each with the partition keys of its own items (a batch's keys are per table).
    const requests = input.RequestItems;
    const checks = tables.map((name) => {
      const part = requests[name];
      const keyed = isObj(part)
        ? Array.isArray(part.Keys)
          ? part.Keys
          : []
        : Array.isArray(part)
          ? part.map((w) =>
              isObj(w) && isObj(w.PutRequest)
                ? w.PutRequest.Item
                : isObj(w) && isObj(w.DeleteRequest)
                  ? w.DeleteRequest.Key
                  : undefined,
            )
          : [];
      const context = isObj(part) ? readContext(operation, part) : undefined;
      return withLeadingKeys({ action, resources: [table(name)], context }, hashKeyOfTable(name), keyed);
    });
    return { action, resources: tables.map(table), checks };
  }
  if (typeof input.ResourceArn === 'string') return { action, resources: [input.ResourceArn] };
  if (typeof input.TableName !== 'string') return { resources: [] };
  const index = (operation === 'Query' || operation === 'Scan') && typeof input.IndexName === 'string';
  const resources = [`${table(input.TableName)}${index ? `/index/${input.IndexName}` : ''}`];
  const hashKey = hashKeyOfTable?.(input.TableName);
  const context = readContext(operation, input);
  if (!hashKey || index)
    return { action, resources, ...(context && { checks: [{ action, resources, context }] }) };
  // dynamodb:LeadingKeys: the partition key value of the item (GetItem, PutItem, UpdateItem, DeleteItem) or of the
  // Query's key condition; a Scan names none. Index Queries are left without it (roomcast conditions none).
  const keyed =
    operation === 'Query'
      ? [{ [hashKey]: queryKeyValue(input, hashKey) }]
      : [isObj(input.Key) ? input.Key : isObj(input.Item) ? input.Item : undefined];
  if (operation === 'Scan')
    return { action, resources, ...(context && { checks: [{ action, resources, context }] }) };
  return { action, resources, checks: [withLeadingKeys({ action, resources, context }, hashKey, keyed)] };
}

/** One IAM check of a request: an action on its resources, with the condition keys the request sets. */
export interface ScopeCheck {
  action: string;
  resources: string[];
  context?: ConditionContext;
}

/** A key attribute's value as IAM compares it (`{"S":"a"}` -> `a`, `{"N":"1"}` -> `1`). */
function keyValueText(value: unknown): string | undefined {
  if (!isObj(value)) return undefined;
  for (const type of ['S', 'N', 'B']) if (typeof value[type] === 'string') return value[type] as string;
  return undefined;
}

/**
 * `check` with dynamodb:LeadingKeys: the partition key values of `keyed` (keys or items) under `hashKey` (IAM User
 * Guide / DynamoDB developer guide, "Using IAM policy conditions for fine-grained access control"). Left without
 * the key when a value cannot be read: dynalite then answers the request's validation error.
 */
function withLeadingKeys(check: ScopeCheck, hashKey: string | undefined, keyed: unknown[]): ScopeCheck {
  if (!hashKey) return check;
  const values = keyed.map((k) => (isObj(k) ? keyValueText(k[hashKey]) : undefined));
  if (values.length === 0 || values.some((v) => v === undefined)) return check;
  return {
    ...check,
    context: { ...check.context, 'dynamodb:LeadingKeys': [...new Set(values as string[])] },
  };
}

/** The reads that name the attributes they return (ProjectionExpression, AttributesToGet). */
const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan']);

/**
 * A read's fine-grained access keys (DynamoDB developer guide, "Using IAM policy conditions for fine-grained access
 * control", docs/PARITY.md): `dynamodb:Attributes`, the top-level attribute names its ProjectionExpression (its
 * `#name` placeholders resolved) or AttributesToGet asks for; `dynamodb:Select`, a Query's or Scan's Select, else
 * SPECIFIC_ATTRIBUTES with a projection and ALL_ATTRIBUTES without one (the API's default), for GetItem and
 * BatchGetItem too: AWS's attribute-level pattern lists both with `StringEqualsIfExists dynamodb:Select
 * SPECIFIC_ATTRIBUTES` as what keeps them from returning other attributes, so the twin refuses their unprojected
 * reads under it (the stricter reading). A read that names no attributes sets no `dynamodb:Attributes` (a
 * `ForAllValues` condition then holds). Writes set neither key here (no roomcast statement conditions them).
 */
function readContext(operation: string, part: Obj): ConditionContext | undefined {
  if (!READS.has(operation)) return undefined;
  const names = isObj(part.ExpressionAttributeNames) ? part.ExpressionAttributeNames : {};
  const projected =
    typeof part.ProjectionExpression === 'string'
      ? part.ProjectionExpression.split(',').map((path) => {
          const top = path.trim().split(/[.[]/)[0] ?? '';
          return top.startsWith('#') ? String(names[top] ?? top) : top;
        })
      : Array.isArray(part.AttributesToGet)
        ? part.AttributesToGet.map(String)
        : undefined;
  const context: ConditionContext = {};
  if (projected && projected.length > 0) context['dynamodb:Attributes'] = [...new Set(projected)];
  context['dynamodb:Select'] =
    typeof part.Select === 'string' ? part.Select : projected ? 'SPECIFIC_ATTRIBUTES' : 'ALL_ATTRIBUTES';
  return context;
}

/** A transaction's checks, item by item (its own action and table, its partition key as dynamodb:LeadingKeys). */
function transactionItemChecks(
  operation: string,
  input: Obj,
  table: (name: unknown) => string,
  hashKeyOfTable: (tableName: string) => string | undefined,
): ScopeCheck[] {
  const action = {
    Put: 'PutItem',
    Update: 'UpdateItem',
    Delete: 'DeleteItem',
    ConditionCheck: 'ConditionCheckItem',
    Get: 'GetItem',
  };
  const checks: ScopeCheck[] = [];
  for (const element of Array.isArray(input.TransactItems) ? input.TransactItems : []) {
    if (!isObj(element)) continue;
    for (const [kind, name] of Object.entries(action)) {
      const part = element[kind];
      if (!isObj(part) || (operation === 'TransactGetItems') !== (kind === 'Get')) continue;
      const keyed = isObj(part.Key) ? part.Key : part.Item;
      checks.push(
        withLeadingKeys(
          { action: `dynamodb:${name}`, resources: [table(part.TableName)] },
          hashKeyOfTable(String(part.TableName)),
          [keyed],
        ),
      );
    }
  }
  return checks;
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

/** The AWS profile's latency a DynamoDB operation waits (none for the tables' own management). */
function profileLatencyOf(operation: string | undefined): LatencyName | undefined {
  switch (operation) {
    case 'GetItem':
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return 'dynamodbItem';
    case 'Query':
    case 'Scan':
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return 'dynamodbQuery';
    case 'TransactWriteItems':
    case 'TransactGetItems':
      return 'dynamodbTransaction';
    default:
      return undefined;
  }
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
function frontRequests(
  server: Server,
  store: DynaliteStore,
  guard: DynamoGuard | undefined,
  throughput: KeyThroughput,
  hashKeyOfTable?: (tableName: string) => string | undefined,
  profile?: AwsProfile,
): void {
  const [dynaliteListener] = server.listeners('request') as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void)[];
  if (!dynaliteListener) throw new Error('dynalite has no request listener to front');
  const transactions = createTransactions(store, undefined, throughput);
  const reads = readCharges(store);
  server.removeAllListeners('request');
  const serve = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const operation = operationOf(req.headers['x-amz-target'] as string | undefined);
    if (operation === 'GetItem' || operation === 'Query' || operation === 'BatchGetItem') {
      let input: unknown;
      try {
        input = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        return toDynalite(req, res, body); // dynalite answers the SerializationException
      }
      // A request whose table or key cannot be read is charged nothing: dynalite answers its error.
      reads.of(operation, isObj(input) ? input : {}).then(
        (charges) => {
          const refused = throughput.chargeReads(charges);
          if (refused.length > 0) return answer(res, 400, throttleBody(refused.map((r) => r.throttle)));
          toDynalite(req, res, body);
        },
        () => toDynalite(req, res, body),
      );
      return;
    }
    if (operation === 'CreateTable' || operation === 'DeleteTable' || operation === 'UpdateTable')
      reads.forget();
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
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const latency = profileLatencyOf(operationOf(req.headers['x-amz-target'] as string | undefined));
      if (profile && latency) await waitCall(profile, latency);
      if (!guard) return serve(req, res, body);
      const { action, resources, checks } = dynamoRequestScope(
        req.headers['x-amz-target'] as string | undefined,
        body,
        guard.region,
        guard.accountId,
        hashKeyOfTable,
      );
      const check = async () => {
        for (const one of checks ?? [{ action, resources } as ScopeCheck]) {
          const refusal = await guard.check(req, body, one.action, one.resources, one.context);
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

/** The attribute a key schema partitions by. */
const hashKeyOf = (schema: { AttributeName: string; KeyType?: string }[] | undefined) =>
  (schema?.find((k) => k.KeyType === 'HASH') ?? schema?.[0])?.AttributeName;

/** The value a Query's key condition gives the partition key `attribute` (`#n = :v`, `n = :v`, or KeyConditions). */
function queryKeyValue(input: Obj, attribute: string): Record<string, unknown> | undefined {
  const names = isObj(input.ExpressionAttributeNames) ? input.ExpressionAttributeNames : {};
  const values = isObj(input.ExpressionAttributeValues) ? input.ExpressionAttributeValues : {};
  if (typeof input.KeyConditionExpression === 'string') {
    for (const m of input.KeyConditionExpression.matchAll(
      /([#\w.-]+)\s*=\s*(:[\w-]+)|(:[\w-]+)\s*=\s*([#\w.-]+)/g,
    )) {
      const name = (m[1] ?? m[4]) as string;
      const value = (m[2] ?? m[3]) as string;
      if ((name.startsWith('#') ? names[name] : name) === attribute) {
        const v = values[value];
        return isObj(v) ? v : undefined;
      }
    }
  }
  const condition = isObj(input.KeyConditions) ? input.KeyConditions[attribute] : undefined;
  const v =
    isObj(condition) && Array.isArray(condition.AttributeValueList)
      ? condition.AttributeValueList[0]
      : undefined;
  return isObj(v) ? v : undefined;
}

/**
 * The RCU a GetItem, Query or BatchGetItem is charged before it runs, on each partition key it reads: one read unit
 * (4 KB) per item or Query, 1 strongly consistent and 0.5 eventually consistent. The size read is not known before the
 * read, so a read of more than 4 KB is charged as 4 KB (docs/PARITY.md).
 */
function readCharges(store: DynaliteStore) {
  const tables = new Map<string, Promise<KeyedTable>>();
  const tableOf = (name: unknown): Promise<KeyedTable> => {
    if (typeof name !== 'string') return Promise.reject(new Error('no table'));
    let table = tables.get(name);
    if (!table) {
      table = new Promise<KeyedTable>((resolve, reject) =>
        store.getTable(name, (err, t) =>
          err || !t ? reject(err ?? new Error('no table')) : resolve(t as unknown as KeyedTable),
        ),
      );
      table.catch(() => tables.delete(name));
      tables.set(name, table);
    }
    return table;
  };
  const units = (consistent: unknown) => (consistent === true ? 1 : 0.5);
  return {
    /** Table descriptions change with CreateTable, DeleteTable and UpdateTable. */
    forget: () => tables.clear(),
    async of(operation: string, input: Obj): Promise<Charge[]> {
      if (operation === 'BatchGetItem') {
        const charges: Charge[] = [];
        for (const [name, request] of Object.entries(isObj(input.RequestItems) ? input.RequestItems : {})) {
          if (!isObj(request) || !Array.isArray(request.Keys)) continue;
          const table = await tableOf(name);
          const attribute = hashKeyOf(table.KeySchema);
          for (const k of request.Keys) {
            const key = attribute && isObj(k) ? keyValue(k[attribute] as Record<string, unknown>) : undefined;
            if (key !== undefined) charges.push({ table: name, key, units: units(request.ConsistentRead) });
          }
        }
        return charges;
      }
      const table = await tableOf(input.TableName);
      if (operation === 'GetItem') {
        const attribute = hashKeyOf(table.KeySchema);
        const k = isObj(input.Key) && attribute ? input.Key[attribute] : undefined;
        const key = isObj(k) ? keyValue(k) : undefined;
        return key === undefined ? [] : [{ table: table.TableName, key, units: units(input.ConsistentRead) }];
      }
      const index =
        typeof input.IndexName === 'string'
          ? table.GlobalSecondaryIndexes?.find((i) => i.IndexName === input.IndexName)
          : undefined;
      // A local secondary index shares its table's partition key and partitions.
      const attribute = hashKeyOf(index ? index.KeySchema : table.KeySchema);
      const key = attribute ? keyValue(queryKeyValue(input, attribute)) : undefined;
      if (key === undefined) return [];
      return [
        {
          table: table.TableName,
          ...(index && { index: index.IndexName }),
          key,
          units: units(!index && input.ConsistentRead),
        },
      ];
    },
  };
}

/** dynalite builds its store inside dynalite(): this hands the next one built to `take`. */
/**
 * `(name)` resolves the next time dynalite stores the named table's description: it creates a table CREATING and
 * stores it again ACTIVE a moment later, so the start waits on that rather than on a fixed pause.
 */
function tableStored(store: DynaliteStore): (tableName: string) => Promise<void> {
  const waiting = new Map<string, (() => void)[]>();
  const tableDb = (store as unknown as { tableDb: { put(key: string, value: unknown, cb?: Callback): void } })
    .tableDb;
  const put = tableDb.put.bind(tableDb);
  tableDb.put = (key, value, cb) =>
    put(key, value, (err?: Error | null) => {
      cb?.(err);
      for (const wake of waiting.get(key)?.splice(0) ?? []) wake();
    });
  return (tableName) =>
    new Promise<void>((resolve) => {
      const list = waiting.get(tableName) ?? [];
      list.push(resolve);
      waiting.set(tableName, list);
    });
}

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
  const db = require('dynalite/db') as DynaliteDb;
  const throughput = createKeyThroughput({
    scale: opts.keyLimitScale,
    region: opts.guard?.region ?? 'us-east-1',
    accountId: opts.guard?.accountId ?? '000000000000',
    itemSize: (item) => db.itemSize(item),
    now: opts.keyThroughputNow,
  });
  throughputOf.set(store, throughput);
  const lag = opts.gsiLagMs
    ? { ms: opts.gsiLagMs, chain: Promise.resolve(), waiting: new Set<() => void>() }
    : undefined;
  if (lag) gsiLagOf.set(store, lag);
  const hashKeys = new Map(
    opts.tables.map((t) => [
      t.TableName as string,
      hashKeyOf(t.KeySchema as { AttributeName: string; KeyType?: string }[] | undefined),
    ]),
  );
  frontRequests(
    server,
    store,
    opts.guard,
    throughput,
    (name) => hashKeys.get(name.startsWith('arn:') ? name.slice(name.indexOf(':table/') + 7) : name),
    opts.profile,
  );
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
  try {
    await createTables(
      adminCall(endpoint, opts.guard?.region ?? 'us-east-1'),
      opts.tables,
      tableStored(store),
    );
  } catch (err) {
    // The start-up error is the one worth reporting; a failure to close on top of it would only mask it.
    await close().catch(() => undefined);
    throw err;
  }
  return {
    endpoint,
    keyStats: async (options) => throughput.stats(options),
    resetKeyStats: async () => throughput.reset(),
    // A Set iterates in insertion order: the updates are applied in the order they were written.
    flushIndexLag: async () => {
      for (const apply of [...(lag?.waiting ?? [])]) apply();
      await lag?.chain;
    },
    close,
  };
}

/** What the DynamoDB thread (tools/local/dynamoThread.ts) is started with. */
export interface DynamoThreadInit {
  /** The template as the main thread read it (the thread does not parse it again). */
  template: TemplateFile;
  parameters?: Record<string, string>;
  /** The secrets the main thread's IAM handed to the sandboxes and state machines (LocalIam.secrets()). */
  secrets: Record<string, string>;
  dataDir?: string;
  host?: string;
  /** StartDynamoOptions.keyLimitScale. */
  keyLimitScale?: number;
  /** StartDynamoOptions.gsiLagMs. */
  gsiLagMs?: number;
  /** The AWS profile by name (StartDynamoOptions.profile). */
  awsProfile?: string;
}

/** What the main thread asks the DynamoDB thread. */
export type DynamoThreadRequest =
  | { kind: 'close' }
  | { kind: 'keyStats'; id: number; options?: { top?: number; table?: string } }
  | { kind: 'resetKeyStats'; id: number }
  | { kind: 'flushIndexLag'; id: number };

export type DynamoThreadMessage =
  | { kind: 'ready'; endpoint: string }
  | { kind: 'keyStats'; id: number; stats: KeyStat[] }
  | { kind: 'resetKeyStats'; id: number }
  | { kind: 'flushIndexLag'; id: number }
  | { kind: 'log'; line: string }
  | { kind: 'closed' }
  | { kind: 'error'; message: string };

/**
 * Starts DynamoDB (startDynamo with the IAM guard) in a worker thread of its own (`workerPath`, the built
 * tools/local/dynamoThread.ts), so its event loop is not the one the gateway, the management API and the state
 * machines share. IAM denials come back through `log`.
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
    let asked = 0;
    const answers = new Map<number, (message: DynamoThreadMessage) => void>();
    const ask = (request: DynamoThreadRequest & { id: number }) =>
      new Promise<DynamoThreadMessage>((done) => {
        answers.set(request.id, done);
        worker.postMessage(request);
      });
    worker.on('message', (message: DynamoThreadMessage) => {
      if (
        message.kind === 'keyStats' ||
        message.kind === 'resetKeyStats' ||
        message.kind === 'flushIndexLag'
      ) {
        answers.get(message.id)?.(message);
        answers.delete(message.id);
      } else if (message.kind === 'log') log(message.line);
      else if (message.kind === 'closed') closed?.();
      else if (message.kind === 'error') {
        reject(new Error(`local DynamoDB thread: ${message.message}`));
        closed?.();
      } else
        resolve({
          endpoint: message.endpoint,
          keyStats: async (options) => {
            const answer = await ask({ kind: 'keyStats', id: ++asked, options });
            return answer.kind === 'keyStats' ? answer.stats : [];
          },
          resetKeyStats: async () => {
            await ask({ kind: 'resetKeyStats', id: ++asked });
          },
          flushIndexLag: async () => {
            await ask({ kind: 'flushIndexLag', id: ++asked });
          },
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
