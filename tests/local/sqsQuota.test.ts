import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type LocalQueue, loadTemplate } from '../../tools/infra/template';
import { AWS } from '../../tools/local/awsProfile';
import { LocalSqs } from '../../tools/local/sqs';
import { serveWithClient, TEST_ACCOUNT, TEST_REGION, testQueue } from '../helpers/localCloud';
import { scratchFolder } from '../helpers/scratch';

/**
 * SQS FIFO's throughput quotas hold in the local SQS as on AWS: 300 calls per second per action per queue, or per
 * message group in high-throughput mode (tools/local/awsProfile.ts). The window is one second on the quotas' clock,
 * which the tests step (LocalSqsOptions.quotaNow): how fast a loaded machine sends decides nothing.
 */
const region = TEST_REGION;
const accountId = TEST_ACCOUNT;
const QUOTA = AWS.quotas.sqsFifoCallsPerQueue.value;

/** A FIFO queue that deduplicates by content (the sends below give no deduplication id). */
const queue = (name: string, overrides: Partial<LocalQueue> = {}) =>
  testQueue(name, { contentBasedDeduplication: true, ...overrides });

const plain = queue('plain.fifo');
const fast = queue('fast.fifo', {
  deduplicationScope: 'messageGroup',
  fifoThroughputLimit: 'perMessageGroupId',
});

/** The quotas' clock (epoch ms): it moves only when a test steps it. */
let clock = Date.parse('2026-01-01T00:00:00Z');
let sqs: LocalSqs;
let served: Awaited<ReturnType<typeof serveWithClient<SQSClient>>>;
let client: SQSClient;

beforeAll(async () => {
  sqs = new LocalSqs({ queues: [plain, fast], region, accountId, quotaNow: () => clock });
  // The SDK retries throttling on its own: one attempt shows SQS's answer itself.
  served = await serveWithClient(
    (req, res) => sqs.handle(req, res),
    (config) => new SQSClient(config),
    {
      maxAttempts: 1,
    },
  );
  client = served.client;
});

afterAll(async () => {
  sqs.close();
  await served.close();
});

const urlOf = (q: LocalQueue) => `http://127.0.0.1/${accountId}/${q.name}`;
let body = 0;
const sendIn = (q: LocalQueue, group: string) =>
  sqs.send(q.arn, { MessageBody: `m${++body}`, MessageGroupId: group });

it('refuses the 301st SendMessage within a second on a FIFO queue, as SQS throttles it, and takes it again after', async () => {
  for (let i = 0; i < QUOTA; i++) sendIn(plain, `g${i % 7}`);
  // Over the quota whatever the group: in the default mode the quota is the queue's.
  const refused = await client
    .send(
      new SendMessageCommand({
        QueueUrl: urlOf(plain),
        MessageBody: 'one too many',
        MessageGroupId: 'other',
      }),
    )
    .then(
      () => undefined,
      (error: Error & { $metadata?: { httpStatusCode?: number } }) => error,
    );
  expect(refused?.name).toBe('RequestThrottled');
  expect(refused?.$metadata?.httpStatusCode).toBe(403);
  expect(sqs.peek(plain.arn).some((m) => m.body === 'one too many')).toBe(false);
  // Receives and deletes have quotas of their own.
  expect(sqs.receiveNow(plain.arn, 1)).toHaveLength(1);
  // One millisecond short of the second, still refused; at the second, the first sends have left the window.
  clock += 999;
  expect(() => sendIn(plain, 'other')).toThrow(expect.objectContaining({ code: 'RequestThrottled' }));
  clock += 1;
  const out = await client.send(
    new SendMessageCommand({
      QueueUrl: urlOf(plain),
      MessageBody: 'after the second',
      MessageGroupId: 'other',
    }),
  );
  expect(out.MessageId).toEqual(expect.any(String));
});

it('takes 300 calls a second per message group in high-throughput mode, over 300 in all, and refuses the 301st of one group', () => {
  clock += 60_000;
  for (const group of ['b', 'c', 'a']) for (let i = 0; i < QUOTA; i++) sendIn(fast, group);
  expect(() => sendIn(fast, 'a')).toThrow(expect.objectContaining({ code: 'RequestThrottled' }));
  expect(sqs.peek(fast.arn)).toHaveLength(3 * QUOTA);
  // Another group is on a partition of its own.
  expect(sendIn(fast, 'd').MessageId).toEqual(expect.any(String));
});

it('deduplicates per message group with DeduplicationScope messageGroup, per queue otherwise', () => {
  const perGroup = queue('pergroup.fifo', { deduplicationScope: 'messageGroup' });
  const perQueue = queue('perqueue.fifo');
  const local = new LocalSqs({ queues: [perGroup, perQueue], region, accountId });
  const send = (q: LocalQueue, group: string) =>
    local.send(q.arn, { MessageBody: 'x', MessageGroupId: group, MessageDeduplicationId: 'same' }).MessageId;
  expect(send(perGroup, 'a')).not.toBe(send(perGroup, 'b'));
  expect(send(perQueue, 'a')).toBe(send(perQueue, 'b'));
  local.close();
});

describe('high-throughput attributes in a template', () => {
  const scratch = scratchFolder('roomcast-sqs-quota-');
  const queues = (properties: string) =>
    loadTemplate(
      scratch.write(
        `Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: { FifoQueue: true, QueueName: q.fifo, ${properties} }\n`,
      ),
    ).queues();

  it('reads DeduplicationScope and FifoThroughputLimit', () => {
    expect(
      queues('DeduplicationScope: messageGroup, FifoThroughputLimit: perMessageGroupId')[0],
    ).toMatchObject({
      deduplicationScope: 'messageGroup',
      fifoThroughputLimit: 'perMessageGroupId',
    });
    expect(queues('ContentBasedDeduplication: true')[0]).toMatchObject({
      deduplicationScope: 'queue',
      fifoThroughputLimit: 'perQueue',
    });
  });

  it('refuses FifoThroughputLimit perMessageGroupId without DeduplicationScope messageGroup, as SQS does', () => {
    expect(() => queues('FifoThroughputLimit: perMessageGroupId')).toThrow(
      /FifoThroughputLimit: perMessageGroupId requires DeduplicationScope messageGroup/,
    );
    expect(() => queues('DeduplicationScope: group')).toThrow(
      /DeduplicationScope: expected one of queue, messageGroup/,
    );
  });
});
