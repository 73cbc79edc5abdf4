import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AttributeValue,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  TransactGetItemsCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { startDynamo } from '../../tools/local/dynamodb';
import { hashKeyTable, localDynamo, localDynamoClient } from '../helpers/localCloud';

/**
 * TransactWriteItems and TransactGetItems of the local DynamoDB, as AWS answers them (docs/PARITY.md, "Local DynamoDB
 * transactions"): all or nothing, CancellationReasons in item order, one action per item, at most 100 items,
 * ClientRequestToken idempotency, and IAM checked per item action.
 */

const TABLE = 'tx-Items';
const tables = [hashKeyTable(TABLE, 'k')];
const clientFor = (endpoint: string) => localDynamoClient(endpoint, 1);
const put = (k: string, extra: Record<string, AttributeValue> = {}, onlyNew = false): TransactWriteItem => ({
  Put: {
    TableName: TABLE,
    Item: { k: { S: k }, ...extra },
    ...(onlyNew && { ConditionExpression: 'attribute_not_exists(k)' }),
  },
});
const add = (k: string, n = 1): TransactWriteItem => ({
  Update: {
    TableName: TABLE,
    Key: { k: { S: k } },
    UpdateExpression: 'ADD n :n',
    ExpressionAttributeValues: { ':n': { N: String(n) } },
  },
});
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected the request to fail');
    },
    (error: Error) => error,
  );

