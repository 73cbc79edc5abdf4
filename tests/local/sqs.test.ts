import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { type LocalQueue, loadTemplate } from '../../tools/infra/template';
import { LocalSqs } from '../../tools/local/sqs';
import { serveWithClient, TEST_ACCOUNT, TEST_REGION, testQueue } from '../helpers/localCloud';
import { scratchFolder } from '../helpers/scratch';

/**
 * The local SQS through the real @aws-sdk/client-sqs: FIFO order and deduplication, visibility timeouts, receive
 * counts and the redrive to a dead-letter queue, as SQS documents them (docs/PARITY.md, "SQS"). Every SQS duration
 * runs on a clock the test steps (`pass`): a 30-second visibility timeout ends when the test says 30 seconds have
 * passed, never while a loaded machine is slow between two receives.
 */
const region = TEST_REGION;
const accountId = TEST_ACCOUNT;
const queue = testQueue;

const dlq = queue('events-dlq.fifo');
const fifo = queue('events.fifo', {
  redrivePolicy: { deadLetterTargetArn: dlq.arn, maxReceiveCount: 3 },
});
const byContent = queue('content.fifo', { contentBasedDeduplication: true });
const standard = queue('plain');

let sqs: LocalSqs;
let served: Awaited<ReturnType<typeof serveWithClient<SQSClient>>>;
let client: SQSClient;
let endpoint: string;
const urlOf = (q: LocalQueue) => `${endpoint}/${accountId}/${q.name}`;
/** SQS's clock (epoch ms), stepped by the test. */
let clockMs = 0;
/** `seconds` pass on SQS's clock, at once. */
const pass = (seconds: number) => {
  clockMs += seconds * 1000;
};

beforeEach(async () => {
  clockMs = Date.now();
  sqs = new LocalSqs({
    queues: [dlq, fifo, byContent, standard],
    region,
    accountId,
    testClock: { msPerSecond: 1000, now: () => clockMs },
  });
  served = await serveWithClient(
    (req, res) => sqs.handle(req, res),
    (config) => new SQSClient(config),
  );
  ({ client, endpoint } = served);
});

afterEach(async () => {
  sqs.close();
  await served.close();
});

const send = (q: LocalQueue, body: string, group?: string, dedup?: string) =>
  client.send(
    new SendMessageCommand({
      QueueUrl: urlOf(q),
      MessageBody: body,
      ...(group && { MessageGroupId: group }),
      ...(dedup && { MessageDeduplicationId: dedup }),
    }),
  );
const receive = async (q: LocalQueue, max = 10) =>
  (
    await client.send(
      new ReceiveMessageCommand({
        QueueUrl: urlOf(q),
        MaxNumberOfMessages: max,
        MessageSystemAttributeNames: ['All'],
      }),
    )
  ).Messages ?? [];

