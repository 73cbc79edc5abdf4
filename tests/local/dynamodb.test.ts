import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  type AttributeValue,
  DescribeTableCommand,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { loadTemplate } from '../../tools/infra/template';
import { startDynamo } from '../../tools/local/dynamodb';
import { localDynamo, localDynamoClient } from '../helpers/localCloud';
import { scratchFolder } from '../helpers/scratch';

const tables = loadTemplate(join(__dirname, '..', '..', 'template.yaml')).tables();
const clientFor = (endpoint: string) => localDynamoClient(endpoint);

describe('local DynamoDB', () => {
  const db = localDynamo({ tables });

  it('creates every table of the template, ACTIVE', async () => {
    expect(db.dynamo.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { TableNames } = await db.client.send(new ListTablesCommand({}));
    expect(TableNames?.sort()).toEqual(tables.map((t) => t.TableName).sort());
    const { Table } = await db.client.send(
      new DescribeTableCommand({ TableName: 'roomcast-local-ConnectionsTable' }),
    );
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.GlobalSecondaryIndexes?.[0]?.IndexStatus).toBe('ACTIVE');
  });

  it('returns the item with a failed condition when asked for ALL_OLD, and only then, as DynamoDB does', async () => {
    const TableName = 'roomcast-local-ConnectionsTable';
    const Key = { connectionId: { S: 'cond-1' } };
    await db.client.send(new PutItemCommand({ TableName, Item: { ...Key, frameCount: { N: '7' } } }));
    const failing = (ask?: 'ALL_OLD' | 'NONE') =>
      db.client
        .send(
          new UpdateItemCommand({
            TableName,
            Key,
            UpdateExpression: 'SET frameCount = frameCount + :one',
            ConditionExpression: 'frameCount < :limit',
            ExpressionAttributeValues: { ':one': { N: '1' }, ':limit': { N: '5' } },
            ...(ask && { ReturnValuesOnConditionCheckFailure: ask }),
          }),
        )
        .then(
          () => 'written',
          (error: { name: string; Item?: unknown }) => ({ name: error.name, Item: error.Item }),
        );
    await expect(failing('ALL_OLD')).resolves.toEqual({
      name: 'ConditionalCheckFailedException',
      Item: { ...Key, frameCount: { N: '7' } },
    });
    await expect(failing('NONE')).resolves.toEqual({
      name: 'ConditionalCheckFailedException',
      Item: undefined,
    });
    await expect(failing()).resolves.toEqual({ name: 'ConditionalCheckFailedException', Item: undefined });
  });

  it('answers queries on the RoomSubscribers GSI', async () => {
    const put = (connectionId: string, roomId: string) =>
      db.client.send(
        new PutItemCommand({
          TableName: 'roomcast-local-SubscriptionsTable',
          Item: {
            connectionId: { S: connectionId },
            roomId: { S: roomId },
            roomKey: { S: `${roomId}#0` },
            username: { S: `u-${connectionId}` },
          },
        }),
      );
    await Promise.all([put('c1', 'R1'), put('c2', 'R1'), put('c3', 'R2')]);
    const { Items } = await db.client.send(
      new QueryCommand({
        TableName: 'roomcast-local-SubscriptionsTable',
        IndexName: 'RoomSubscribers',
        KeyConditionExpression: 'roomKey = :r',
        ExpressionAttributeValues: { ':r': { S: 'R1#0' } },
      }),
    );
    expect(Items?.map((i) => i.connectionId?.S).sort()).toEqual(['c1', 'c2']);
    expect(Items?.[0]?.username?.S).toMatch(/^u-c/);
  });

  it('lists two members of a room whose ids dynalite would have filed under the same index key', async () => {
    // dynalite filed index entries under 24 bits of a hash of the table key; find two ids that share them.
    const prefix = (id: string) => createHash('md5').update('Outliers').update(id).digest('hex').slice(0, 6);
    const seen = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const id = `member-${i}`;
      const other = seen.get(prefix(id));
      if (other) pair = [other, id];
      else seen.set(prefix(id), id);
    }
    for (const connectionId of pair) {
      await db.client.send(
        new PutItemCommand({
          TableName: 'roomcast-local-SubscriptionsTable',
          Item: {
            connectionId: { S: connectionId },
            roomId: { S: 'CLASH2' },
            roomKey: { S: 'CLASH2#0' },
            username: { S: connectionId },
          },
        }),
      );
    }
    const page = (startKey?: Record<string, AttributeValue>) =>
      db.client.send(
        new QueryCommand({
          TableName: 'roomcast-local-SubscriptionsTable',
          IndexName: 'RoomSubscribers',
          KeyConditionExpression: 'roomKey = :r',
          ExpressionAttributeValues: { ':r': { S: 'CLASH2#0' } },
          Limit: 1,
          ExclusiveStartKey: startKey,
        }),
      );
    const first = await page();
    const second = await page(first.LastEvaluatedKey);
    const listed = [...(first.Items ?? []), ...(second.Items ?? [])].map((i) => i.connectionId?.S);
    expect(listed.sort()).toEqual([...pair].sort());
  });
});

