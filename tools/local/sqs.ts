// Amazon SQS for the local cloud: the template's standard and FIFO queues, with SQS's semantics (visibility
// timeouts, receive counts, redrive to a dead-letter queue, FIFO order per message group and deduplication), served
// over the AWS JSON 1.0 protocol the real @aws-sdk/client-sqs speaks, each request checked by the local IAM.
// EventBridge (rule targets, dead letters) and Pipes (polling) use the same queues in process. docs/PARITY.md, "SQS".
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalQueue } from '../infra/template';
import { AWS, type AwsProfile, waitCall } from './awsProfile';
import type { RequestGuard } from './http';

/**
 * Tests only, never AWS's timing: one second of every SQS duration (visibility timeout, retention, the 5-minute
 * deduplication interval, delays) and of the pipes' batching windows lasts `msPerSecond` real milliseconds.
 */
export interface SqsTestClock {
  msPerSecond: number;
  /**
   * The clock visibility timeouts, delays, retention and the deduplication interval read (epoch ms; default
   * Date.now): a test that steps it decides when a timeout has passed, whatever a loaded machine's speed. Long polls
   * still wait real time.
   */
  now?: () => number;
}

/** A message attribute as SendMessage takes it and ReceiveMessage returns it. */
export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

/** What a sender gives: SendMessage's fields. */
export interface SendInput {
  MessageBody: string;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
  DelaySeconds?: number;
  MessageAttributes?: Record<string, MessageAttributeValue>;
}

/** A message as ReceiveMessage returns it (all attributes: callers pick what they asked for). */
export interface ReceivedMessage {
  MessageId: string;
  ReceiptHandle: string;
  MD5OfBody: string;
  Body: string;
  Attributes: Record<string, string>;
  MessageAttributes?: Record<string, MessageAttributeValue>;
  MD5OfMessageAttributes?: string;
}

interface StoredMessage {
  id: string;
  body: string;
  md5: string;
  attributes?: Record<string, MessageAttributeValue>;
  md5OfAttributes?: string;
  groupId?: string;
  dedupId?: string;
  sequenceNumber?: string;
  senderId: string;
  sentAt: number;
  /** Real ms when it may be received (delay, or the end of its visibility timeout). */
  visibleAt: number;
  /** Received and its visibility timeout not yet over. */
  inFlight: boolean;
  receiveCount: number;
  firstReceiveAt?: number;
  /** The handle of its latest receive: only that one deletes it (an older one succeeds without deleting). */
  receiptHandle?: string;
  /** When redriven: the queue it came from. */
  deadLetterSourceArn?: string;
}

/** An SQS error: its code as the SDK names it, and the awsQueryCompatible code the x-amzn-query-error header carries. */
export class SqsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly queryCode = code,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

/** The API actions SQS FIFO's throughput quota counts, each on its own (a batch call counts as one of its action). */
type QuotaAction = 'SendMessage' | 'ReceiveMessage' | 'DeleteMessage';

/**
 * What SQS answers a FIFO call over its throughput quota: the SDK's model of SQS (RequestThrottled, query code
 * RequestThrottled, HTTP 403), which the SDK's retry strategy treats as throttling. The developer guide calls the
 * error ThrottlingException (docs/PARITY.md, "SQS").
 */
function throttled(queue: string, action: QuotaAction, group?: string): SqsError {
  return new SqsError(
    'RequestThrottled',
    `Request is throttled: ${action} on ${queue}${group === undefined ? '' : ` for message group ${group}`} is over SQS FIFO's ${AWS.quotas.sqsFifoCallsPerQueue.value} calls per second.`,
    'RequestThrottled',
    403,
  );
}

const DEDUP_INTERVAL_SECONDS = 300;
const MAX_RECEIVE = 10;
/** SQS's ReceiveMessage long poll: at most 20 seconds. */
const MAX_WAIT_SECONDS = 20;

/** Whether an error is SQS's answer to a call over its throughput quota (a caller backs off and calls again). */
export const isThrottled = (error: unknown): boolean =>
  error instanceof SqsError && error.code === 'RequestThrottled';

export const md5 = (data: string | Buffer): string => createHash('md5').update(data).digest('hex');

/** MD5OfMessageAttributes as SQS computes it (and the SDK checks it): names sorted, each part length-prefixed. */
export function md5OfAttributes(attributes: Record<string, MessageAttributeValue>): string {
  const parts: Buffer[] = [];
  const prefixed = (data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    parts.push(length, data);
  };
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name] as MessageAttributeValue;
    prefixed(Buffer.from(name));
    prefixed(Buffer.from(value.DataType));
    const binary = value.DataType.startsWith('Binary');
    parts.push(Buffer.from([binary ? 2 : 1]));
    prefixed(binary ? Buffer.from(value.BinaryValue ?? '', 'base64') : Buffer.from(value.StringValue ?? ''));
  }
  return md5(Buffer.concat(parts));
}

