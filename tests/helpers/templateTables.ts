import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadTemplate } from '../../tools/infra/template';
import { startDynamo } from '../../tools/local/dynamodb';

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
