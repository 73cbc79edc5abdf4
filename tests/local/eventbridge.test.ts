import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { LocalEventRule, LocalEventTarget } from '../../tools/infra/template';
import { createEventBridge, type LocalEvent, type LocalEventBridge } from '../../tools/local/eventbridge';
import { LocalSqs } from '../../tools/local/sqs';
import { serveWithClient, TEST_ACCOUNT, TEST_REGION, testQueue } from '../helpers/localCloud';

const region = TEST_REGION;
const accountId = TEST_ACCOUNT;
const bus = { name: 'chat', arn: `arn:aws:events:${region}:${accountId}:event-bus/chat` };
const fanout: LocalEventTarget = {
  kind: 'stateMachine',
  logicalId: 'Fanout',
  arn: `arn:aws:states:${region}:${accountId}:stateMachine:fanout`,
  deadLetterArn: `arn:aws:sqs:${region}:${accountId}:chat-dead-letters`,
};
const rule: LocalEventRule = {
  logicalId: 'ChatRule',
  busName: 'chat',
  pattern: { source: ['roomcast.chat'], 'detail-type': ['MessageSent', 'Presence'] },
  targets: [fanout],
};
const detailRule: LocalEventRule = {
  logicalId: 'DetailRule',
  busName: 'default',
  pattern: { source: ['other'] },
  targets: [{ kind: 'function', logicalId: 'Fn', arn: 'arn:fn', inputPath: '$.detail' }],
};

/** A bridge whose chat rule has the one target `target`, its deliveries dropped unless `options` says otherwise. */
const bridgeTo = (target: LocalEventTarget, options: Partial<Parameters<typeof createEventBridge>[0]>) =>
  createEventBridge({
    buses: [bus],
    rules: [{ ...rule, targets: [target] }],
    region,
    accountId,
    onTarget: () => undefined,
    ...options,
  });

/** An SDK client of `bridge`, served on its own port until `close`. */
const bridgeClient = (bridge: LocalEventBridge) =>
  serveWithClient(
    (req, res) => bridge.handle(req, res),
    (config) => new EventBridgeClient(config),
  );

interface Delivered {
  target: LocalEventTarget;
  input: unknown;
  event: LocalEvent;
}