function attributesSize(attributes: Record<string, MessageAttributeValue> | undefined): number {
  let size = 0;
  for (const [name, value] of Object.entries(attributes ?? {}))
    size +=
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType) +
      (value.BinaryValue !== undefined
        ? Buffer.from(value.BinaryValue, 'base64').length
        : Buffer.byteLength(value.StringValue ?? ''));
  return size;
}

/** One queue: its messages in the order sent, and the deduplication ids seen within the last 5 minutes. */
class Queue {
  readonly messages: StoredMessage[] = [];
  readonly dedup = new Map<string, { messageId: string; sequenceNumber?: string; at: number }>();
  private sequence = 0n;
  readonly waiters = new Set<() => void>();
  /**
   * SQS FIFO's throughput quota: the times of the calls of the last second, per action (default mode) or per action
   * and message group (high-throughput mode), as a sliding one-second window on the SQS clock.
   */
  private readonly calls = new Map<string, number[]>();
  private admitted = 0;

  constructor(
    readonly spec: LocalQueue,
    private readonly ms: (seconds: number) => number,
  ) {}

  nextSequence(): string {
    this.sequence += 1n;
    return (10_000_000_000_000_000_000n + this.sequence).toString();
  }

  /** Drops what retention has expired and deduplication ids older than the interval. */
  expire(now: number): void {
    const retention = this.ms(this.spec.messageRetentionSeconds);
    for (let i = this.messages.length - 1; i >= 0; i--)
      if (now - (this.messages[i] as StoredMessage).sentAt >= retention) this.messages.splice(i, 1);
    const interval = this.ms(DEDUP_INTERVAL_SECONDS);
    for (const [id, seen] of this.dedup) if (now - seen.at >= interval) this.dedup.delete(id);
  }

  /** Ends the visibility timeouts that are over. */
  release(now: number): void {
    for (const m of this.messages) if (m.inFlight && m.visibleAt <= now) m.inFlight = false;
  }

  wake(): void {
    for (const wake of [...this.waiters]) wake();
  }

  /** High-throughput mode: the quota holds per message group (each group on its own partition). */
  get perGroup(): boolean {
    return this.spec.fifoThroughputLimit === 'perMessageGroupId';
  }

  /** A deduplication id's key: per message group with DeduplicationScope messageGroup, else per queue. */
  dedupKey(group: string | undefined, dedupId: string): string {
    return this.spec.deduplicationScope === 'messageGroup' ? `${group}\u0000${dedupId}` : dedupId;
  }

  private window(key: string, now: number): number[] {
    const times = this.calls.get(key) ?? [];
    const since = now - this.ms(1);
    let stale = 0;
    while (stale < times.length && (times[stale] as number) <= since) stale++;
    if (stale > 0) times.splice(0, stale);
    return times;
  }

  /** Whether a call of `action` (for `group` in high-throughput mode) would be over the quota now. */
  full(action: QuotaAction, group: string | undefined, now: number, limit: number): boolean {
    return this.window(this.quotaKey(action, group), now).length >= limit;
  }

  private quotaKey(action: QuotaAction, group: string | undefined): string {
    return this.perGroup ? `${action} ${group}` : action;
  }

  /**
   * Admits one call of `action` touching `groups` (the groups matter in high-throughput mode only), or throws SQS's
   * throttling error when it is over the quota for the queue or for any of the groups: then nothing is counted.
   */
  admit(action: QuotaAction, groups: (string | undefined)[], now: number, limit: number): void {
    if (!this.spec.fifo) return;
    const keys = this.perGroup ? [...new Set(groups)] : [undefined];
    for (const group of keys)
      if (this.full(action, group, now, limit)) throw throttled(this.spec.name, action, group);
    for (const group of keys) {
      const key = this.quotaKey(action, group);
      const times = this.window(key, now);
      times.push(now);
      this.calls.set(key, times);
    }
    // Now and then forget the windows no call touched for a second, so that many short-lived groups cost no memory.
    if (++this.admitted % 1000 === 0)
      for (const key of [...this.calls.keys()])
        if (this.window(key, now).length === 0) this.calls.delete(key);
  }
}

export interface LocalSqsOptions {
  queues: LocalQueue[];
  region: string;
  accountId: string;
  testClock?: SqsTestClock;
  /**
   * Tests only: the clock of the FIFO throughput quotas' one-second windows (epoch ms), so a test of a quota decides
   * when a second has passed instead of depending on how fast a loaded machine sends; default Date.now.
   */
  quotaNow?: () => number;
  /**
   * `--aws-profile`: each call over HTTP waits the profile's SQS latency before it is answered. Absent, calls are
   * answered at once. SQS FIFO's throughput quotas hold either way (AWS.quotas).
   */
  profile?: AwsProfile;
  /** Checks the caller of each HTTP request (the local IAM): `sqs:<Action>` on the queue's ARN. */
  guard?: RequestGuard;
  log?: (line: string) => void;
}

