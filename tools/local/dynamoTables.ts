// The template's tables, created in the local DynamoDB as the local admin, through its HTTP front like any caller's
// CreateTable (dynalite's validation and the IAM check see the request). The requests are signed here with the SDK's
// signer rather than sent by the DynamoDB client: loading the client would cost the DynamoDB thread more CPU than
// the rest of its start, on every start of the local cloud, for half a dozen calls.
import { request } from 'node:http';
import type { CreateTableInput } from '@aws-sdk/client-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import { LOCAL_ADMIN } from './iam/admin';
import { NodeSha256 } from './iam/sigv4';

/** An error DynamoDB answered: its name is the `__type`'s last part, as the SDK names it. */
export class DynamoAdminError extends Error {}

/** One DynamoDB operation (`CreateTable`) as the local admin: its answer, or a DynamoAdminError. */
export type AdminCall = (operation: string, input: object) => Promise<Record<string, unknown>>;

export function adminCall(endpoint: string, region: string): AdminCall {
  const url = new URL(endpoint);
  const signer = new SignatureV4({
    credentials: LOCAL_ADMIN,
    region,
    service: 'dynamodb',
    sha256: NodeSha256,
  });
  return async (operation, input) => {
    const body = JSON.stringify(input);
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${operation}`,
      },
      body,
    });
    const { status, text } = await post(url, signed.headers, body);
    const answer = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    if (status === 200) return answer;
    const error = new DynamoAdminError(String(answer.message ?? answer.Message ?? `HTTP ${status}`));
    error.name =
      String(answer.__type ?? 'DynamoDBError')
        .split('#')
        .pop() ?? 'DynamoDBError';
    throw error;
  };
}

function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: '/', method: 'POST', headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The CreateTable input of a template table: its definition, without the template's other properties. */
function createInput(table: CreateTableInput): CreateTableInput {
  return Object.fromEntries(
    CREATE_TABLE_FIELDS.filter((field) => table[field] !== undefined).map((field) => [field, table[field]]),
  ) as unknown as CreateTableInput;
}

/** The properties of a template table that CreateTable takes. */
const CREATE_TABLE_FIELDS = [
  'TableName',
  'AttributeDefinitions',
  'KeySchema',
  'BillingMode',
  'ProvisionedThroughput',
  'GlobalSecondaryIndexes',
  'LocalSecondaryIndexes',
] as const;

const TABLE_ACTIVE_WAIT_MS = 120_000;

/**
 * Creates the tables that do not exist yet, all at once, and resolves when each and its indexes are ACTIVE.
 * `activated(name)` resolves when dynalite next stores the table's description (it turns a new table ACTIVE by
 * storing it again), so a table still CREATING is described again then, not after a fixed pause. The bound only ends a
 * start that is broken for good: generous, because each call may wait seconds on a loaded machine.
 */
export async function createTables(
  call: AdminCall,
  tables: readonly CreateTableInput[],
  activated: (tableName: string) => Promise<void>,
): Promise<void> {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const page = await call('ListTables', start ? { ExclusiveStartTableName: start } : {});
    for (const name of (page.TableNames as string[] | undefined) ?? []) existing.add(name);
    start = page.LastEvaluatedTableName as string | undefined;
  } while (start);
  await Promise.all(
    tables.map(async (table) => {
      if (!table.TableName) throw new Error('startDynamo: a table has no TableName');
      const name = table.TableName;
      const deadline = Date.now() + TABLE_ACTIVE_WAIT_MS;
      for (let created = existing.has(name); ; ) {
        // Listened for before the call that may find the table CREATING, so that its turn to ACTIVE is not missed.
        const next = activated(name);
        if (!created) {
          try {
            await call('CreateTable', createInput(table));
          } catch (err) {
            // Listed a moment ago as absent; a concurrent creator is fine, anything else is not.
            if ((err as Error).name !== 'ResourceInUseException') throw err;
          }
          created = true;
        }
        const { Table } = (await call('DescribeTable', { TableName: name })) as {
          Table?: { TableStatus?: string; GlobalSecondaryIndexes?: { IndexStatus?: string }[] };
        };
        const indexesReady = (Table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
        if (Table?.TableStatus === 'ACTIVE' && indexesReady) return;
        const left = deadline - Date.now();
        let timer: NodeJS.Timeout | undefined;
        const late = await Promise.race([
          next.then(() => false),
          new Promise<boolean>((resolve) => {
            timer = setTimeout(() => resolve(true), Math.max(left, 0));
          }),
        ]);
        clearTimeout(timer);
        if (late)
          throw new Error(`DynamoDB table ${name} is not ACTIVE after ${TABLE_ACTIVE_WAIT_MS / 1000} s`);
      }
    }),
  );
}