describe('local EventBridge', () => {
  let served: Awaited<ReturnType<typeof serveWithClient<EventBridgeClient>>>;
  let bridge: LocalEventBridge;
  let client: EventBridgeClient;
  let endpoint: string;
  let delivered: Delivered[];
  let logs: string[];
  let failTarget: boolean;

  beforeAll(async () => {
    bridge = createEventBridge({
      buses: [bus],
      rules: [rule, detailRule],
      region,
      accountId,
      onTarget: async (target, input, event) => {
        if (failTarget) throw new Error('state machine exploded');
        delivered.push({ target, input, event });
      },
      log: (line) => logs.push(line),
    });
    served = await serveWithClient(
      (req, res) => bridge.handle(req, res),
      (config) => new EventBridgeClient(config),
      {
        maxAttempts: 1,
      },
    );
    ({ client, endpoint } = served);
  });

  beforeEach(() => {
    delivered = [];
    logs = [];
    failTarget = false;
    bridge.setFaultPutEvents(0);
  });

  afterAll(() => served.close());

  const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
  const entry = (detailType: string, detail: unknown, busName: string | undefined = 'chat') => ({
    Source: 'roomcast.chat',
    DetailType: detailType,
    Detail: JSON.stringify(detail),
    EventBusName: busName,
  });

  it('delivers a matching event to the rule target with the parsed detail', async () => {
    const out = await client.send(
      new PutEventsCommand({ Entries: [entry('MessageSent', { roomId: 'R1', seq: 1 })] }),
    );
    expect(out.FailedEntryCount).toBe(0);
    const eventId = out.Entries?.[0]?.EventId;
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/);
    await settle();
    expect(delivered).toHaveLength(1);
    const [first] = delivered;
    expect(first?.target).toBe(fanout);
    expect(first?.input).toBe(first?.event);
    expect(first?.event).toMatchObject({
      version: '0',
      id: eventId,
      'detail-type': 'MessageSent',
      source: 'roomcast.chat',
      account: accountId,
      region,
      resources: [],
      detail: { roomId: 'R1', seq: 1 },
    });
    expect(first?.event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('accepts the bus ARN and does not deliver non-matching events', async () => {
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          entry('Typing', { roomId: 'R1' }, bus.arn),
          { Source: 'roomcast.chat', DetailType: 'MessageSent', Detail: '{}' },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(0);
    await settle();
    expect(delivered).toHaveLength(0);
  });

  it('applies a target InputPath and uses the default bus when none is given', async () => {
    const out = await client.send(
      new PutEventsCommand({ Entries: [{ Source: 'other', DetailType: 'X', Detail: '{"a":1}' }] }),
    );
    expect(out.FailedEntryCount).toBe(0);
    await settle();
    expect(delivered.map((d) => d.input)).toEqual([{ a: 1 }]);
  });

  it('fails every entry with a fault share of 1', async () => {
    bridge.setFaultPutEvents(1);
    const before = bridge.stats();
    const out = await client.send(
      new PutEventsCommand({ Entries: [entry('MessageSent', { n: 1 }), entry('Presence', { n: 2 })] }),
    );
    expect(out.FailedEntryCount).toBe(2);
    expect(out.Entries).toEqual([
      { ErrorCode: 'InternalFailure', ErrorMessage: expect.any(String) },
      { ErrorCode: 'InternalFailure', ErrorMessage: expect.any(String) },
    ]);
    await settle();
    expect(delivered).toHaveLength(0);
    const after = bridge.stats();
    expect(after.received - before.received).toBe(2);
    expect(after.failed - before.failed).toBe(2);
  });

  it('fails exactly the given share of entries', async () => {
    bridge.setFaultPutEvents(0.5);
    const out = await client.send(
      new PutEventsCommand({ Entries: Array.from({ length: 10 }, (_v, i) => entry('MessageSent', { i })) }),
    );
    expect(out.FailedEntryCount).toBe(5);
    await settle();
    expect(delivered).toHaveLength(5);
    expect(() => bridge.setFaultPutEvents(2)).toThrow(/0\.\.1/);
  });

  it('answers bad entries with entry errors and delivers the good ones', async () => {
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'roomcast.chat', DetailType: 'MessageSent', Detail: 'not json', EventBusName: 'chat' },
          { Source: 'roomcast.chat', DetailType: 'MessageSent', Detail: '[1,2]', EventBusName: 'chat' },
          { DetailType: 'MessageSent', Detail: '{}', EventBusName: 'chat' },
          entry('MessageSent', {}, 'nosuchbus'),
          entry('MessageSent', { ok: true }),
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(4);
    expect(out.Entries?.map((e) => e.ErrorCode)).toEqual([
      'MalformedDetail',
      'MalformedDetail',
      'InvalidArgument',
      'ResourceNotFoundException',
      undefined,
    ]);
    expect(out.Entries?.[3]?.ErrorMessage).toContain('nosuchbus');
    await settle();
    expect(delivered.map((d) => d.event.detail)).toEqual([{ ok: true }]);
  });

  it('logs a failing target instead of swallowing it', async () => {
    failTarget = true;
    const before = bridge.stats().targetErrors;
    const out = await client.send(new PutEventsCommand({ Entries: [entry('Presence', { roomId: 'R2' })] }));
    expect(out.FailedEntryCount).toBe(0);
    await settle();
    expect(bridge.stats().targetErrors).toBe(before + 1);
    expect(logs.join('\n')).toMatch(/rule ChatRule target Fanout failed for event .*state machine exploded/);
  });

  it("keeps an event its target could not take in the target's dead-letter queue, and only that one", async () => {
    const before = bridge.deadLetters(fanout.deadLetterArn as string).length;
    await client.send(new PutEventsCommand({ Entries: [entry('MessageSent', { roomId: 'ok' })] }));
    await settle();
    failTarget = true;
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          entry('MessageSent', { roomId: 'lost' }),
          { Source: 'other', DetailType: 'Other', Detail: '{}' },
        ],
      }),
    );
    await settle();
    const kept = bridge.deadLetters(fanout.deadLetterArn as string).slice(before);
    expect(kept).toEqual([
      {
        event: expect.objectContaining({ id: out.Entries?.[0]?.EventId, detail: { roomId: 'lost' } }),
        ruleLogicalId: 'ChatRule',
        targetArn: fanout.arn,
        error: 'Error: state machine exploded',
      },
    ]);
    // The other rule's target has no DeadLetterConfig: its failure is only logged, as EventBridge drops it.
    expect(bridge.stats().deadLettered).toBe(before + 1);
  });

  it('answers unknown operations and bad JSON like AWS JSON 1.1', async () => {
    const post = (target: string, body: string) =>
      fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
        body,
      });
    const unknown = await post('AWSEvents.ListRules', '{}');
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ __type: 'UnknownOperationException' });
    const bad = await post('AWSEvents.PutEvents', '{nope');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ __type: 'SerializationException' });
    const tooMany = await post('AWSEvents.PutEvents', JSON.stringify({ Entries: [] }));
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({ __type: 'ValidationException' });
  });

  it('rejects a malformed rule pattern at creation', () => {
    expect(() =>
      createEventBridge({
        buses: [bus],
        rules: [{ ...rule, pattern: { source: 'roomcast.chat' } }],
        region,
        accountId,
        onTarget: () => undefined,
      }),
    ).toThrow(/Rule ChatRule: .*source/);
  });
});