describe('local DynamoDB transactions', () => {
  const db = localDynamo({ tables }, { maxAttempts: 1 });
  const item = async (k: string) =>
    (
      await db.client.send(
        new GetItemCommand({ TableName: TABLE, Key: { k: { S: k } }, ConsistentRead: true }),
      )
    ).Item;

  it('applies every action of a transaction', async () => {
    await db.client.send(new PutItemCommand({ TableName: TABLE, Item: { k: { S: 'gone' } } }));
    await db.client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          put('a1', { v: { S: 'x' } }, true),
          add('a2', 5),
          { Delete: { TableName: TABLE, Key: { k: { S: 'gone' } } } },
        ],
      }),
    );
    expect(await item('a1')).toEqual({ k: { S: 'a1' }, v: { S: 'x' } });
    expect(await item('a2')).toEqual({ k: { S: 'a2' }, n: { N: '5' } });
    expect(await item('gone')).toBeUndefined();
  });

  it('checks the condition of a ConditionCheck on an item that does not exist against no attributes', async () => {
    const check = (ConditionExpression: string) =>
      db.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            add('g0'),
            {
              ConditionCheck: {
                TableName: TABLE,
                Key: { k: { S: 'never-written' } },
                ConditionExpression,
                ExpressionAttributeValues: { ':v': { S: 'x' } },
              },
            },
          ],
        }),
      );
    // attribute_not_exists holds for an absent item (a room's gate never written lets a join through) …
    await check('attribute_not_exists(v) OR v = :v');
    expect(await item('g0')).toEqual({ k: { S: 'g0' }, n: { N: '1' } });
    // … and a comparison with one of its attributes does not.
    const error = await failure(check('v = :v'));
    expect((error as TransactionCanceledException).CancellationReasons?.[1]).toMatchObject({
      Code: 'ConditionalCheckFailed',
    });
    expect(await item('never-written')).toBeUndefined();
  });

  it('applies nothing when one condition fails, and gives the reasons in item order', async () => {
    await db.client.send(new PutItemCommand({ TableName: TABLE, Item: { k: { S: 'b1' }, v: { N: '1' } } }));
    const error = await failure(
      db.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            put('b0', {}, true),
            add('b2'),
            {
              ConditionCheck: {
                TableName: TABLE,
                Key: { k: { S: 'b1' } },
                ConditionExpression: 'v = :two',
                ExpressionAttributeValues: { ':two': { N: '2' } },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
        }),
      ),
    );
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect(error.message).toContain('[None, None, ConditionalCheckFailed]');
    expect((error as TransactionCanceledException).CancellationReasons).toEqual([
      { Code: 'None' },
      { Code: 'None' },
      {
        Code: 'ConditionalCheckFailed',
        Message: 'The conditional request failed',
        Item: { k: { S: 'b1' }, v: { N: '1' } },
      },
    ]);
    expect(await item('b0')).toBeUndefined();
    expect(await item('b2')).toBeUndefined();
  });

  it('cancels an update whose expression cannot apply, with a ValidationError reason', async () => {
    await db.client.send(
      new PutItemCommand({ TableName: TABLE, Item: { k: { S: 'c1' }, n: { S: 'text' } } }),
    );
    const error = (await failure(
      db.client.send(new TransactWriteItemsCommand({ TransactItems: [put('c0'), add('c1')] })),
    )) as TransactionCanceledException;
    expect(error.name).toBe('TransactionCanceledException');
    expect(error.CancellationReasons?.map((r) => r.Code)).toEqual(['None', 'ValidationError']);
    expect(await item('c0')).toBeUndefined();
  });

  it('refuses two actions on one item, none or more than 100 items, as ValidationException', async () => {
    const twice = await failure(
      db.client.send(new TransactWriteItemsCommand({ TransactItems: [put('d1'), add('d1')] })),
    );
    expect(twice.name).toBe('ValidationException');
    expect(twice.message).toBe('Transaction request cannot include multiple operations on one item');
    const tooMany = await failure(
      db.client.send(
        new TransactWriteItemsCommand({ TransactItems: Array.from({ length: 101 }, (_, i) => put(`e${i}`)) }),
      ),
    );
    expect(tooMany.name).toBe('ValidationException');
    expect(tooMany.message).toContain('less than or equal to 100');
    expect(await item('e0')).toBeUndefined();
    const none = await failure(db.client.send(new TransactWriteItemsCommand({ TransactItems: [] })));
    expect(none.name).toBe('ValidationException');
    await db.client.send(
      new TransactWriteItemsCommand({ TransactItems: Array.from({ length: 100 }, (_, i) => put(`f${i}`)) }),
    );
    expect(await item('f99')).toEqual({ k: { S: 'f99' } });
    const sameGet = await failure(
      db.client.send(
        new TransactGetItemsCommand({
          TransactItems: [
            { Get: { TableName: TABLE, Key: { k: { S: 'f1' } } } },
            { Get: { TableName: TABLE, Key: { k: { S: 'f1' } } } },
          ],
        }),
      ),
    );
    expect(sameGet.name).toBe('ValidationException');
  });

  it('applies a ClientRequestToken once, and refuses it with other parameters', async () => {
    const once = () =>
      db.client.send(
        new TransactWriteItemsCommand({ ClientRequestToken: 'token-g', TransactItems: [add('g')] }),
      );
    await once();
    await once();
    expect(await item('g')).toEqual({ k: { S: 'g' }, n: { N: '1' } });
    const other = await failure(
      db.client.send(
        new TransactWriteItemsCommand({ ClientRequestToken: 'token-g', TransactItems: [add('g', 2)] }),
      ),
    );
    expect(other.name).toBe('IdempotentParameterMismatchException');
    expect(await item('g')).toEqual({ k: { S: 'g' }, n: { N: '1' } });
  });

  it('forgets a ClientRequestToken 10 minutes after its transaction, as AWS does', async () => {
    const once = () =>
      db.client.send(
        new TransactWriteItemsCommand({ ClientRequestToken: 'token-k', TransactItems: [add('k')] }),
      );
    const start = Date.now();
    await once();
    const clock = jest.spyOn(Date, 'now');
    try {
      clock.mockReturnValue(start + 9 * 60_000);
      await once();
      expect(await item('k')).toEqual({ k: { S: 'k' }, n: { N: '1' } });
      clock.mockReturnValue(start + 11 * 60_000);
      await once();
      expect(await item('k')).toEqual({ k: { S: 'k' }, n: { N: '2' } });
    } finally {
      clock.mockRestore();
    }
  });

  it('serializes concurrent transactions on one item: a conditional counter loses no update', async () => {
    // Each writer reads the counter and commits counter+1 with a message under it, retrying when it lost the race.
    await db.client.send(
      new PutItemCommand({ TableName: TABLE, Item: { k: { S: 'room' }, seq: { N: '0' } } }),
    );
    const writer = async (w: number) => {
      for (;;) {
        const seq = Number((await item('room'))?.seq?.N);
        try {
          await db.client.send(
            new TransactWriteItemsCommand({
              TransactItems: [
                {
                  Update: {
                    TableName: TABLE,
                    Key: { k: { S: 'room' } },
                    UpdateExpression: 'SET seq = :next',
                    ConditionExpression: 'seq = :seq',
                    ExpressionAttributeValues: {
                      ':seq': { N: String(seq) },
                      ':next': { N: String(seq + 1) },
                    },
                  },
                },
                put(`msg-${seq + 1}`, { writer: { N: String(w) } }, true),
              ],
            }),
          );
          return;
        } catch (error) {
          if (!(error instanceof TransactionCanceledException)) throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: 20 }, (_, w) => writer(w)));
    expect((await item('room'))?.seq).toEqual({ N: '20' });
    const writers = await Promise.all(Array.from({ length: 20 }, (_, i) => item(`msg-${i + 1}`)));
    expect(new Set(writers.map((m) => m?.writer?.N)).size).toBe(20);
  });

  it('cancels a transaction that meets another on one of its items, with TransactionConflict on that item', async () => {
    // Twenty transactions at once on one counter: DynamoDB refuses the ones that arrive while another holds the item
    // instead of queueing them, and every refused one leaves no trace.
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        db.client.send(new TransactWriteItemsCommand({ TransactItems: [add('hot'), put(`hot-${i}`)] })),
      ),
    );
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    expect(refused.length).toBeGreaterThan(0);
    for (const error of refused) {
      expect(error).toBeInstanceOf(TransactionCanceledException);
      expect((error as TransactionCanceledException).CancellationReasons).toEqual([
        { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' },
        { Code: 'None' },
      ]);
    }
    const applied = results.filter((r) => r.status === 'fulfilled').length;
    expect((await item('hot'))?.n).toEqual({ N: String(applied) });
    const written = await Promise.all(Array.from({ length: 20 }, (_, i) => item(`hot-${i}`)));
    expect(written.filter(Boolean)).toHaveLength(applied);
  });

  it('refuses a PutItem, UpdateItem or DeleteItem on an item a transaction holds with TransactionConflictException', async () => {
    const single = (i: number) =>
      i % 3 === 0
        ? new PutItemCommand({ TableName: TABLE, Item: { k: { S: 'held' }, by: { N: String(i) } } })
        : i % 3 === 1
          ? new UpdateItemCommand({
              TableName: TABLE,
              Key: { k: { S: 'held' } },
              UpdateExpression: 'SET note = :i',
              ExpressionAttributeValues: { ':i': { N: String(i) } },
            })
          : new DeleteItemCommand({ TableName: TABLE, Key: { k: { S: 'other-key' } } });
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        i % 2 === 0
          ? db.client.send(new TransactWriteItemsCommand({ TransactItems: [add('held')] }))
          : db.client.send(single(i) as PutItemCommand),
      ),
    );
    const refusedSingles = results.filter(
      (r, i) =>
        i % 2 === 1 && r.status === 'rejected' && (r.reason as Error).name === 'TransactionConflictException',
    );
    expect(refusedSingles.length).toBeGreaterThan(0);
    // A write to an item no transaction touches is never refused.
    results.forEach((r, i) => {
      if (i % 2 === 1 && i % 3 === 2) expect(r.status).toBe('fulfilled');
    });
    const others = results.filter(
      (r) =>
        r.status === 'rejected' &&
        !['TransactionConflictException', 'TransactionCanceledException'].includes((r.reason as Error).name),
    );
    expect(others).toEqual([]);
  });

  it('reads items in request order with TransactGetItems, {} for a missing one', async () => {
    await db.client.send(
      new PutItemCommand({ TableName: TABLE, Item: { k: { S: 'h1' }, v: { S: 'one' }, w: { S: 'w' } } }),
    );
    const { Responses } = await db.client.send(
      new TransactGetItemsCommand({
        TransactItems: [
          { Get: { TableName: TABLE, Key: { k: { S: 'missing' } } } },
          { Get: { TableName: TABLE, Key: { k: { S: 'h1' } }, ProjectionExpression: 'v' } },
        ],
      }),
    );
    expect(Responses).toEqual([{}, { Item: { v: { S: 'one' } } }]);
  });
});

