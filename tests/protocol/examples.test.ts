import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatClient, FRAME_TIMEOUT_MS } from '../helpers/chatClient';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';
import { type Example, matchFrame, parseExamples, substitute } from '../helpers/wscatExamples';

/**
 * Every `wscat` example in docs/PROTOCOL.md runs against the local cloud as written: a reader who types it into
 * wscat sees the frames it promises. Anonymous blocks run on a cloud without sign-in (`?username=`); `wscat
 * signed-in` blocks on a second one with AuthMode=oidc, started only if such a block exists, whose clients connect
 * with `?token=` and an ID token from the development issuer's token shortcut, as a reader of docs/ACCESS.md gets one.
 */
jest.setTimeout(240_000);

const examples = parseExamples(readFileSync(join(__dirname, '..', '..', 'docs', 'PROTOCOL.md'), 'utf8'));

let testCloud: TestCloud;
let signedInCloud: TestCloud | undefined;
const open: ChatClient[] = [];

beforeAll(async () => {
  testCloud = await startTestCloud();
  if (examples.some((example) => example.signedIn)) {
    signedInCloud = await startTestCloud({ parameters: { AuthMode: 'oidc' } });
  }
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await Promise.all([testCloud?.cloud.close(), signedInCloud?.cloud.close()]);
});

/** `name`'s ID token, as `GET /dev-oidc/token?username=<name>` gives it to anyone who asks the local issuer. */
async function idToken(cloud: TestCloud, name: string): Promise<string> {
  const issuer = cloud.cloud.devIssuer;
  if (issuer === undefined) throw new Error('the signed-in cloud has no development issuer');
  const response = await fetch(`${issuer.url}/dev-oidc/token?username=${encodeURIComponent(name)}`);
  if (!response.ok) throw new Error(`the development issuer answered ${response.status}`);
  return ((await response.json()) as { id_token: string }).id_token;
}

async function connect(example: Example, name: string): Promise<ChatClient> {
  if (!example.signedIn) return ChatClient.connect(testCloud.cloud.wsUrl, name);
  const cloud = signedInCloud as TestCloud;
  return ChatClient.connect(`${cloud.cloud.wsUrl}?token=${encodeURIComponent(await idToken(cloud, name))}`);
}

it('the protocol reference has runnable examples', () => {
  expect(examples.length).toBeGreaterThan(0);
});

async function run(example: Example): Promise<void> {
  const clients = new Map<string, ChatClient>();
  const vars = new Map<string, unknown>();
  const client = async (name: string): Promise<ChatClient> => {
    let found = clients.get(name);
    if (found === undefined) {
      found = await connect(example, name);
      open.push(found);
      clients.set(name, found);
    }
    return found;
  };
  for (const step of example.steps) {
    const chat = await client(step.client);
    const where = `PROTOCOL.md line ${step.line}`;
    if (step.direction === 'send') {
      chat.send(substitute(step.frame, vars));
      continue;
    }
    const frame = await chat.next(
      (f) => matchFrame(step.frame, f, vars) !== undefined,
      // A frame waited for as long as any test's (a CI machine running three test files may be slow to answer);
      // every wait is for a frame that must come, so a longer wait delays a failure and never hides one.
      FRAME_TIMEOUT_MS,
      `${where}: ${step.client}< ${JSON.stringify(step.frame)}`,
    );
    for (const [name, value] of matchFrame(step.frame, frame, vars) ?? []) vars.set(name, value);
  }
}

describe.each(examples.map((example) => [`line ${example.line} (${example.heading})`, example] as const))(
  'the example at %s',
  (_name, example) => {
    it('runs as written', async () => {
      await run(example);
    });
  },
);
