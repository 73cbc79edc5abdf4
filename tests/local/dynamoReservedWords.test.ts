import {
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { hashKeyTable, localDynamo } from '../helpers/localCloud';

/**
 * The local DynamoDB refuses a reserved word used bare as an attribute name in any expression, as DynamoDB does
 * (docs/PARITY.md, "Reserved words in expressions"): HTTP 400 ValidationException "Invalid <Kind>Expression:
 * Attribute name is a reserved keyword; reserved keyword: <the name as written>". So product code that writes
 * `SET status = :s` fails a local test, not its first deploy. The same name through ExpressionAttributeNames passes.
 */

const TABLE = 'rw-Items';
/** `user` is reserved too: the key attribute a KeyConditionExpression names. */
const tables = [hashKeyTable(TABLE, 'user')];
const KEY = { '#u': 'user' };
const key = { user: { S: 'alice' } };

const db = localDynamo({ tables }, { maxAttempts: 1 });

beforeAll(async () => {
  await db.client.send(new PutItemCommand({ TableName: TABLE, Item: { ...key, status: { S: 'open' } } }));
});

/** The refusal a request meets, or a failure of the test when it is accepted. */
async function refusal(
  request: Promise<unknown>,
): Promise<{ name: string; message: string; status?: number }> {
  try {
    await request;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('the request was accepted');
}

const refused = (kind: string, word: string) => ({
  name: 'ValidationException',
  message: `Invalid ${kind}: Attribute name is a reserved keyword; reserved keyword: ${word}`,
  status: 400,
});

it.each([
  [
    'UpdateExpression',
    () =>
      new UpdateItemCommand({
        TableName: TABLE,
        Key: key,
        UpdateExpression: 'SET status = :s',
        ExpressionAttributeValues: { ':s': { S: 'closed' } },
      }),
    'status',
  ],
  [
    'ConditionExpression',
    () =>
      new PutItemCommand({
        TableName: TABLE,
        Item: { user: { S: 'bob' } },
        ConditionExpression: 'attribute_not_exists(name)',
      }),
    'name',
  ],
  [
    'ProjectionExpression',
    () => new GetItemCommand({ TableName: TABLE, Key: key, ProjectionExpression: 'ttl' }),
    'ttl',
  ],
  [
    'FilterExpression',
    () =>
      new ScanCommand({
        TableName: TABLE,
        FilterExpression: 'status = :s',
        ExpressionAttributeValues: { ':s': { S: 'open' } },
      }),
    'status',
  ],
  [
    'KeyConditionExpression',
    () =>
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'user = :u',
        ExpressionAttributeValues: { ':u': { S: 'alice' } },
      }),
    'user',
  ],
] as const)('refuses a bare reserved word in a %s', async (kind, command, word) => {
  expect(await refusal(db.client.send(command() as never))).toEqual(refused(kind, word));
});

it('refuses one in a transaction element, where the local cloud validates in front of dynalite', async () => {
  const error = await refusal(
    db.client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: TABLE,
              Key: key,
              UpdateExpression: 'SET #s = :s',
              ConditionExpression: 'size > :n',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':s': { S: 'closed' }, ':n': { N: '0' } },
            },
          },
        ],
      }),
    ),
  );
  expect(error).toEqual(refused('ConditionExpression', 'size'));
});

it('keeps the item as it was after a refusal, and takes the same names through ExpressionAttributeNames', async () => {
  const read = () =>
    db.client.send(
      new GetItemCommand({
        TableName: TABLE,
        Key: key,
        ProjectionExpression: '#s',
        ExpressionAttributeNames: { '#s': 'status' },
      }),
    );
  expect((await read()).Item).toEqual({ status: { S: 'open' } });
  await db.client.send(
    new UpdateItemCommand({
      TableName: TABLE,
      Key: key,
      UpdateExpression: 'SET #s = :s',
      ConditionExpression: 'attribute_exists(#u)',
      ExpressionAttributeNames: { '#s': 'status', ...KEY },
      ExpressionAttributeValues: { ':s': { S: 'closed' } },
    }),
  );
  expect((await read()).Item).toEqual({ status: { S: 'closed' } });
  const { Items } = await db.client.send(
    new QueryCommand({
      TableName: TABLE,
      KeyConditionExpression: '#u = :u',
      FilterExpression: '#s = :s',
      ExpressionAttributeNames: { '#s': 'status', ...KEY },
      ExpressionAttributeValues: { ':u': { S: 'alice' }, ':s': { S: 'closed' } },
    }),
  );
  expect(Items).toHaveLength(1);
});
