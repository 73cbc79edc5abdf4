import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * BatchGetItem of one table's keys (at most 100, DynamoDB's limit per request). DynamoDB may leave some keys
 * unprocessed when a partition is busy and asks callers to retry them with exponential backoff ("BatchGetItem" in the
 * API reference): asking again at once only meets the same busy partition. So each retry first waits a full-jitter
 * pause (a random time up to 50 ms, 100 ms, 200 ms ... at most 1 s), and after MAX_RETRIES the call fails rather than
 * spend the caller's time limit: the caller's own retry (the state machine's) tries the whole step again later.
 */
export const MAX_RETRIES = 8;
const BASE_MS = 50;
const CAP_MS = 1_000;

/** The pause before retry `retry` (1, 2, ...): full jitter on an exponential ceiling, bounded by CAP_MS. */
export function unprocessedPauseMs(retry: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(CAP_MS, BASE_MS * 2 ** (retry - 1)));
}

interface BatchGetOptions {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export async function batchGetAll(
  db: DynamoDBDocumentClient,
  request: {
    TableName: string;
    Keys: Record<string, unknown>[];
    ProjectionExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    /** Strongly consistent reads (twice the read units): a write just answered is seen. */
    ConsistentRead?: boolean;
  },
  {
    sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random = Math.random,
  }: BatchGetOptions = {},
): Promise<Record<string, unknown>[]> {
  const { TableName, Keys, ...rest } = request;
  const items: Record<string, unknown>[] = [];
  let keys: Record<string, unknown>[] | undefined = Keys;
  for (let retry = 0; keys && keys.length > 0; retry++) {
    if (retry > MAX_RETRIES)
      throw new Error(`${keys.length} keys of ${TableName} still unprocessed after ${MAX_RETRIES} retries`);
    if (retry > 0) await sleep(unprocessedPauseMs(retry, random));
    const answer = await db.send(
      new BatchGetCommand({ RequestItems: { [TableName]: { Keys: keys, ...rest } } }),
    );
    items.push(...(answer.Responses?.[TableName] ?? []));
    keys = answer.UnprocessedKeys?.[TableName]?.Keys as Record<string, unknown>[] | undefined;
  }
  return items;
}

/** DynamoDB's limit of keys per BatchGetItem request. */
const BATCH_GET_MAX_KEYS = 100;

/** BatchGetItem of any number of one table's keys: requests of at most 100 keys in turn (batchGetAll each). */
export async function batchGetMany(
  db: DynamoDBDocumentClient,
  request: Parameters<typeof batchGetAll>[1],
  options: BatchGetOptions = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < request.Keys.length; i += BATCH_GET_MAX_KEYS)
    items.push(
      ...(await batchGetAll(
        db,
        { ...request, Keys: request.Keys.slice(i, i + BATCH_GET_MAX_KEYS) },
        options,
      )),
    );
  return items;
}
