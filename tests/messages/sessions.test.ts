import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { handler } from '#messages/sendmessage';
import { frameOf, sampleEvent } from '../helpers/events';

/**
 * Without SESSIONS_TABLE the hooks do nothing; the first test sends once without, then with it.
 * Sessions on record ride on the send path without a sequential round trip: the session's message count is written
 * while PutEvents is still in flight. Also the number of DynamoDB calls a send makes, with and without sessions.
 */
const db = mockClient(DynamoDBDocumentClient);
const bus = mockClient(EventBridgeClient);

/** A send's world: alice's connection in room K7M2QD at `seq`, every table write accepted; no bus answer yet. */
function stage(withSessions: boolean, seq: number) {
  if (withSessions) process.env.SESSIONS_TABLE = 'test-Sessions';
  else delete process.env.SESSIONS_TABLE;
  db.reset();
  bus.reset();
  db.on(GetCommand, { TableName: 'test-Connections' }).resolves({
    Item: {
      connectionId: 'c1',
      roomId: 'K7M2QD',
      username: 'alice',
      connectedAt: '2026-11-21T12:00:00.000Z',
    },
  });
  db.on(PutCommand).resolves({});
  db.on(UpdateCommand).resolves({});
  // The room's counter answers its next seq (an atomic ADD: no read of the room, no transaction).
  // The previous take's seq (UPDATED_OLD): this send takes seq + 1.
  db.on(UpdateCommand, { TableName: 'test-Rooms' }).resolves({ Attributes: { seq } });
  db.on(GetCommand, { TableName: 'test-Sends' }).resolves({});
}

async function send(withSessions: boolean) {
  stage(withSessions, 41);
  let sessionWritesDuringPublish = -1;
  bus.on(PutEventsCommand).callsFake(async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    sessionWritesDuringPublish = db.commandCalls(UpdateCommand, { TableName: 'test-Sessions' }).length;
    return { FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] };
  });
  const ack = frameOf(await handler(sampleEvent('sendmessage')));
  return { ack, dynamoCalls: db.calls().length, sessionWritesDuringPublish };
}

afterAll(() => {
  delete process.env.SESSIONS_TABLE;
});

it('counts the message on the session while PutEvents is in flight: one more call, no more round trips', async () => {
  const before = await send(false);
  const after = await send(true);
  expect(after.ack).toMatchObject({ type: 'ack', seq: 42 });
  expect(after.sessionWritesDuringPublish).toBe(1);
  const [write] = db.commandCalls(UpdateCommand, { TableName: 'test-Sessions' });
  expect(write?.args[0].input).toMatchObject({
    Key: { connectionId: 'Lw7Hzc2tIAMCJPQ=' },
    UpdateExpression: 'ADD messagesSent :one SET lastMessageAt = :at',
  });
  // Never the text of a message.
  expect(JSON.stringify(write?.args[0].input)).not.toContain('hello');
  expect(after.dynamoCalls).toBe(before.dynamoCalls + 1);
  process.stdout.write(
    `[figures] ${JSON.stringify({ test: 'DynamoDB calls per send', before: before.dynamoCalls, after: after.dynamoCalls, sequentialAdded: 0 })}\n`,
  );
});

it('does not fail the send when the session record cannot be written', async () => {
  stage(true, 42);
  db.on(UpdateCommand, { TableName: 'test-Sessions' }).rejects(
    new Error('ProvisionedThroughputExceededException'),
  );
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
  expect(frameOf(await handler(sampleEvent('sendmessage')))).toMatchObject({ type: 'ack', seq: 43 });
});
