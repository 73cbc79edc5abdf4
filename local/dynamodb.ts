// DynamoDB for the local cloud: dynalite (in memory, or LevelDB on disk) with the template's tables created.
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
