import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatClient } from '../helpers/chatClient';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';
import { type Example, matchFrame, parseExamples, substitute } from '../helpers/wscatExamples';

/**
 * Every `wscat` example in docs/PROTOCOL.md runs against the local cloud as written: a reader who types it into
 * wscat sees the frames it promises.
 */
jest.setTimeout(60_000);

const EXPECT_TIMEOUT_MS = 5_000;
const examples = parseExamples(readFileSync(join(__dirname, '..', '..', 'docs', 'PROTOCOL.md'), 'utf8'));

let testCloud: TestCloud;
const open: ChatClient[] = [];

beforeAll(async () => {
  testCloud = await startTestCloud();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await testCloud?.cloud.close();
});

it('the protocol reference has runnable examples', () => {
  expect(examples.length).toBeGreaterThan(0);
});

async function run(example: Example): Promise<void> {
  const clients = new Map<string, ChatClient>();
  const vars = new Map<string, unknown>();
  const client = async (name: string): Promise<ChatClient> => {
    let found = clients.get(name);
    if (found === undefined) {
      found = await ChatClient.connect(testCloud.cloud.wsUrl, name);
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
      EXPECT_TIMEOUT_MS,
      `${where}: ${JSON.stringify(step.frame)}`,
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