describe('local DynamoDB transactions under IAM and on disk', () => {
  it('authorizes each item by its own action (PutItem, UpdateItem, ConditionCheckItem), never TransactWriteItems', async () => {
    const asked: string[] = [];
    const dynamo = await startDynamo({
      tables,
      guard: {
        region: 'us-east-1',
        accountId: '123456789012',
        check: async (_req, _body, action, resources) => {
          if (
            action?.startsWith('dynamodb:') &&
            action !== 'dynamodb:CreateTable' &&
            !action.startsWith('dynamodb:List') &&
            !action.startsWith('dynamodb:Describe')
          )
            asked.push(`${action} ${resources.join(',')}`);
          return action === 'dynamodb:ConditionCheckItem'
            ? { code: 'AccessDeniedException', message: `not allowed: ${action}` }
            : undefined;
        },
      },
    });
    const client = clientFor(dynamo.endpoint);
    try {
      await client.send(new TransactWriteItemsCommand({ TransactItems: [put('i1'), add('i2')] }));
      expect(asked).toEqual([
        `dynamodb:PutItem arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}`,
        `dynamodb:UpdateItem arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}`,
      ]);
      const denied = await failure(
        client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              put('i3'),
              {
                ConditionCheck: {
                  TableName: TABLE,
                  Key: { k: { S: 'i1' } },
                  ConditionExpression: 'attribute_exists(k)',
                },
              },
            ],
          }),
        ),
      );
      expect(denied.name).toBe('AccessDeniedException');
      const { Responses } = await client.send(
        new TransactGetItemsCommand({
          TransactItems: [{ Get: { TableName: TABLE, Key: { k: { S: 'i3' } } } }],
        }),
      );
      expect(Responses).toEqual([{}]);
      expect(asked.at(-1)).toBe(`dynamodb:GetItem arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}`);
    } finally {
      client.destroy();
      await dynamo.close();
    }
  });

  it('keeps what a transaction wrote across a restart on the same data dir', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'roomcast-tx-'));
    try {
      const first = await startDynamo({ tables, dataDir });
      const client = clientFor(first.endpoint);
      await client.send(new TransactWriteItemsCommand({ TransactItems: [put('j1'), add('j2', 3)] }));
      client.destroy();
      await first.close();
      const second = await startDynamo({ tables, dataDir });
      const again = clientFor(second.endpoint);
      const { Responses } = await again.send(
        new TransactGetItemsCommand({
          TransactItems: [
            { Get: { TableName: TABLE, Key: { k: { S: 'j1' } } } },
            { Get: { TableName: TABLE, Key: { k: { S: 'j2' } } } },
          ],
        }),
      );
      expect(Responses).toEqual([{ Item: { k: { S: 'j1' } } }, { Item: { k: { S: 'j2' }, n: { N: '3' } } }]);
      again.destroy();
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
