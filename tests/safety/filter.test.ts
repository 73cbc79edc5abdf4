import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoModerationRecords } from '#safety/audit';
import { ChatClient, type Frame } from '../helpers/chatClient';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * The word filter before a message is stored (FilterWords, FilterMode), through the local cloud: in `mask` mode a
 * listed word (whole word, in any spelling the filter folds) is stored and delivered as asterisks, an edit too; in
 * `refuse` mode the send is answered FILTERED and nothing is stored. Each hit is a row of the moderation log, naming the words, never the text.
 */
jest.setTimeout(240_000);

let testCloud: TestCloud;
let db: DynamoDBClient;
const open: ChatClient[] = [];

beforeAll(async () => {
  testCloud = await startTestCloud({
    settings: { FilterWords: 'darn,heck', FilterMode: 'mask', FrameRateLimit: '1000' },
    settingsMaxAgeSeconds: 1,
  });
  const { cloud } = testCloud;
  db = new DynamoDBClient({
    endpoint: cloud.dynamoEndpoint,
    region: cloud.template.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  db?.destroy();
  await testCloud?.cloud.close();
});

const tableOf = (logicalId: string) =>
  testCloud.cloud.template.tables().find((t) => t.logicalId === logicalId)?.TableName;

async function connect(name: string): Promise<ChatClient> {
  const client = await ChatClient.connect(testCloud.cloud.wsUrl, name);
  open.push(client);
  return client;
}

async function storedText(roomId: string, seq: number): Promise<string | undefined> {
  const { Item } = await db.send(
    new GetItemCommand({
      TableName: tableOf('MessagesTable'),
      Key: { roomId: { S: roomId }, seq: { N: String(seq) } },
    }),
  );
  return Item?.text?.S;
}

/** Today's filter rows of the moderation log, every shard read as the operators' listing reads them (audit.ts ofDay). */
async function filterRows(): Promise<{ outcome?: string; words?: string[] }[]> {
  const day = new Date().toISOString().slice(0, 10);
  const rows = await new DynamoModerationRecords(
    DynamoDBDocumentClient.from(db),
    tableOf('SessionsTable') as string,
    'UsernameIndex',
    () => 3600,
  ).ofDay(day);
  return rows
    .filter((row) => row.kind === 'filtered')
    .map((row) => {
      const detail = row.detail as { outcome?: string; words?: string[] };
      return { outcome: detail.outcome, words: detail.words };
    });
}

it('masks a listed word in a message and an edit: stored and delivered masked, other words untouched', async () => {
  const ann = await connect('ann-filter');
  const bo = await connect('bo-filter');
  const { roomId } = (await ann.expectReply({ action: 'createroom' })) as { roomId: string };
  await bo.expectReply({ action: 'joinroom', roomId });

  const ack = (await ann.expectReply({
    action: 'sendmessage',
    message: 'Darn it, heckle the HECK out',
  })) as Frame & {
    seq: number;
  };
  const delivered = await bo.next((f) => f.type === 'message' && f.seq === ack.seq);
  expect(delivered.text).toBe('**** it, heckle the **** out');
  expect(await storedText(roomId, ack.seq)).toBe('**** it, heckle the **** out');

  const edited = await ann.expectReply({ action: 'editmessage', seq: ack.seq, message: 'oh darn' });
  expect((edited.message as Frame).text).toBe('oh ****');
  expect(await storedText(roomId, ack.seq)).toBe('oh ****');

  const clean = (await ann.expectReply({ action: 'sendmessage', message: 'darnation is fine' })) as Frame & {
    seq: number;
  };
  expect(await storedText(roomId, clean.seq)).toBe('darnation is fine');
  // Spelled in fullwidth letters, with a zero-width space, with Cyrillic е: still the word (filterFolding.test.ts).
  const folded = (await ann.expectReply({
    action: 'sendmessage',
    message: 'ｄａｒｎ, d\u200Barn and h\u0435ck',
  })) as Frame & { seq: number };
  const foldedDelivered = await bo.next((f) => f.type === 'message' && f.seq === folded.seq);
  expect(foldedDelivered.text).toBe('****, **** and ****');
  expect(await filterRows()).toContainEqual({ outcome: 'masked', words: ['darn', 'heck'] });
});

it('refuses a listed word with FILTERED in refuse mode, storing nothing', async () => {
  const ssm = new SSMClient({
    endpoint: testCloud.cloud.ssmEndpoint,
    region: testCloud.cloud.template.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ssm.send(
    new PutParameterCommand({
      Name: testCloud.cloud.settingsParameter,
      Value: JSON.stringify({ LobbyPolicy: 'open', FilterWords: 'darn,heck', FilterMode: 'refuse' }),
      Overwrite: true,
      Type: 'String',
    }),
  );
  ssm.destroy();
  await new Promise((resolve) => setTimeout(resolve, 1500));

  const cal = await connect('cal-filter');
  const { roomId } = (await cal.expectReply({ action: 'createroom' })) as { roomId: string };
  const refused = await cal.ask({ action: 'sendmessage', message: 'what the heck', clientMsgId: 'f1' });
  expect(refused).toMatchObject({
    type: 'error',
    code: 'FILTERED',
    action: 'sendmessage',
    clientMsgId: 'f1',
    message: expect.stringMatching(/reword/),
  });
  const history = await cal.expectReply({ action: 'history', roomId });
  expect(history.messages).toEqual([]);
  expect(await filterRows()).toContainEqual({ outcome: 'refused', words: ['heck'] });
  // The connection stays open: a filtered word is no strike.
  expect(await cal.expectReply({ action: 'sendmessage', message: 'what the hey' })).toMatchObject({
    type: 'ack',
  });
});
