import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { Frame } from '../helpers/chatClient';
import { roomWith, said, signedInCloud } from '../helpers/signedIn';

/**
 * Reporting a message through the local cloud with sign-in: a member's report reaches the room owner's connected
 * devices at once (`reported`), keeps the message's text when its author deletes it afterwards (the owner's
 * `reports`), is a row of the moderation log (the operators' queue: the Sessions table's `#audit#<day>`), and a
 * person may report ReportRateLimit messages an hour. Only the owner lists a room's reports.
 */
jest.setTimeout(120_000);

const chat = signedInCloud({ FrameRateLimit: '1000', StrikeLimit: '1000', ReportRateLimit: '2' });

function auditRows(day: string): Promise<Record<string, unknown>[]> {
  const { cloud } = chat;
  const table = cloud.template.tables().find((t) => t.logicalId === 'SessionsTable')?.TableName;
  const db = new DynamoDBClient({
    endpoint: cloud.dynamoEndpoint,
    region: cloud.template.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  return db
    .send(
      new QueryCommand({
        TableName: table,
        IndexName: 'UsernameIndex',
        KeyConditionExpression: 'username = :k',
        ExpressionAttributeValues: { ':k': { S: `#audit#${day}` } },
      }),
    )
    .then(({ Items = [] }) =>
      Items.map((item) => ({
        kind: item.kind?.S,
        roomId: item.roomId?.S,
        actorName: item.actorName?.S,
        reportId: item.detail?.M?.reportId?.S,
      })),
    )
    .finally(() => db.destroy());
}

it("a report reaches the owner's devices at once and keeps the message's text after its author deletes it", async () => {
  const olga = await chat.device('olga');
  const olgaPhone = await chat.device('olga');
  const mallory = await chat.device('mallory');
  const carol = await chat.device('carol');
  const roomId = await roomWith(olga, mallory, carol);
  const bad = await said(mallory, 'send me your password');

  const reply = await chat.ask(carol, { action: 'report', roomId, seq: bad.seq, reason: 'phishing' });
  const expected = {
    type: 'reported',
    report: {
      roomId,
      seq: bad.seq,
      reason: 'phishing',
      reportedBy: 'carol',
      message: { username: 'mallory', text: 'send me your password' },
    },
  };
  expect(reply).toMatchObject(expected);
  // Both of the owner's connections hear of it, the one in the lobby included.
  for (const device of [olga, olgaPhone])
    expect(await device.next((f) => f.type === 'reported')).toMatchObject(expected);

  await mallory.expectReply({ action: 'deletemessage', seq: bad.seq });
  const listed = await chat.ask(olga, { action: 'reports', roomId });
  expect(listed).toMatchObject({ type: 'reports', roomId });
  expect(listed.reports).toEqual([
    expect.objectContaining({
      reportId: (reply.report as Frame).reportId,
      message: expect.objectContaining({ text: 'send me your password' }),
    }),
  ]);
  const history = await olga.expectReply({ action: 'history', roomId });
  expect((history.messages as Frame[]).find((m) => m.seq === bad.seq)).toMatchObject({
    text: '',
    deleted: 'author',
  });

  const rows = await auditRows(String((reply.report as Frame).reportedAt).slice(0, 10));
  expect(rows).toContainEqual({
    kind: 'report',
    roomId,
    actorName: 'carol',
    reportId: (reply.report as Frame).reportId,
  });

  // Only the owner reads the reports.
  expect(await chat.ask(carol, { action: 'reports', roomId })).toMatchObject({ code: 'FORBIDDEN' });
});

it('limits reports per person and refuses a report without a reason or of a deleted message', async () => {
  const owen = await chat.device('owen');
  const dan = await chat.device('dan');
  const roomId = await roomWith(owen, dan);
  const one = await said(owen, 'one');
  const two = await said(owen, 'two');
  expect(await chat.ask(dan, { action: 'report', roomId, seq: one.seq, reason: '' })).toMatchObject({
    code: 'BAD_REQUEST',
    message: expect.stringMatching(/"reason"/),
  });
  expect(await chat.ask(dan, { action: 'report', roomId, seq: 999, reason: 'spam' })).toMatchObject({
    code: 'MESSAGE_NOT_FOUND',
  });
  await owen.expectReply({ action: 'deletemessage', seq: two.seq });
  expect(await chat.ask(dan, { action: 'report', roomId, seq: two.seq, reason: 'spam' })).toMatchObject({
    code: 'MESSAGE_DELETED',
  });
  // ReportRateLimit is 2 an hour here.
  for (let i = 0; i < 2; i++)
    expect(await chat.ask(dan, { action: 'report', roomId, seq: one.seq, reason: 'spam' })).toMatchObject({
      type: 'reported',
    });
  expect(await chat.ask(dan, { action: 'report', roomId, seq: one.seq, reason: 'spam' })).toMatchObject({
    code: 'RATE_LIMITED',
  });
});