export interface QueueCounts {
  visible: number;
  inFlight: number;
  delayed: number;
}

/** The local SQS: the queues, the in-process API the other local services use, and the HTTP handler. */
export class LocalSqs {
  private readonly byName = new Map<string, Queue>();
  private readonly byArn = new Map<string, Queue>();
  private readonly msPerSecond: number;

  constructor(private readonly opts: LocalSqsOptions) {
    const msPerSecond = opts.testClock?.msPerSecond ?? 1000;
    if (!(Number.isFinite(msPerSecond) && msPerSecond > 0 && msPerSecond <= 1000))
      throw new Error(
        `the SQS test clock's msPerSecond must be above 0 and at most 1000, not ${msPerSecond}`,
      );
    this.msPerSecond = msPerSecond;
    for (const spec of opts.queues) {
      const queue = new Queue(spec, (s) => this.ms(s));
      this.byName.set(spec.name, queue);
      this.byArn.set(spec.arn, queue);
    }
  }

  /** SQS FIFO's calls per second per action: per queue, or per message group in high-throughput mode. */
  private limit(queue: Queue): number {
    return (queue.perGroup ? AWS.quotas.sqsFifoCallsPerGroup : AWS.quotas.sqsFifoCallsPerQueue).value;
  }

  /** Now on SQS's own clock (SqsTestClock.now), in epoch ms. */
  private now(): number {
    return (this.opts.testClock?.now ?? Date.now)();
  }

  /** Now on the quotas' clock (LocalSqsOptions.quotaNow). */
  private quotaNow(): number {
    return (this.opts.quotaNow ?? Date.now)();
  }

  /** Real milliseconds of `seconds` on this SQS's clock. */
  ms(seconds: number): number {
    return seconds * this.msPerSecond;
  }

  queueSpecs(): LocalQueue[] {
    return [...this.byArn.values()].map((q) => q.spec);
  }

  has(arn: string): boolean {
    return this.byArn.has(arn);
  }