describe('FIFO order', () => {
  it('gives a group its messages in order, none while an earlier one is in flight; other groups go on', async () => {
    for (const [body, group] of [
      ['a1', 'A'],
      ['b1', 'B'],
      ['a2', 'A'],
      ['b2', 'B'],
      ['a3', 'A'],
    ])
      await send(fifo, body as string, group, body);
    // One receive of 1: the first group's first message; A is then in flight, so the next receive gets B only.
    expect((await receive(fifo, 1)).map((m) => m.Body)).toEqual(['a1']);
    const second = await receive(fifo, 10);
    expect(second.map((m) => m.Body)).toEqual(['b1', 'b2']);
    expect(await receive(fifo)).toEqual([]);
    // Within its 30 s visibility timeout the first group stays in flight; at its end, unanswered, its message comes
    // back first, then a2 and a3.
    pass(29);
    expect(await receive(fifo)).toEqual([]);
    pass(1);
    const again = await receive(fifo, 10);
    expect(again.map((m) => m.Body)).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
    expect(again[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
    expect(again[0]?.Attributes?.MessageGroupId).toBe('A');
    expect(BigInt(again[1]?.Attributes?.SequenceNumber ?? 0)).toBeGreaterThan(
      BigInt(again[0]?.Attributes?.SequenceNumber ?? 0),
    );
  });

  it('a deleted message lets the next of its group through at once', async () => {
    await send(fifo, 'x1', 'X', 'x1');
    await send(fifo, 'x2', 'X', 'x2');
    const [first] = await receive(fifo, 1);
    expect(await receive(fifo)).toEqual([]);
    await client.send(
      new DeleteMessageCommand({ QueueUrl: urlOf(fifo), ReceiptHandle: first?.ReceiptHandle }),
    );
    expect((await receive(fifo)).map((m) => m.Body)).toEqual(['x2']);
  });
});

describe('deduplication', () => {
  it('accepts a repeated deduplication id within 5 minutes without delivering it again', async () => {
    const first = await send(fifo, 'one', 'D', 'same-id');
    const repeat = await send(fifo, 'two', 'D', 'same-id');
    expect(repeat.MessageId).toBe(first.MessageId);
    expect((await receive(fifo)).map((m) => m.Body)).toEqual(['one']);
  });

  it('deduplicates by the SHA-256 of the body with content-based deduplication, and not after the interval', async () => {
    await send(byContent, 'same body', 'G');
    await send(byContent, 'same body', 'G');
    const [only] = await receive(byContent);
    expect(only?.Attributes?.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
    expect(sqs.peek(byContent.arn)).toHaveLength(1);
    await client.send(
      new DeleteMessageCommand({ QueueUrl: urlOf(byContent), ReceiptHandle: only?.ReceiptHandle }),
    );
    pass(300);
    await send(byContent, 'same body', 'G');
    expect(sqs.peek(byContent.arn)).toHaveLength(1);
  });
});

describe('visibility and redrive', () => {
  it('moves a message to the dead-letter queue after maxReceiveCount receives, keeping its id and group', async () => {
    const sent = await send(fifo, 'poison', 'P', 'poison');
    for (let receiveCount = 1; receiveCount <= 3; receiveCount++) {
      const [got] = await receive(fifo);
      expect(got?.Attributes?.ApproximateReceiveCount).toBe(String(receiveCount));
      pass(30);
    }
    expect(await receive(fifo)).toEqual([]);
    const [dead] = await receive(dlq);
    expect(dead).toMatchObject({ MessageId: sent.MessageId, Body: 'poison' });
    expect(dead?.Attributes).toMatchObject({ MessageGroupId: 'P', DeadLetterQueueSourceArn: fifo.arn });
  });

  it('deletes only with the latest receipt handle; an older one succeeds and deletes nothing', async () => {
    await send(standard, 'stale');
    const [first] = await receive(standard);
    pass(30);
    const [second] = await receive(standard);
    await client.send(
      new DeleteMessageCommand({ QueueUrl: urlOf(standard), ReceiptHandle: first?.ReceiptHandle }),
    );
    expect(sqs.peek(standard.arn)).toHaveLength(1);
    await client.send(
      new DeleteMessageCommand({ QueueUrl: urlOf(standard), ReceiptHandle: second?.ReceiptHandle }),
    );
    expect(sqs.peek(standard.arn)).toHaveLength(0);
  });

  it('counts visible and in-flight messages; a visibility of 0 makes a message visible again', async () => {
    await send(standard, 'm1');
    await send(standard, 'm2');
    const [got] = await receive(standard, 1);
    const attributes = async () =>
      (
        await client.send(
          new GetQueueAttributesCommand({
            QueueUrl: urlOf(standard),
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        )
      ).Attributes;
    expect(await attributes()).toEqual({
      ApproximateNumberOfMessages: '1',
      ApproximateNumberOfMessagesNotVisible: '1',
    });
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: urlOf(standard),
        ReceiptHandle: got?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    expect((await attributes())?.ApproximateNumberOfMessages).toBe('2');
  });
});

describe('what SQS refuses', () => {
  const refusal = async (promise: Promise<unknown>) => {
    try {
      await promise;
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
    throw new Error('expected a refusal');
  };

  it('a FIFO message without a group, or without a deduplication id on a queue without content-based deduplication', async () => {
    expect(await refusal(send(fifo, 'no group'))).toBe(
      'MissingParameter: The request must contain the parameter MessageGroupId.',
    );
    expect(await refusal(send(fifo, 'no dedup', 'G'))).toBe(
      'InvalidParameterValue: The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
    );
  });

  it('a message over 256 KiB', async () => {
    expect(await send(standard, 'x'.repeat(262_144))).toHaveProperty('MessageId');
    expect(await refusal(send(standard, 'x'.repeat(262_145)))).toMatch(
      /^InvalidParameterValue: .*Message must be shorter than 262144 bytes/,
    );
  });

  it('a queue that does not exist', async () => {
    expect(
      await refusal(
        client.send(new SendMessageCommand({ QueueUrl: `${endpoint}/${accountId}/nope`, MessageBody: 'x' })),
      ),
    ).toBe('QueueDoesNotExist: The specified queue does not exist.');
  });
});

describe('queues in a template', () => {
  const scratch = scratchFolder('roomcast-sqs-');
  const queues = (resources: string) => loadTemplate(scratch.write(`Resources:\n${resources}`)).queues();

  it('reads FIFO, deduplication, timeouts and the redrive policy; Ref is the URL', () => {
    const [main, dead] = queues(`
  Main:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      ContentBasedDeduplication: true
      VisibilityTimeout: 60
      RedrivePolicy: { deadLetterTargetArn: !GetAtt Dead.Arn, maxReceiveCount: 5 }
  Dead:
    Type: AWS::SQS::Queue
    Properties: { FifoQueue: true, QueueName: dead.fifo }
`);
    expect(main).toMatchObject({
      name: 'roomcast-local-Main.fifo',
      url: `https://sqs.${region}.amazonaws.com/${accountId}/roomcast-local-Main.fifo`,
      fifo: true,
      contentBasedDeduplication: true,
      visibilityTimeoutSeconds: 60,
      messageRetentionSeconds: 345_600,
      redrivePolicy: {
        deadLetterTargetArn: `arn:aws:sqs:${region}:${accountId}:dead.fifo`,
        maxReceiveCount: 5,
      },
    });
    expect(dead).toMatchObject({ name: 'dead.fifo', visibilityTimeoutSeconds: 30 });
  });

  it.each([
    ['a FIFO name without .fifo', 'FifoQueue: true, QueueName: plain', /must end with the \.fifo suffix/],
    [
      'content-based deduplication on a standard queue',
      'ContentBasedDeduplication: true',
      /only a FIFO queue/,
    ],
    ['a visibility timeout over 12 hours', 'VisibilityTimeout: 43201', /outside SQS's range 0\.\.43200/],
    [
      'a standard dead-letter queue for a FIFO queue',
      'FifoQueue: true, RedrivePolicy: { deadLetterTargetArn: !GetAtt Plain.Arn, maxReceiveCount: 3 }',
      /dead-letter queue of a FIFO queue must also be a FIFO queue/,
    ],
  ])('refuses %s', (_what, properties, message) => {
    expect(() =>
      queues(`
  Q:
    Type: AWS::SQS::Queue
    Properties: { ${properties} }
  Plain:
    Type: AWS::SQS::Queue
`),
    ).toThrow(message);
  });
});
