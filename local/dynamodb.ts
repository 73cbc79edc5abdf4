// DynamoDB for the local cloud: dynalite (in memory, or LevelDB on disk) with the template's tables created.
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CreateTableInput } from '@aws-sdk/client-dynamodb';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  paginateListTables,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';

export interface StartDynamoOptions {
  tables: CreateTableInput[];
  /** LevelDB directory: tables and items survive a restart. In memory when absent. */
  dataDir?: string;
  port?: number;
  host?: string;
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

export async function startDynamo(opts: StartDynamoOptions): Promise<LocalDynamo> {
  patchDynaliteIndexKeys();
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(opts.dataDir !== undefined && { path: opts.dataDir }),
  });
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
  const close = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
    });

  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
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
