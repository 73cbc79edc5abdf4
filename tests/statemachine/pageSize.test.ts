import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ROOM_INDEX_SHARDS, roomIndexShard, roomKeyOf } from '#core/aws/roomMembers';
import { loadTemplate } from '../../tools/infra/template';
import { type LocalDynamo, startDynamo } from '../../tools/local/dynamodb';
import { type ExecutionSummary, LocalStateMachine } from '../../tools/local/stepfunctions';
import { readEvent } from '../helpers/events';
import { prepareWithoutCursor, recordsOf } from '../helpers/fanoutMachine';

/**
 * The fan-out at the largest page docs/OPERATIONS.md allows (FanoutPageSize 5,000), in the worst case the protocol
 * lets through: a room of that many members with 16-character connection ids, as API Gateway makes them, and a
 * 4,096-byte message of the character JSON escapes the most. The local engine enforces Step Functions' 262,144-byte
 * limit on every state, task and Map item (tools/local/payloadLimit.ts), so this run fails with
 * States.DataLimitExceeded if any of them would on AWS.
 */
const templatePath = join(__dirname, '..', '..', 'template.yaml');
/** The largest FanoutPageSize docs/OPERATIONS.md's Settings table allows (a deploy-time constant in Mappings). */
const maxPageSize = 5000;

let dynamo: LocalDynamo;
let db: DynamoDBClient;
const delivered = new Map<string, number>();
let run: ExecutionSummary;

beforeAll(async () => {
  const template = loadTemplate(templatePath, { constants: { FanoutPageSize: String(maxPageSize) } });
  dynamo = await startDynamo({ tables: template.tables() });
  db = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  // The room's subscriptions: the index entries the fan-out Queries.
  const table = template.tables().find((t) => t.logicalId === 'SubscriptionsTable')?.TableName as string;
  const roomId = 'BIGGST';
  // API Gateway's connection ids: 16 characters of URL-safe base64, e.g. JC1dgf9yoAMCK-g=. All of them hash to one
  // shard of the room index, so one Query page holds the largest page there can be.
  const ids: string[] = [];
  while (ids.length < maxPageSize) {
    const id = `${randomBytes(11).toString('base64url')}=`;
    if (roomIndexShard(id, ROOM_INDEX_SHARDS) === 0) ids.push(id);
  }
  // All 5,000 go to one key of the index, which takes 1,000 writes a second as a DynamoDB partition does (the local
  // DynamoDB refuses past that, IndexWriteKeyRangeThroughputExceeded): written at 800 a second, a second's batches
  // at a time, so a fast moment of the machine cannot outrun the key.
  const perSecond = 800;
  let secondStarted = Date.now();
  for (let i = 0; i < ids.length; i += 25) {
    if (i > 0 && i % perSecond === 0) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, secondStarted + 1000 - Date.now())));
      secondStarted = Date.now();
    }
    const batch = ids.slice(i, i + 25).map((id) => ({
      PutRequest: {
        Item: {
          connectionId: { S: id },
          roomId: { S: roomId },
          roomKey: { S: roomKeyOf(roomId, id, ROOM_INDEX_SHARDS) },
          username: { S: 'someone' },
        },
      },
    }));
    await db.send(new BatchWriteItemCommand({ RequestItems: { [table]: batch } }));
  }
  for (const id of ids) delivered.set(id, 0);

  const fanout = template.stateMachines().find((m) => m.logicalId === 'FanoutStateMachine');
  if (!fanout) throw new Error('FanoutStateMachine missing from template.yaml');
  // Deliver is replaced by a recorder: this test is about the state machine's data, not the posts.
  const machine = new LocalStateMachine(fanout.name, fanout.definition, {
    dynamodb: db,
    invokeFunction: async (_arn, payload) => {
      const step = payload as { op: string; input?: unknown; connectionIds: string[] };
      if (step.op === 'prepare') return prepareWithoutCursor(step.input);
      for (const id of step.connectionIds) delivered.set(id, (delivered.get(id) ?? 0) + 1);
      return { goneIds: [], retrying: false, waitSeconds: 2 };
    },
  });
  // U+0001 is one UTF-8 byte that JSON writes as \u0001, and as \\u0001 once the frame is a string in the event.
  const text = '\u0001'.repeat(4096);
  const messageId = randomUUID();
  const frame = {
    type: 'message',
    roomId,
    seq: 1,
    messageId,
    username: 'someone',
    text,
    sentAt: new Date().toISOString(),
  };
  const event = readEvent<{ detail: Record<string, unknown> }>('fanout');
  const [record] = recordsOf({
    ...event,
    detail: { messageId, roomId, seq: 1, payload: JSON.stringify(frame) },
  });
  run = await machine.execute([record]);
}, 240_000);

afterAll(async () => {
  await dynamo.close();
});

it('runs within every Step Functions payload limit at the largest page size', () => {
  expect(maxPageSize).toBe(5000);
  expect(run).toMatchObject({ ok: true });
});

it('delivers to every member of the room exactly once', () => {
  const counts = [...delivered.values()];
  expect(counts).toHaveLength(maxPageSize);
  expect(counts.filter((n) => n !== 1)).toEqual([]);
});
