import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoModerationRecords } from '#safety/audit';
import type { Frame } from '../helpers/chatClient';
import { roomWith, said, signedInCloud } from '../helpers/signedIn';

/**
 * Reporting a message through the local cloud with sign-in: a member's report reaches the room owner's connected
 * devices and its moderators at once (`reported`), keeps the message's text when its author deletes it afterwards
 * (`reports`), is a row of the moderation log (the operators' queue: the Sessions table's `#audit#<day>#<n>`, every shard read), and a
 * person may report ReportRateLimit messages an hour. Only the owner and moderators list a room's open reports and
 * close them (`resolvereport`), each once, for all of them.
 */
jest.setTimeout(240_000);

const chat = signedInCloud({ FrameRateLimit: '1000', StrikeLimit: '1000', ReportRateLimit: '2' });

/** The moderation log's rows of a UTC day, every shard read as the operators' listing reads them (audit.ts ofDay). */
async function auditRows(day: string): Promise<Record<string, unknown>[]> {
  const { cloud } = chat;
  const table = cloud.template.tables().find((t) => t.logicalId === 'SessionsTable')?.TableName as string;
  const db = new DynamoDBClient({
    endpoint: cloud.dynamoEndpoint,
    region: cloud.template.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const rows = await new DynamoModerationRecords(
      DynamoDBDocumentClient.from(db),
      table,
      'UsernameIndex',
      () => 3600,
    ).ofDay(day);
    return rows.map((row) => ({
      kind: row.kind,
      roomId: row.roomId,
      actorName: row.actorName,
      reportId: (row.detail as { reportId?: string } | undefined)?.reportId,
    }));
  } finally {
    db.destroy();
  }
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

it("limits reports per person and refuses a report without a reason, of a deleted message or of one's own", async () => {
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
  // One's own message is deleted, not reported.
  expect(await chat.ask(owen, { action: 'report', roomId, seq: one.seq, reason: 'spam' })).toMatchObject({
    code: 'BAD_REQUEST',
    message: expect.stringContaining('your own message'),
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

it('owner and moderators hear of reports, list the open ones a page at a time and close each once, for both', async () => {
  const olivia = await chat.device('olivia');
  const mia = await chat.device('mia');
  const bob = await chat.device('bob');
  const carol = await chat.device('carol-r');
  const dan = await chat.device('dan-r');
  const roomId = await roomWith(olivia, mia, bob, carol, dan);
  await olivia.expectReply({ action: 'setrole', username: 'mia', role: 'moderator' });
  const spam = [
    await said(carol, 'spam one'),
    await said(carol, 'spam two'),
    await said(carol, 'spam three'),
  ];

  // Three reports (two a person an hour here): the owner and the moderator hear of each at once.
  const filed: Frame[] = [];
  for (const [who, name, message] of [
    [bob, 'bob', spam[0]],
    [bob, 'bob', spam[1]],
    [dan, 'dan-r', spam[2]],
  ] as const) {
    const reply = await chat.ask(who, { action: 'report', roomId, seq: message?.seq, reason: 'spam' });
    expect(reply).toMatchObject({ type: 'reported' });
    filed.push(reply.report as Frame);
    for (const staff of [olivia, mia])
      expect(
        await staff.next(
          (f) => f.type === 'reported' && (f.report as Frame).reportId === (reply.report as Frame).reportId,
        ),
      ).toMatchObject({ report: { seq: message?.seq, reportedBy: name } });
  }
  const ids = filed.map((r) => r.reportId);

  // A plain member is refused both routes, and told who may.
  for (const frame of [
    { action: 'reports', roomId },
    { action: 'resolvereport', roomId, reportId: ids[0], outcome: 'dismissed' },
  ])
    expect(await chat.ask(carol, frame)).toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('owner or a moderator'),
    });

  // The moderator pages through them newest first: two, then the last one with no `next`.
  const first = await chat.ask(mia, { action: 'reports', roomId, limit: 2 });
  expect((first.reports as Frame[]).map((r) => r.reportId)).toEqual([ids[2], ids[1]]);
  expect(first.next).toEqual(expect.any(String));
  const second = await chat.ask(mia, { action: 'reports', roomId, limit: 2, before: first.next });
  expect((second.reports as Frame[]).map((r) => r.reportId)).toEqual([ids[0]]);
  expect(second.next).toBeUndefined();
  for (const bad of [{ limit: 0 }, { limit: 51 }, { before: 'yesterday' }])
    expect(await chat.ask(mia, { action: 'reports', roomId, ...bad })).toMatchObject({ code: 'BAD_REQUEST' });

  // A report of another room is not this room's to close.
  const xena = await chat.device('xena');
  const other = await roomWith(xena, dan);
  const elsewhere = await said(xena, 'elsewhere');
  const foreign = await chat.ask(dan, {
    action: 'report',
    roomId: other,
    seq: elsewhere.seq,
    reason: 'spam',
  });
  expect(foreign).toMatchObject({ type: 'reported' });
  expect(
    await chat.ask(mia, {
      action: 'resolvereport',
      roomId,
      reportId: (foreign.report as Frame).reportId,
      outcome: 'dismissed',
    }),
  ).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining(`Room ${roomId} has no report`) });
  for (const bad of [
    { reportId: 'not-a-report', outcome: 'dismissed' },
    { reportId: ids[0], outcome: 'ban' },
  ])
    expect(await chat.ask(mia, { action: 'resolvereport', roomId, ...bad })).toMatchObject({
      code: 'BAD_REQUEST',
    });

  // The moderator dismisses one: the owner is told at once, and it is closed for her too.
  const dismissed = await chat.ask(mia, {
    action: 'resolvereport',
    roomId,
    reportId: ids[0],
    outcome: 'dismissed',
  });
  expect(dismissed).toMatchObject({ type: 'reportresolved', roomId, reportId: ids[0], resolvedBy: 'mia' });
  expect(await olivia.next((f) => f.type === 'reportresolved')).toMatchObject({
    reportId: ids[0],
    outcome: 'dismissed',
  });
  expect(
    await chat.ask(olivia, { action: 'resolvereport', roomId, reportId: ids[0], outcome: 'dismissed' }),
  ).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('resolved already') });

  // "Delete the message": refused while it stands; the moderator's delete, then the report closes as deleted.
  expect(
    await chat.ask(olivia, { action: 'resolvereport', roomId, reportId: ids[1], outcome: 'deleted' }),
  ).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('is not deleted') });
  await mia.expectReply({ action: 'deletemessage', seq: spam[1]?.seq });
  expect(
    await chat.ask(olivia, { action: 'resolvereport', roomId, reportId: ids[1], outcome: 'deleted' }),
  ).toMatchObject({ type: 'reportresolved', outcome: 'deleted', resolvedBy: 'olivia' });
  expect(await mia.next((f) => f.type === 'reportresolved' && f.reportId === ids[1])).toMatchObject({
    outcome: 'deleted',
  });

  // One report stays open, for both; each closing is a row of the moderation log.
  for (const staff of [olivia, mia])
    expect(
      ((await chat.ask(staff, { action: 'reports', roomId })).reports as Frame[]).map((r) => r.reportId),
    ).toEqual([ids[2]]);
  const rows = await auditRows(String(dismissed.resolvedAt).slice(0, 10));
  expect(rows).toContainEqual(expect.objectContaining({ kind: 'resolvereport', roomId, actorName: 'mia' }));
});