describe('local EventBridge with the local SQS', () => {
  const dlq = testQueue('chat-dead-letters');
  const noDedup = testQueue('no-dedup.fifo');
  const sqs = new LocalSqs({ queues: [dlq, noDedup], region, accountId });
  afterAll(() => sqs.close());
  it("keeps a failed target's event in its dead-letter queue as a message, with EventBridge's attributes", async () => {
    const bridge = bridgeTo(
      { ...fanout, deadLetterArn: dlq.arn },
      {
        sqs,
        onTarget: async () => {
          throw new Error('state machine exploded');
        },
        log: () => undefined,
      },
    );
    const { client, close } = await bridgeClient(bridge);
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'roomcast.chat',
            DetailType: 'MessageSent',
            Detail: '{"roomId":"lost"}',
            EventBusName: 'chat',
          },
        ],
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [message] = sqs.peek(dlq.arn);
    expect(JSON.parse(message?.body ?? '{}')).toMatchObject({
      id: out.Entries?.[0]?.EventId,
      detail: { roomId: 'lost' },
    });
    expect(message?.attributes).toEqual({
      RULE_ARN: {
        DataType: 'String',
        StringValue: `arn:aws:events:${region}:${accountId}:rule/chat/ChatRule`,
      },
      TARGET_ARN: { DataType: 'String', StringValue: fanout.arn },
      ERROR_CODE: { DataType: 'String', StringValue: 'Error' },
      ERROR_MESSAGE: { DataType: 'String', StringValue: 'state machine exploded' },
    });
    expect(bridge.deadLetters(dlq.arn)).toEqual([
      expect.objectContaining({
        ruleLogicalId: 'ChatRule',
        targetArn: fanout.arn,
        error: 'Error: state machine exploded',
      }),
    ]);
    await close();
  });

  it('cannot deliver to a FIFO queue without content-based deduplication: EventBridge sends no deduplication id', async () => {
    const logs: string[] = [];
    const target: LocalEventTarget = {
      kind: 'queue',
      logicalId: 'NoDedup',
      arn: noDedup.arn,
      messageGroupId: 'g',
    };
    const bridge = bridgeTo(target, {
      sqs,
      log: (line) => logs.push(line),
    });
    const { client, close } = await bridgeClient(bridge);
    await client.send(
      new PutEventsCommand({
        Entries: [{ Source: 'roomcast.chat', DetailType: 'MessageSent', Detail: '{}', EventBusName: 'chat' }],
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sqs.peek(noDedup.arn)).toEqual([]);
    expect(bridge.stats().targetErrors).toBe(1);
    expect(logs.join('\n')).toMatch(
      /ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly/,
    );
    await close();
  });

  it('refuses a FIFO queue as a dead-letter queue, as PutTargets does', () => {
    expect(() =>
      bridgeTo(
        { ...fanout, deadLetterArn: noDedup.arn },
        {
          sqs,
        },
      ),
    ).toThrow('Rule ChatRule: ValidationException: SQS FIFO is not supported by Dead Letter Queues.');
  });
});

describe('local EventBridge retrying a throttled queue target', () => {
  const busy = testQueue('busy.fifo', { contentBasedDeduplication: true });
  const dead = testQueue('busy-dead-letters');

  it('retries a SendMessage SQS throttled per the RetryPolicy, then dead-letters the event', async () => {
    // The quotas' clock stands still: the second whose SendMessage quota is spent below never ends, however slowly a
    // loaded machine runs the retries.
    const second = Date.now();
    const sqs = new LocalSqs({ queues: [busy, dead], region, accountId, quotaNow: () => second });
    const target: LocalEventTarget = {
      kind: 'queue',
      logicalId: 'Busy',
      arn: busy.arn,
      messageGroupId: '$.detail.roomId',
      deadLetterArn: dead.arn,
      retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 60 },
    };
    const bridge = bridgeTo(target, {
      sqs,
      log: () => undefined,
      retryBaseMs: 10,
    });
    // The queue's SendMessage quota for this second is spent.
    for (let i = 0; i < 300; i++) sqs.send(busy.arn, { MessageBody: `m${i}`, MessageGroupId: 'r' });
    const { client, close } = await bridgeClient(bridge);
    await client.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'roomcast.chat',
            DetailType: 'MessageSent',
            Detail: '{"roomId":"r1"}',
            EventBusName: 'chat',
          },
        ],
      }),
    );
    // Two retries (after 10-20 ms and 20-40 ms), both inside the throttled second; the wait is a hang detector.
    const deadline = Date.now() + 60_000;
    while (sqs.peek(dead.arn).length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(bridge.stats()).toMatchObject({ retries: 2, targetErrors: 1, deadLettered: 1 });
    expect(sqs.peek(busy.arn)).toHaveLength(300);
    expect(bridge.deadLetters(dead.arn)).toEqual([
      expect.objectContaining({
        ruleLogicalId: 'ChatRule',
        targetArn: busy.arn,
        error: expect.stringMatching(/^RequestThrottled: Request is throttled/),
      }),
    ]);
    sqs.close();
    await close();
  });
});