  private queue(ref: string): Queue {
    const byArn = this.byArn.get(ref);
    if (byArn) return byArn;
    // A queue URL: any host (the SDK may send the AWS-style URL `Ref` gives), `/<account>/<name>`.
    const path = ref.includes('://') ? new URL(ref).pathname : ref;
    const [account, name] = path.replace(/^\//, '').split('/');
    const found = name !== undefined && account === this.opts.accountId ? this.byName.get(name) : undefined;
    if (!found)
      throw new SqsError(
        'QueueDoesNotExist',
        'The specified queue does not exist.',
        'AWS.SimpleQueueService.NonExistentQueue',
      );
    return found;
  }

  arnOf(ref: string): string {
    return this.queue(ref).spec.arn;
  }

  /** SendMessage: the message id (a duplicate within 5 minutes: the first one's), and for FIFO its sequence number. */
  send(
    queueRef: string,
    input: SendInput,
    senderId = 'AIDALOCALSENDER',
    /** False for the entries of a SendMessageBatch, which counts against the quota once, as a whole. */
    quota = true,
  ): {
    MessageId: string;
    SequenceNumber?: string;
    MD5OfMessageBody: string;
    MD5OfMessageAttributes?: string;
  } {
    const queue = this.queue(queueRef);
    const { spec } = queue;
    const now = this.now();
    queue.expire(now);
    if (typeof input.MessageBody !== 'string' || input.MessageBody === '')
      throw new SqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
    const size = Buffer.byteLength(input.MessageBody) + attributesSize(input.MessageAttributes);
    if (size > spec.maximumMessageSize)
      throw new SqsError(
        'InvalidParameterValue',
        `One or more parameters are invalid. Reason: Message must be shorter than ${spec.maximumMessageSize} bytes.`,
      );
    // SQS accepts #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF only.
    if (/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(input.MessageBody))
      throw new SqsError('InvalidMessageContents', 'Invalid binary character in the message body.');
    let dedupId: string | undefined;
    if (spec.fifo) {
      if (!input.MessageGroupId)
        throw new SqsError('MissingParameter', 'The request must contain the parameter MessageGroupId.');
      if (input.MessageGroupId.length > 128)
        throw new SqsError('InvalidParameterValue', 'MessageGroupId can be up to 128 characters long.');
      if (input.DelaySeconds !== undefined && input.DelaySeconds !== 0)
        throw new SqsError(
          'InvalidParameterValue',
          'Value ' +
            input.DelaySeconds +
            ' for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.',
        );
      dedupId = input.MessageDeduplicationId;
      if (dedupId === undefined) {
        if (!spec.contentBasedDeduplication)
          throw new SqsError(
            'InvalidParameterValue',
            'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly',
          );
        dedupId = createHash('sha256').update(input.MessageBody).digest('hex');
      }
      if (dedupId.length > 128)
        throw new SqsError(
          'InvalidParameterValue',
          'MessageDeduplicationId can be up to 128 characters long.',
        );
      if (quota) queue.admit('SendMessage', [input.MessageGroupId], this.quotaNow(), this.limit(queue));
      const seen = queue.dedup.get(queue.dedupKey(input.MessageGroupId, dedupId));
      // Within the interval a message with the same deduplication id is accepted but not delivered again.
      if (seen)
        return {
          MessageId: seen.messageId,
          ...(seen.sequenceNumber && { SequenceNumber: seen.sequenceNumber }),
          MD5OfMessageBody: md5(input.MessageBody),
        };
    } else if (input.MessageGroupId !== undefined && input.MessageGroupId.length > 128)
      throw new SqsError('InvalidParameterValue', 'MessageGroupId can be up to 128 characters long.');
    else if (input.MessageDeduplicationId !== undefined)
      throw new SqsError(
        'InvalidParameterValue',
        'The request include parameter MessageDeduplicationId that is not valid for this queue type',
      );
    const delay = input.DelaySeconds ?? spec.delaySeconds;
    if (!Number.isInteger(delay) || delay < 0 || delay > 900)
      throw new SqsError('InvalidParameterValue', `Value ${delay} for parameter DelaySeconds is invalid.`);
    const attributes =
      input.MessageAttributes && Object.keys(input.MessageAttributes).length > 0
        ? input.MessageAttributes
        : undefined;
    const message: StoredMessage = {
      id: randomUUID(),
      body: input.MessageBody,
      md5: md5(input.MessageBody),
      ...(attributes && { attributes, md5OfAttributes: md5OfAttributes(attributes) }),
      ...(spec.fifo && { groupId: input.MessageGroupId, dedupId, sequenceNumber: queue.nextSequence() }),
      ...(!spec.fifo && input.MessageGroupId && { groupId: input.MessageGroupId }),
      senderId,
      sentAt: now,
      visibleAt: now + this.ms(delay),
      inFlight: false,
      receiveCount: 0,
    };
    queue.messages.push(message);
    if (dedupId !== undefined)
      queue.dedup.set(queue.dedupKey(input.MessageGroupId, dedupId), {
        messageId: message.id,
        sequenceNumber: message.sequenceNumber,
        at: now,
      });
    if (delay > 0) setTimeout(() => queue.wake(), this.ms(delay)).unref();
    queue.wake();
    return {
      MessageId: message.id,
      ...(message.sequenceNumber && { SequenceNumber: message.sequenceNumber }),
      MD5OfMessageBody: message.md5,
      ...(message.md5OfAttributes && { MD5OfMessageAttributes: message.md5OfAttributes }),
    };
  }

  /**
   * ReceiveMessage without waiting: up to `max` visible messages. A message whose receive count has reached its
   * queue's maxReceiveCount goes to the dead-letter queue instead of being received again. In a FIFO queue, the
   * messages of a group come in the order sent, and none while an earlier one of its group is in flight.
   */
  /**
   * How many messages a receive could return now: visible, not delayed, and in a FIFO queue not behind a message of
   * their group in flight. A message waiting out a visibility timeout, or queued behind one, is not work to do yet.
   */
  receivable(queueRef: string): number {
    const queue = this.queue(queueRef);
    const now = this.now();
    queue.expire(now);
    queue.release(now);
    const blocked = new Set<string>();
    let count = 0;
    for (const m of queue.messages) {
      const group = queue.spec.fifo ? (m.groupId as string) : undefined;
      if (group !== undefined && blocked.has(group)) continue;
      if (m.inFlight || m.visibleAt > now) {
        if (group !== undefined) blocked.add(group);
        continue;
      }
      count++;
    }
    return count;
  }

  /**
   * ReceiveMessage without waiting. A receive that returns messages counts against a FIFO queue's throughput quota
   * (an empty one does not: locally a long poll's waits are not calls of their own). Over the quota it is refused
   * with SQS's throttling error; in high-throughput mode the groups over their quota are passed over, as partitions
   * that cannot answer now, and the receive is refused only when nothing else is there.
   */
  receiveNow(queueRef: string, max = 1, visibilityTimeout?: number): ReceivedMessage[] {
    const queue = this.queue(queueRef);
    const now = this.now();
    const limit = this.limit(queue);
    let passedOver: string | undefined;
    queue.expire(now);
    queue.release(now);
    const timeout = this.ms(visibilityTimeout ?? queue.spec.visibilityTimeoutSeconds);
    const redrive = queue.spec.redrivePolicy;
    // The receivable messages in order; in a FIFO queue none of a group with one in flight or still delayed.
    const blocked = new Set<string>();
    const candidates: StoredMessage[] = [];
    for (const m of [...queue.messages]) {
      const group = queue.spec.fifo ? (m.groupId as string) : undefined;
      if (group !== undefined && blocked.has(group)) continue;
      if (m.inFlight || m.visibleAt > now) {
        if (group !== undefined) blocked.add(group);
        continue;
      }
      if (redrive && m.receiveCount >= redrive.maxReceiveCount) {
        this.redrive(queue, m, redrive.deadLetterTargetArn);
        continue;
      }
      if (queue.spec.fifo && queue.perGroup && queue.full('ReceiveMessage', group, this.quotaNow(), limit)) {
        passedOver ??= group;
        continue;
      }
      candidates.push(m);
    }
    // FIFO: as many messages of one group as possible, the first group's first, then the next group's.
    if (queue.spec.fifo) {
      const order = [...new Set(candidates.map((m) => m.groupId))];
      candidates.sort((a, b) => order.indexOf(a.groupId) - order.indexOf(b.groupId));
    }
    const taking = candidates.slice(0, max);
    if (taking.length === 0) {
      if (passedOver !== undefined) throw throttled(queue.spec.name, 'ReceiveMessage', passedOver);
      return [];
    }
    queue.admit(
      'ReceiveMessage',
      taking.map((m) => m.groupId),
      this.quotaNow(),
      limit,
    );
    const out: ReceivedMessage[] = [];
    for (const m of taking) {
      m.receiveCount += 1;
      m.firstReceiveAt ??= now;
      m.inFlight = true;
      m.visibleAt = now + timeout;
      m.receiptHandle = Buffer.from(`${queue.spec.name} ${m.id} ${randomUUID()}`).toString('base64');
      out.push(this.received(queue, m));
    }
    if (out.length > 0) setTimeout(() => queue.wake(), timeout + 1).unref();
    return out;
  }

  /** ReceiveMessage with a long poll: waits up to `waitSeconds` (on the SQS clock) for a first message. */
  async receive(
    queueRef: string,
    max = 1,
    waitSeconds = 0,
    visibilityTimeout?: number,
  ): Promise<ReceivedMessage[]> {
    if (!Number.isInteger(max) || max < 1 || max > MAX_RECEIVE)
      throw new SqsError(
        'InvalidParameterValue',
        `Value ${max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
      );
    if (!(waitSeconds >= 0 && waitSeconds <= MAX_WAIT_SECONDS))
      throw new SqsError(
        'InvalidParameterValue',
        `Value ${waitSeconds} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.`,
      );
    const deadline = Date.now() + this.ms(waitSeconds);
    for (;;) {
      const got = this.receiveNow(queueRef, max, visibilityTimeout);
      if (got.length > 0 || Date.now() >= deadline) return got;
      await this.waitForChange(queueRef, deadline - Date.now());
    }
  }

  /** Resolves when the queue may have a message to receive (a send, a visibility timeout ending) or after `ms`. */
  waitForChange(queueRef: string, ms: number): Promise<void> {
    const queue = this.queue(queueRef);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        queue.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      queue.waiters.add(done);
    });
  }

  private received(queue: Queue, m: StoredMessage): ReceivedMessage {
    return {
      MessageId: m.id,
      ReceiptHandle: m.receiptHandle as string,
      MD5OfBody: m.md5,
      Body: m.body,
      Attributes: {
        SenderId: m.senderId,
        SentTimestamp: String(m.sentAt),
        ApproximateReceiveCount: String(m.receiveCount),
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt),
        ...(m.sequenceNumber && { SequenceNumber: m.sequenceNumber }),
        ...(m.groupId && { MessageGroupId: m.groupId }),
        ...(m.dedupId && queue.spec.fifo && { MessageDeduplicationId: m.dedupId }),
        ...(m.deadLetterSourceArn && { DeadLetterQueueSourceArn: m.deadLetterSourceArn }),
      },
      ...(m.attributes && { MessageAttributes: m.attributes, MD5OfMessageAttributes: m.md5OfAttributes }),
    };
  }

  /** Moves a message to the dead-letter queue, keeping its id, body, attributes, sent time and receive count. */
  private redrive(source: Queue, m: StoredMessage, dlqArn: string): void {
    const index = source.messages.indexOf(m);
    if (index >= 0) source.messages.splice(index, 1);
    const dlq = this.byArn.get(dlqArn);
    if (!dlq) {
      this.opts.log?.(
        `sqs: ${source.spec.name}: dead-letter queue ${dlqArn} does not exist; message ${m.id} dropped`,
      );
      return;
    }
    dlq.messages.push({
      ...m,
      inFlight: false,
      visibleAt: this.now(),
      receiptHandle: undefined,
      deadLetterSourceArn: source.spec.arn,
      ...(dlq.spec.fifo && { sequenceNumber: dlq.nextSequence() }),
    });
    dlq.wake();
    this.opts.log?.(
      `sqs: message ${m.id} moved from ${source.spec.name} to ${dlq.spec.name} after ${m.receiveCount} receives`,
    );
  }

  private findByHandle(queue: Queue, handle: string): StoredMessage | undefined {
    let decoded: string;
    try {
      decoded = Buffer.from(handle, 'base64').toString('utf8');
    } catch {
      decoded = '';
    }
    const [name, id] = decoded.split(' ');
    if (name !== queue.spec.name || !id)
      throw new SqsError(
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${handle}" is not a valid receipt handle.`,
        'ReceiptHandleIsInvalid',
      );
    return queue.messages.find((m) => m.id === id);
  }

  /**
   * DeleteMessage. Only the latest receive's handle deletes: with an older one the call succeeds and the message
   * stays, as SQS documents; a message already gone is no error either.
   */
  delete(queueRef: string, receiptHandle: string, quota = true): void {
    const queue = this.queue(queueRef);
    const m = this.findByHandle(queue, receiptHandle);
    if (quota) queue.admit('DeleteMessage', [m?.groupId], this.quotaNow(), this.limit(queue));
    if (!m || m.receiptHandle !== receiptHandle) return;
    queue.messages.splice(queue.messages.indexOf(m), 1);
    queue.wake();
  }

  /**
   * DeleteMessageBatch in process (the pipes settle a batch with it): one call against a FIFO queue's throughput
   * quota, refused whole when over it, then each handle deleted as DeleteMessage does.
   */
  deleteBatch(queueRef: string, receiptHandles: string[]): void {
    if (receiptHandles.length === 0) return;
    this.admitBatch(
      queueRef,
      'DeleteMessage',
      receiptHandles.map((h) => this.groupOfHandle(queueRef, h)),
    );
    for (const handle of receiptHandles) this.delete(queueRef, handle, false);
  }

  /** ChangeMessageVisibility: a received message's visibility timeout from now (0: visible again at once). */
  changeVisibility(queueRef: string, receiptHandle: string, seconds: number): void {
    const queue = this.queue(queueRef);
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43_200)
      throw new SqsError(
        'InvalidParameterValue',
        `Value ${seconds} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200.`,
      );
    const m = this.findByHandle(queue, receiptHandle);
    if (!m || m.receiptHandle !== receiptHandle || !m.inFlight)
      throw new SqsError(
        'MessageNotInflight',
        'Message does not exist or is not available for visibility timeout change.',
        'AWS.SimpleQueueService.MessageNotInflight',
      );
    m.visibleAt = this.now() + this.ms(seconds);
    if (seconds === 0) m.inFlight = false;
    else setTimeout(() => queue.wake(), this.ms(seconds) + 1).unref();
    queue.wake();
  }