describe('local DynamoDB on disk', () => {
  const scratch = scratchFolder('roomcast-dynamo-');

  it('keeps tables and items across a close and a restart', async () => {
    const first = await startDynamo({ tables, dataDir: scratch.path });
    const c1 = clientFor(first.endpoint);
    await c1.send(
      new PutItemCommand({
        TableName: 'roomcast-local-RoomsTable',
        Item: { roomId: { S: 'KEEP' }, seq: { N: '3' } },
      }),
    );
    c1.destroy();
    await first.close();

    // The same tables again: they exist on disk already and must be skipped, not recreated.
    const second = await startDynamo({ tables, dataDir: scratch.path });
    const c2 = clientFor(second.endpoint);
    try {
      const { Item } = await c2.send(
        new GetItemCommand({ TableName: 'roomcast-local-RoomsTable', Key: { roomId: { S: 'KEEP' } } }),
      );
      expect(Item).toEqual({ roomId: { S: 'KEEP' }, seq: { N: '3' } });
    } finally {
      c2.destroy();
      await second.close();
    }
  });
});

describe('local DynamoDB shutting down', () => {
  it('answers a request still being checked when close() is called, then closes', async () => {
    // An IAM check that takes a while, as the first evaluation of a principal does; `checking` resolves when the
    // PutItem's check has begun, so close() comes while it is in progress however long the request took to get here.
    let checkBegan: () => void = () => undefined;
    const checking = new Promise<void>((resolve) => {
      checkBegan = resolve;
    });
    const slow = await startDynamo({
      tables,
      guard: {
        region: 'us-east-1',
        accountId: '123456789012',
        check: (_req, _body, action) => {
          if (action === 'dynamodb:PutItem') checkBegan();
          return new Promise((resolve) => setTimeout(() => resolve(undefined), 300));
        },
      },
    });
    const db = clientFor(slow.endpoint);
    const table = tables.find((t) => t.logicalId === 'ConnectionsTable')?.TableName as string;
    const put = db.send(
      new PutItemCommand({
        TableName: table,
        Item: { connectionId: { S: 'closing' }, roomId: { S: 'lobby' }, username: { S: 'z' } },
      }),
    );
    await checking;
    // Without waiting for it, dynalite would write to a closed database and throw out of its callback.
    await slow.close();
    await expect(put).resolves.toBeDefined();
    db.destroy();
  });
});

describe('local DynamoDB with gsiLagMs (--gsi-lag-ms)', () => {
  // Longer than the test: what the lag hides stays hidden until the test lets the lag end (flushIndexLag), however
  // slowly a loaded machine runs the reads in between.
  const LAG_MS = 600_000;
  const db = localDynamo({ tables, gsiLagMs: LAG_MS });

  it('shows a write in a global index only after the lag, moves and deletes included, in write order', async () => {
    const TableName = 'roomcast-local-SubscriptionsTable';
    const byRoomKey = async (roomKey: string) =>
      (
        await db.client.send(
          new QueryCommand({
            TableName,
            IndexName: 'RoomSubscribers',
            KeyConditionExpression: 'roomKey = :k',
            ExpressionAttributeValues: { ':k': { S: roomKey } },
          }),
        )
      ).Items?.map((i) => i.connectionId?.S) ?? [];
    const item = { connectionId: { S: 'lag-1' }, roomId: { S: 'LAGROOM1' }, username: { S: 'bob' } };
    await db.client.send(new PutItemCommand({ TableName, Item: { ...item, roomKey: { S: 'LAGROOM1#0' } } }));
    // The item itself is there at once (a read of the table); its index entry is not yet.
    const read = await db.client.send(
      new GetItemCommand({ TableName, Key: { connectionId: item.connectionId, roomId: item.roomId } }),
    );
    expect(read.Item?.username?.S).toBe('bob');
    expect(await byRoomKey('LAGROOM1#0')).toEqual([]);
    await db.dynamo.flushIndexLag?.();
    expect(await byRoomKey('LAGROOM1#0')).toEqual(['lag-1']);
    // Two updates in a row: the index ends as the last one left it.
    const move = (to: string) =>
      db.client.send(
        new UpdateItemCommand({
          TableName,
          Key: { connectionId: item.connectionId, roomId: item.roomId },
          UpdateExpression: 'SET roomKey = :k',
          ExpressionAttributeValues: { ':k': { S: to } },
        }),
      );
    await move('LAGROOM1#1');
    await move('LAGROOM1#2');
    expect(await byRoomKey('LAGROOM1#0')).toEqual(['lag-1']);
    await db.dynamo.flushIndexLag?.();
    expect([
      await byRoomKey('LAGROOM1#0'),
      await byRoomKey('LAGROOM1#1'),
      await byRoomKey('LAGROOM1#2'),
    ]).toEqual([[], [], ['lag-1']]);
  });
});
