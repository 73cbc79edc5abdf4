import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ChatClient } from '../helpers/chatClient';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * The runtime settings change while the chat runs: `npm run settings` rewrites the stack's settings document (here
 * the local cloud's Parameter Store, as on AWS) and the functions already running follow it once their cached copy
 * ages out, with no restart or deploy. The functions' cache is 1 s here (LocalCloudOptions.settingsMaxAgeSeconds;
 * 60 s on AWS). The local Parameter Store refuses what AWS refuses.
 */
jest.setTimeout(240_000);
const run = promisify(execFile);
const MAX_AGE_SECONDS = 1;
let testCloud: TestCloud;
const open: ChatClient[] = [];

beforeAll(async () => {
  testCloud = await startTestCloud({
    settings: { LobbyPolicy: 'broadcasts' },
    settingsMaxAgeSeconds: MAX_AGE_SECONDS,
  });
});
afterAll(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await testCloud.cloud.close();
});

const ssm = (credentials = { accessKeyId: 'local', secretAccessKey: 'local' }) =>
  new SSMClient({
    endpoint: testCloud.cloud.ssmEndpoint,
    region: testCloud.cloud.template.region,
    credentials,
  });

it('a change written by npm run settings reaches the running functions without a restart', async () => {
  const alice = await ChatClient.connect(testCloud.cloud.wsUrl, 'alice');
  open.push(alice);
  const before = await alice.ask({ action: 'sendmessage', message: 'hello lobby' });
  expect(before).toMatchObject({ type: 'error', message: expect.stringContaining('announcements only') });

  const { stdout } = await run(
    process.execPath,
    [
      join(__dirname, '..', '..', 'scripts', 'settings.mjs'),
      '--stack',
      testCloud.cloud.template.stackName,
      '--endpoint-url',
      testCloud.cloud.ssmEndpoint,
      'LobbyPolicy=open',
    ],
    { encoding: 'utf8' },
  );
  expect(stdout).toMatch(/^\* LobbyPolicy +"open"/m);

  await new Promise((resolve) => setTimeout(resolve, MAX_AGE_SECONDS * 1000 + 200));
  const after = await alice.expectReply({ action: 'sendmessage', message: 'hello lobby' });
  expect(after).toMatchObject({ type: 'ack' });
});

it('refuses a PutParameter without Overwrite on the existing document, as AWS does', async () => {
  const name = testCloud.cloud.settingsParameter as string;
  expect(name).toBe(`/${testCloud.cloud.template.stackName}/settings`);
  await expect(
    ssm().send(new PutParameterCommand({ Name: name, Value: '{}', Type: 'String' })),
  ).rejects.toMatchObject({
    name: 'ParameterAlreadyExists',
  });
});

it("refuses a function's write of the document: its role may only read it", async () => {
  const name = testCloud.cloud.settingsParameter as string;
  // Any feature function will do: each attaches SettingsReadPolicy, which grants ssm:GetParameter on the document.
  const fn = ssm(testCloud.cloud.iam.credentials('MessagesFunction'));
  const read = await fn.send(new GetParameterCommand({ Name: name }));
  expect(JSON.parse(read.Parameter?.Value ?? '')).toHaveProperty('LobbyPolicy');
  await expect(
    fn.send(new PutParameterCommand({ Name: name, Value: '{}', Type: 'String', Overwrite: true })),
  ).rejects.toMatchObject({ name: 'AccessDeniedException' });
});