  counts(queueRef: string): QueueCounts {
    const queue = this.queue(queueRef);
    const now = this.now();
    queue.expire(now);
    queue.release(now);
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const m of queue.messages) {
      if (m.inFlight) inFlight++;
      else if (m.visibleAt > now) delayed++;
      else visible++;
    }
    return { visible, inFlight, delayed };
  }

  /** The messages a queue holds, oldest first, without receiving them (tests and the dead-letter reader). */
  peek(queueRef: string): {
    messageId: string;
    body: string;
    groupId?: string;
    receiveCount: number;
    attributes?: Record<string, MessageAttributeValue>;
  }[] {
    const queue = this.queue(queueRef);
    queue.expire(this.now());
    return queue.messages.map((m) => ({
      messageId: m.id,
      body: m.body,
      ...(m.groupId && { groupId: m.groupId }),
      receiveCount: m.receiveCount,
      ...(m.attributes && { attributes: m.attributes }),
    }));
  }

  attributes(queueRef: string): Record<string, string> {
    const queue = this.queue(queueRef);
    const { spec } = queue;
    const counts = this.counts(queueRef);
    return {
      QueueArn: spec.arn,
      ApproximateNumberOfMessages: String(counts.visible),
      ApproximateNumberOfMessagesNotVisible: String(counts.inFlight),
      ApproximateNumberOfMessagesDelayed: String(counts.delayed),
      VisibilityTimeout: String(spec.visibilityTimeoutSeconds),
      MessageRetentionPeriod: String(spec.messageRetentionSeconds),
      MaximumMessageSize: String(spec.maximumMessageSize),
      DelaySeconds: String(spec.delaySeconds),
      ReceiveMessageWaitTimeSeconds: '0',
      ...(spec.fifo && {
        FifoQueue: 'true',
        ContentBasedDeduplication: String(spec.contentBasedDeduplication),
        DeduplicationScope: spec.deduplicationScope,
        FifoThroughputLimit: spec.fifoThroughputLimit,
      }),
      ...(spec.redrivePolicy && { RedrivePolicy: JSON.stringify(spec.redrivePolicy) }),
    };
  }

  /** Wakes every waiting poller, so that they see the SQS closing. */
  close(): void {
    for (const queue of this.byArn.values()) queue.wake();
  }

  // ------------------------------------------------------------------ HTTP (AWS JSON 1.0)

  handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      this.answer(req, body, size).then(
        (out) => sendSqsJson(res, 200, out),
        (error: unknown) => {
          if (error instanceof SqsError) return sendSqsError(res, error);
          sendSqsError(res, new SqsError('InternalError', (error as Error).message, 'InternalError', 500));
        },
      );
    });
  }

  private async answer(req: IncomingMessage, raw: Buffer, size: number): Promise<unknown> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : '';
    if (req.method !== 'POST' || !OPERATIONS.has(operation))
      throw new SqsError(
        'UnsupportedOperation',
        `${req.method} ${target || '(no X-Amz-Target)'} is not supported by the local SQS`,
        'AWS.SimpleQueueService.UnsupportedOperation',
      );
    if (size > MAX_BODY_BYTES)
      throw new SqsError(
        'BatchRequestTooLong',
        'The request is over the size limit.',
        'AWS.SimpleQueueService.BatchRequestTooLong',
      );
    let input: Obj;
    try {
      const parsed = JSON.parse(raw.toString('utf8')) as unknown;
      if (!isObj(parsed)) throw new Error('not a JSON object');
      input = parsed;
    } catch (error) {
      throw new SqsError('SerializationException', (error as Error).message);
    }
    const queueRef =
      operation === 'GetQueueUrl'
        ? `/${input.QueueOwnerAWSAccountId ?? this.opts.accountId}/${String(input.QueueName)}`
        : input.QueueUrl;
    if (typeof queueRef !== 'string' || queueRef === '')
      throw new SqsError('MissingParameter', 'The request must contain the parameter QueueUrl.');
    const queue = this.queue(queueRef);
    if (this.opts.guard) {
      const refusal = await this.opts.guard(req, raw, `sqs:${IAM_ACTION[operation] ?? operation}`, [
        queue.spec.arn,
      ]);
      if (refusal)
        throw new SqsError(
          refusal.code,
          refusal.message,
          refusal.code,
          refusal.code === 'AccessDeniedException' ? 400 : 403,
        );
    }
    const url = `http://${req.headers.host ?? 'localhost'}/${this.opts.accountId}/${queue.spec.name}`;
    await waitCall(this.opts.profile, 'sqsCall');
    return this.run(operation, input, queueRef, url);
  }

  private async run(operation: string, input: Obj, queueRef: string, url: string): Promise<unknown> {
    switch (operation) {
      case 'GetQueueUrl':
        return { QueueUrl: url };
      case 'SendMessage':
        return this.send(queueRef, input as unknown as SendInput);
      case 'SendMessageBatch':
        return this.batch(
          input,
          (entry) => this.send(queueRef, entry as unknown as SendInput, undefined, false),
          (entries) =>
            this.admitBatch(
              queueRef,
              'SendMessage',
              entries.map((e) => e.MessageGroupId),
            ),
        );
      case 'ReceiveMessage': {
        const got = await this.receive(
          queueRef,
          input.MaxNumberOfMessages === undefined ? 1 : Number(input.MaxNumberOfMessages),
          input.WaitTimeSeconds === undefined ? 0 : Number(input.WaitTimeSeconds),
          input.VisibilityTimeout === undefined ? undefined : Number(input.VisibilityTimeout),
        );
        return { Messages: got.map((m) => selectAttributes(m, input)) };
      }
      case 'DeleteMessage':
        this.delete(queueRef, String(input.ReceiptHandle));
        return {};
      case 'DeleteMessageBatch':
        return this.batch(
          input,
          (entry) => {
            this.delete(queueRef, String(entry.ReceiptHandle), false);
            return {};
          },
          (entries) =>
            this.admitBatch(
              queueRef,
              'DeleteMessage',
              entries.map((e) => this.groupOfHandle(queueRef, e.ReceiptHandle)),
            ),
        );
      case 'ChangeMessageVisibility':
        this.changeVisibility(queueRef, String(input.ReceiptHandle), Number(input.VisibilityTimeout));
        return {};
      case 'ChangeMessageVisibilityBatch':
        return this.batch(input, (entry) => {
          this.changeVisibility(queueRef, String(entry.ReceiptHandle), Number(entry.VisibilityTimeout));
          return {};
        });
      case 'GetQueueAttributes': {
        const all = this.attributes(queueRef);
        const names = Array.isArray(input.AttributeNames) ? input.AttributeNames.map(String) : [];
        const wanted = names.includes('All') ? Object.keys(all) : names;
        return { Attributes: Object.fromEntries(wanted.filter((n) => n in all).map((n) => [n, all[n]])) };
      }
      default:
        throw new SqsError('UnsupportedOperation', `${operation} is not supported by the local SQS`);
    }
  }

  /** A batch call against the FIFO quota: one call of its action (per group it touches, in high-throughput mode). */
  private admitBatch(queueRef: string, action: QuotaAction, groups: unknown[]): void {
    const queue = this.queue(queueRef);
    queue.admit(
      action,
      groups.map((g) => (typeof g === 'string' ? g : undefined)),
      this.quotaNow(),
      this.limit(queue),
    );
  }

  /** The message group of the message a receipt handle names, if it is still there. */
  private groupOfHandle(queueRef: string, handle: unknown): string | undefined {
    try {
      return this.findByHandle(this.queue(queueRef), String(handle))?.groupId;
    } catch {
      return undefined;
    }
  }

  /**
   * A batch: 1 to 10 entries with distinct Ids, each answered on its own (Successful or Failed). `admit` counts the
   * call against the throughput quota once the batch is well formed; over it, the whole call is refused.
   */
  private batch(input: Obj, each: (entry: Obj) => Obj, admit?: (entries: Obj[]) => void): unknown {
    const entries = Array.isArray(input.Entries) ? input.Entries.filter(isObj) : [];
    if (entries.length === 0)
      throw new SqsError(
        'EmptyBatchRequest',
        'There should be at least one entry in the request.',
        'AWS.SimpleQueueService.EmptyBatchRequest',
      );
    if (entries.length > 10)
      throw new SqsError(
        'TooManyEntriesInBatchRequest',
        'Maximum number of entries per request are 10.',
        'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
      );
    const ids = entries.map((e) => String(e.Id));
    if (new Set(ids).size !== ids.length)
      throw new SqsError(
        'BatchEntryIdsNotDistinct',
        'Two or more batch entries in the request have the same Id.',
        'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
      );
    admit?.(entries);
    const Successful: Obj[] = [];
    const Failed: Obj[] = [];
    for (const entry of entries) {
      try {
        Successful.push({ Id: entry.Id, ...each(entry) });
      } catch (error) {
        const e = error as SqsError;
        Failed.push({ Id: entry.Id, SenderFault: true, Code: e.code ?? 'InternalError', Message: e.message });
      }
    }
    return { Successful, Failed };
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** SQS's request limit: a batch of 10 messages of 256 KiB each, plus the envelope. */
const MAX_BODY_BYTES = 10 * 262_144 + 64 * 1024;
const OPERATIONS = new Set([
  'GetQueueUrl',
  'SendMessage',
  'SendMessageBatch',
  'ReceiveMessage',
  'DeleteMessage',
  'DeleteMessageBatch',
  'ChangeMessageVisibility',
  'ChangeMessageVisibilityBatch',
  'GetQueueAttributes',
]);
/** Batch calls are authorized as their single action (Service Authorization Reference, Amazon SQS). */
const IAM_ACTION: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

/** A received message with only the attributes the request named (MessageSystemAttributeNames or AttributeNames). */
function selectAttributes(m: ReceivedMessage, input: Obj): Obj {
  const names = [
    ...(Array.isArray(input.MessageSystemAttributeNames) ? input.MessageSystemAttributeNames : []),
    ...(Array.isArray(input.AttributeNames) ? input.AttributeNames : []),
  ].map(String);
  const all = names.includes('All');
  const attributes = Object.fromEntries(
    Object.entries(m.Attributes).filter(([k]) => all || names.includes(k)),
  );
  const wantedAttrs = Array.isArray(input.MessageAttributeNames)
    ? input.MessageAttributeNames.map(String)
    : [];
  const messageAttributes = Object.fromEntries(
    Object.entries(m.MessageAttributes ?? {}).filter(
      ([k]) => wantedAttrs.includes('All') || wantedAttrs.includes('.*') || wantedAttrs.includes(k),
    ),
  );
  return {
    MessageId: m.MessageId,
    ReceiptHandle: m.ReceiptHandle,
    MD5OfBody: m.MD5OfBody,
    Body: m.Body,
    ...(Object.keys(attributes).length > 0 && { Attributes: attributes }),
    ...(Object.keys(messageAttributes).length > 0 && {
      MessageAttributes: messageAttributes,
      MD5OfMessageAttributes: md5OfAttributes(messageAttributes as Record<string, MessageAttributeValue>),
    }),
  };
}

function sendSqsJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

/** An error as SQS's JSON protocol answers it, with the query-compatible code the SDK maps to its error names. */
function sendSqsError(res: ServerResponse, error: SqsError): void {
  const text = JSON.stringify({ __type: `com.amazonaws.sqs#${error.code}`, message: error.message });
  res.writeHead(error.status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    'x-amzn-query-error': `${error.queryCode};${error.status >= 500 ? 'Receiver' : 'Sender'}`,
  });
  res.end(text);
}
