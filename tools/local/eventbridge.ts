// A PutEvents endpoint that the real @aws-sdk/client-eventbridge talks to (AWS JSON 1.1), routing each event
// to the targets of the template's rules whose pattern it matches, after the response, as EventBridge does.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalEventRule, LocalEventTarget } from '../infra/template';
import { type AwsProfile, callDelayMs, waitCall } from './awsProfile';
import { assertEventPattern, matchesEventPattern } from './eventPattern';
import { type RequestGuard, sendAmzJson } from './http';
import type { LocalSqs } from './sqs';

/** An event as EventBridge delivers it to a target. */
export interface LocalEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface EventBridgeOptions {
  buses: { name: string; arn: string }[];
  rules: LocalEventRule[];
  region: string;
  accountId: string;
  /** Share 0..1 of entries answered with ErrorCode InternalFailure (and not delivered). */
  faultPutEvents?: number;
  /** `input` is what the target receives: the event, or the rule target's Input / InputPath of it. */
  onTarget: (
    target: LocalEventTarget,
    input: unknown,
    event: LocalEvent,
    rule: LocalEventRule,
  ) => void | Promise<void>;
  log?: (line: string) => void;
  /** Told of each event a rule sent to a queue target (the local cloud's debug log of a message's journey). */
  onQueued?: (target: LocalEventTarget, event: LocalEvent, rule: LocalEventRule) => void;
  /**
   * The local SQS: rule targets that are queues get the event as a message, and a target's DeadLetterConfig queue
   * keeps what the target could not take, as EventBridge sends it there. Every queue a rule names must be here.
   */
  sqs?: LocalSqs;
  /**
   * Whether the queue's resource policy lets EventBridge (events.amazonaws.com) send to it; without that grant AWS
   * fails the delivery (and dead-letters it). Default: allowed.
   */
  queueAllowsEvents?: (queueArn: string) => boolean;
  /**
   * Checks the caller of every request (the local cloud's IAM): it may run `action` on every event bus the entries
   * name. A refusal is answered 400 with its error name, as EventBridge answers AccessDeniedException.
   */
  guard?: RequestGuard;
  /**
   * `--aws-profile`: PutEvents waits the profile's PutEvents latency before it answers, and each delivery its
   * event-to-target latency. Absent, both are immediate.
   */
  profile?: AwsProfile;
  /**
   * The first retry's delay in ms, doubling with each retry, jittered (default RETRY_BASE_MS). Tests only: AWS
   * publishes no figure for it.
   */
  retryBaseMs?: number;
}

export interface EventBridgeStats {
  /** Entries received. */
  received: number;
  /** Entries answered with an ErrorCode (invalid, unknown bus or injected fault). */
  failed: number;
  /** Rule matches (an event matching two rules counts twice). */
  matched: number;
  /** onTarget calls that rejected or threw. */
  targetErrors: number;
  /** Of those, the events kept in their target's dead-letter queue. */
  deadLettered: number;
  /** Deliveries tried again after a retriable error (RetryPolicy). */
  retries: number;
}

/** An event a target could not take, as its dead-letter queue keeps it (EventBridge adds the error and the rule). */
export interface DeadLetter {
  event: LocalEvent;
  ruleLogicalId: string;
  targetArn: string;
  error: string;
}

export interface LocalEventBridge {
  handle(req: IncomingMessage, res: ServerResponse): void;
  setFaultPutEvents(share: number): void;
  stats(): EventBridgeStats;
  /** The events in the dead-letter queue with this ARN, oldest first. */
  deadLetters(queueArn: string): DeadLetter[];
}

type Obj = Record<string, unknown>;
type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };
interface Delivery {
  target: LocalEventTarget;
  event: LocalEvent;
  rule: LocalEventRule;
}

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_ENTRY_BYTES = 256 * 1024;
/** Dead letters kept per queue: past it the oldest go, so a target failing for hours cannot fill the memory. */
const MAX_DEAD_LETTERS = 10_000;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkShare(share: number): number {
  if (!(share >= 0 && share <= 1)) throw new Error(`faultPutEvents must be within 0..1, got ${share}`);
  return share;
}

/** Follows a simple InputPath such as `$`, `$.detail` or `$.detail.roomId`. */
function inputPath(event: LocalEvent, path: string): unknown {
  if (path === '$') return event;
  if (!path.startsWith('$.')) throw new Error(`InputPath ${path} is not supported locally`);
  let value: unknown = event;
  for (const key of path.slice(2).split('.')) value = isObj(value) ? value[key] : undefined;
  return value;
}

/** A PutEvents entry's fields once checked, or the entry's error as EventBridge words it. */
type ReadEntry =
  | { source: string; detailType: string; detail: Obj; busName?: string; resources: string[]; time?: number }
  | { ErrorCode: string; ErrorMessage: string };

function readEntry(entry: unknown): ReadEntry {
  const invalid = (message: string) => ({ ErrorCode: 'InvalidArgument', ErrorMessage: message });
  if (!isObj(entry)) return invalid('Entry is not an object.');
  const { Source, DetailType, Detail, EventBusName, Resources, Time } = entry;
  if (typeof Source !== 'string' || Source === '')
    return invalid('Parameter Source is not valid. Reason: Source is a required argument.');
  if (typeof DetailType !== 'string' || DetailType === '')
    return invalid('Parameter DetailType is not valid. Reason: DetailType is a required argument.');
  if (typeof Detail !== 'string')
    return invalid('Parameter Detail is not valid. Reason: Detail is a required argument.');
  if (Buffer.byteLength(Detail) > MAX_ENTRY_BYTES)
    return invalid('Total size of the entries in the request is over the limit.');
  let detail: unknown;
  try {
    detail = JSON.parse(Detail);
  } catch {
    detail = undefined;
  }
  if (!isObj(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  return {
    source: Source,
    detailType: DetailType,
    detail,
    ...(typeof EventBusName === 'string' && EventBusName !== '' && { busName: EventBusName }),
    resources: Array.isArray(Resources) ? Resources.filter((r): r is string => typeof r === 'string') : [],
    ...(typeof Time === 'number' && { time: Time }),
  };
}

/** The event EventBridge makes of a checked entry. */
function toEvent(
  entry: Exclude<ReadEntry, { ErrorCode: string }>,
  opts: Pick<EventBridgeOptions, 'accountId' | 'region'>,
): LocalEvent {
  // The SDK sends Time as epoch seconds; EventBridge prints it without milliseconds.
  const when = entry.time !== undefined ? new Date(entry.time * 1000) : new Date();
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': entry.detailType,
    source: entry.source,
    account: opts.accountId,
    time: when.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: opts.region,
    resources: entry.resources,
    detail: entry.detail,
  };
}

/** What a target is given: its constant Input, the part its InputPath names, or the whole event. */
function targetInput(target: LocalEventTarget, event: LocalEvent): unknown {
  if (target.input !== undefined) return target.input;
  return target.inputPath ? inputPath(event, target.inputPath) : event;
}

/** The PutEvents request as a JSON object, or the HTTP answer EventBridge gives a request it cannot read. */
function readRequest(
  req: IncomingMessage,
  size: number,
  raw: Buffer,
): { body: Obj; raw: Buffer } | { status: number; error: { __type: string; message: string } } {
  if (req.method !== 'POST')
    return {
      status: 405,
      error: { __type: 'UnknownOperationException', message: `${req.method} is not supported` },
    };
  if (size > MAX_BODY_BYTES)
    return {
      status: 413,
      error: { __type: 'ValidationException', message: 'Request is over the size limit' },
    };
  const operation = String(req.headers['x-amz-target'] ?? '');
  if (operation !== 'AWSEvents.PutEvents') {
    const message = `Operation ${operation || '(no X-Amz-Target)'} is not supported by the local EventBridge`;
    return { status: 400, error: { __type: 'UnknownOperationException', message } };
  }
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    return { status: 400, error: { __type: 'SerializationException', message: (err as Error).message } };
  }
  if (!isObj(body))
    return {
      status: 400,
      error: { __type: 'SerializationException', message: 'Request body is not a JSON object' },
    };
  return { body, raw };
}

/**
 * Refuses to start with a rule EventBridge would refuse: a pattern it refuses, a FIFO queue target without
 * SqsParameters (PutTargets' ValidationException), a FIFO queue as a dead-letter queue.
 */
function assertRules(rules: LocalEventRule[], sqs: LocalSqs | undefined): void {
  const fifo = new Set(
    sqs
      ?.queueSpecs()
      .filter((q) => q.fifo)
      .map((q) => q.arn),
  );
  for (const rule of rules) {
    try {
      assertEventPattern(rule.pattern);
      for (const target of rule.targets) {
        if (target.kind === 'queue' && !sqs?.has(target.arn))
          throw new Error(`target ${target.logicalId}: queue ${target.arn} is not a queue of the local SQS`);
        if (target.kind === 'queue' && fifo.has(target.arn) && target.messageGroupId === undefined)
          throw new Error(
            `ValidationException: Parameter(s) SqsParameters must be specified for target: ${target.logicalId}.`,
          );
        if (target.deadLetterArn !== undefined && fifo.has(target.deadLetterArn))
          throw new Error('ValidationException: SQS FIFO is not supported by Dead Letter Queues.');
      }
    } catch (err) {
      throw new Error(`Rule ${rule.logicalId}: ${(err as Error).message}`);
    }
  }
}

/** The template's buses and the default bus, which every account has. */
function busesWithDefault(opts: EventBridgeOptions): { name: string; arn: string }[] {
  const buses = [...opts.buses];
  if (!buses.some((b) => b.name === 'default')) {
    buses.push({ name: 'default', arn: `arn:aws:events:${opts.region}:${opts.accountId}:event-bus/default` });
  }
  return buses;
}

/** The ARN of the bus an entry names (a name or an ARN; none = the default bus). */
function busArn(name: unknown, opts: Pick<EventBridgeOptions, 'accountId' | 'region'>): string {
  const ref = typeof name === 'string' && name !== '' ? name : 'default';
  return ref.startsWith('arn:') ? ref : `arn:aws:events:${opts.region}:${opts.accountId}:event-bus/${ref}`;
}

/** Faults accumulate so that a share of 0.25 fails exactly every fourth entry: reproducible runs. */
function faultSchedule(initial: number | undefined) {
  let share = checkShare(initial ?? 0);
  let debt = 0;
  return {
    next(): boolean {
      debt += share;
      if (debt < 1 - 1e-9) return false;
      debt -= 1;
      return true;
    },
    set(next: number): void {
      share = checkShare(next);
      debt = 0;
    },
  };
}

/** EventBridge's RetryPolicy when a target has none (EventBridge user guide, "How EventBridge retries"). */
const DEFAULT_RETRY_POLICY = { maximumRetryAttempts: 185, maximumEventAgeSeconds: 86_400 };
/** The first retry's delay, doubling with each: AWS says "exponential back off and jitter", with no figures. */
const RETRY_BASE_MS = 1000;
/** The longest pause between two tries. */
const RETRY_CAP_MS = 5 * 60 * 1000;
/**
 * The errors EventBridge retries: throttling and service errors (SQS's RequestThrottled, Lambda's
 * TooManyRequestsException, a 5xx). Others (a refused permission, a missing resource, a bad parameter) go to the
 * dead-letter queue at once (EventBridge user guide, "Using dead-letter queues": errors that are not retried).
 */
const RETRIABLE = new Set([
  'RequestThrottled',
  'ThrottlingException',
  'TooManyRequestsException',
  'InternalError',
  'InternalFailure',
  'ServiceUnavailable',
]);

function retriable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const status = (err as { status?: unknown }).status;
  return RETRIABLE.has(err.name) || (typeof status === 'number' && status >= 500);
}

/**
 * Hands one matched event to its target. A retriable failure is tried again, with exponential back-off and jitter,
 * within the target's RetryPolicy (its attempts and the event's age); a target that still fails, or fails with an
 * error EventBridge does not retry, is counted and logged, never thrown back, and with a DeadLetterConfig the event
 * goes to that queue, as EventBridge sends it there once its retries are spent.
 */
function deliver(
  { target, event, rule }: Delivery,
  onTarget: EventBridgeOptions['onTarget'],
  { counters, deadLetters, opts }: Pick<Bridge, 'counters' | 'deadLetters' | 'opts'>,
  log: (line: string) => void,
  attempt = 0,
  since = Date.now(),
): void {
  const { sqs, region, accountId, queueAllowsEvents: allows } = opts;
  const retry = (err: unknown): boolean => {
    const policy = target.retryPolicy ?? DEFAULT_RETRY_POLICY;
    if (!retriable(err) || attempt >= policy.maximumRetryAttempts) return false;
    const base = opts.retryBaseMs ?? RETRY_BASE_MS;
    // "Equal jitter": half the doubled delay, plus a random share of the other half.
    const ceiling = Math.min(RETRY_CAP_MS, base * 2 ** attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    // The event's age counts from its first delivery (a caller's Time may lie in the past).
    const age = Date.now() + delay - since;
    if (age > policy.maximumEventAgeSeconds * 1000) return false;
    counters.retries += 1;
    setTimeout(
      () =>
        deliver({ target, event, rule }, onTarget, { counters, deadLetters, opts }, log, attempt + 1, since),
      delay,
    ).unref();
    return true;
  };
  const fail = (err: unknown): void => {
    if (retry(err)) return;
    counters.targetErrors += 1;
    const why = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(
      `eventbridge: rule ${rule.logicalId} target ${target.logicalId} failed for event ${event.id}: ${why}`,
    );
    if (!target.deadLetterArn) return;
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    counters.deadLettered += 1;
    if (sqs?.has(target.deadLetterArn)) {
      // As EventBridge writes a dead letter: the event as the body, why and where in message attributes.
      const text = (value: string) => ({ DataType: 'String', StringValue: value });
      sqs.send(target.deadLetterArn, {
        MessageBody: JSON.stringify(event),
        MessageAttributes: {
          RULE_ARN: text(ruleArn(rule, region, accountId)),
          TARGET_ARN: text(target.arn),
          ERROR_CODE: text(err instanceof Error ? err.name : 'Error'),
          ERROR_MESSAGE: text(err instanceof Error ? err.message : String(err)),
        },
      });
      return;
    }
    const queue = deadLetters.get(target.deadLetterArn) ?? [];
    queue.push({ event, ruleLogicalId: rule.logicalId, targetArn: target.arn, error });
    if (queue.length > MAX_DEAD_LETTERS) queue.shift();
    deadLetters.set(target.deadLetterArn, queue);
  };
  try {
    if (target.kind === 'queue') {
      if (!sqs) throw new Error(`rule target ${target.arn} is a queue, and the local EventBridge has no SQS`);
      sendToQueue(sqs, target, event, targetInput(target, event), allows);
      opts.onQueued?.(target, event, rule);
    } else Promise.resolve(onTarget(target, targetInput(target, event), event, rule)).catch(fail);
  } catch (err) {
    fail(err);
  }
}

/** The local stand-in of a rule's ARN: `rule/<bus>/<logical id>` (a custom bus's rules carry the bus name). */
function ruleArn(rule: LocalEventRule, region: string, accountId: string): string {
  const bus = rule.busName === 'default' ? '' : `${rule.busName}/`;
  return `arn:aws:events:${region}:${accountId}:rule/${bus}${rule.logicalId}`;
}

/**
 * A queue target: the target's input as the message body; a FIFO queue's message group is the target's
 * SqsParameters.MessageGroupId, a constant or, when the whole value is a JSON path (`$.detail.roomId`), the event's
 * value there (EventBridge's dynamic path parameters; a path to no string fails the delivery, which the target's
 * retries and dead-letter queue then handle). EventBridge sends no MessageDeduplicationId, so a FIFO queue without
 * content-based deduplication refuses the message (docs/PARITY.md).
 */
function sendToQueue(
  sqs: LocalSqs,
  target: LocalEventTarget,
  event: LocalEvent,
  input: unknown,
  allows: ((queueArn: string) => boolean) | undefined,
): void {
  if (allows && !allows(target.arn)) {
    const denied = new Error(
      `events.amazonaws.com is not authorized to perform: sqs:SendMessage on resource: ${target.arn} (no queue policy allows it)`,
    );
    denied.name = 'AccessDenied';
    throw denied;
  }
  sqs.send(target.arn, {
    MessageBody: typeof input === 'string' ? input : JSON.stringify(input),
    ...(target.messageGroupId !== undefined && {
      MessageGroupId: messageGroupOf(target.messageGroupId, event),
    }),
  });
}

/** A target's MessageGroupId: the constant, or the event's string at a dynamic JSON path. */
function messageGroupOf(groupId: string, event: LocalEvent): string {
  if (!groupId.startsWith('$.')) return groupId;
  const value = inputPath(event, groupId);
  if (typeof value !== 'string' || value === '') {
    const failed = new Error(`SqsParameters.MessageGroupId ${groupId} names no string in the event`);
    failed.name = 'InvalidParameterValue';
    throw failed;
  }
  return value;
}

/** Reads a request's body, keeping no more than the limit (its full size still counted), then calls `onEnd`. */
function collectBody(
  req: IncomingMessage,
  log: (line: string) => void,
  onEnd: (size: number, raw: Buffer) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  });
  req.on('error', (err) => log(`eventbridge: request error: ${err.message}`));
  req.on('end', () => onEnd(size, Buffer.concat(chunks)));
}

/** One local EventBridge's buses, fault schedule and counters. */
interface Bridge {
  opts: EventBridgeOptions;
  buses: { name: string; arn: string }[];
  faults: ReturnType<typeof faultSchedule>;
  counters: EventBridgeStats;
  /** Dead-letter queue ARN -> the events it holds. */
  deadLetters: Map<string, DeadLetter[]>;
}

function entryError(bridge: Bridge, code: string, message: string): EntryResult {
  bridge.counters.failed += 1;
  return { ErrorCode: code, ErrorMessage: message };
}

/** Puts one entry: its result for the response, and a delivery for each target of each rule it matches. */
function putEntry(bridge: Bridge, entry: unknown, deliveries: Delivery[]): EntryResult {
  const { opts, counters } = bridge;
  counters.received += 1;
  const read = readEntry(entry);
  if ('ErrorCode' in read) return entryError(bridge, read.ErrorCode, read.ErrorMessage);
  const busRef = read.busName ?? 'default';
  const bus = bridge.buses.find((b) => b.name === busRef || b.arn === busRef);
  if (!bus) return entryError(bridge, 'ResourceNotFoundException', `Event bus ${busRef} does not exist.`);
  if (bridge.faults.next())
    return entryError(bridge, 'InternalFailure', 'Injected PutEvents failure (local cloud fault injection).');
  const event = toEvent(read, opts);
  for (const rule of opts.rules) {
    if (rule.busName !== bus.name || !matchesEventPattern(rule.pattern, event)) continue;
    counters.matched += 1;
    for (const target of rule.targets) deliveries.push({ target, event, rule });
  }
  return { EventId: event.id };
}

export function createEventBridge(opts: EventBridgeOptions): LocalEventBridge {
  const log = opts.log ?? ((line: string) => console.error(line));
  assertRules(opts.rules, opts.sqs);
  const buses = busesWithDefault(opts);
  const faults = faultSchedule(opts.faultPutEvents);
  const counters: EventBridgeStats = {
    received: 0,
    failed: 0,
    matched: 0,
    targetErrors: 0,
    deadLettered: 0,
    retries: 0,
  };

  const bridge: Bridge = { opts, buses, faults, counters, deadLetters: new Map() };

  const putEvents = (body: Obj, res: ServerResponse): void => {
    const entries = body.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
      sendAmzJson(res, 400, {
        __type: 'ValidationException',
        message: '1 validation error detected: Value at entries failed to satisfy constraint: length 1..10',
      });
      return;
    }
    const deliveries: Delivery[] = [];
    const results = entries.map((entry) => putEntry(bridge, entry, deliveries));
    const answer = () =>
      sendAmzJson(res, 200, {
        FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length,
        Entries: results,
      });
    // Under a profile the caller waits PutEvents' latency; the events are accepted (and on their way) meanwhile.
    void waitCall(opts.profile, 'eventBridgePutEvents').then(answer);
    // Targets run after the response, as with EventBridge: the caller never waits for them; under a profile each
    // delivery waits the event-to-target latency.
    for (const delivery of deliveries) {
      const ms = callDelayMs(opts.profile, 'eventBridgeToTarget');
      if (ms > 0) setTimeout(() => deliver(delivery, opts.onTarget, bridge, log), ms);
      else setImmediate(() => deliver(delivery, opts.onTarget, bridge, log));
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void =>
    collectBody(req, log, (size, raw) => {
      const read = readRequest(req, size, raw);
      if ('status' in read) return sendAmzJson(res, read.status, read.error);
      const request = read.body;
      if (!opts.guard) return putEvents(request, res);
      // Authorized per bus: a request is refused whole when any of its entries names a bus the caller may not use.
      const entries = Array.isArray(request.Entries) ? request.Entries : [];
      const resources = [
        ...new Set(entries.map((entry) => busArn(isObj(entry) ? entry.EventBusName : undefined, opts))),
      ];
      opts.guard(req, read.raw, 'events:PutEvents', resources).then(
        (refusal) => {
          if (refusal) sendAmzJson(res, 400, { __type: refusal.code, message: refusal.message });
          else putEvents(request, res);
        },
        (err: Error) => sendAmzJson(res, 500, { __type: 'InternalException', message: err.message }),
      );
    });

  return {
    handle,
    setFaultPutEvents: faults.set,
    stats: () => ({ ...counters }),
    deadLetters: (queueArn) => {
      if (!opts.sqs?.has(queueArn)) return [...(bridge.deadLetters.get(queueArn) ?? [])];
      // A real queue: its messages as EventBridge wrote them (the rule's logical id is the end of its ARN).
      return opts.sqs.peek(queueArn).map((m) => ({
        event: JSON.parse(m.body) as LocalEvent,
        ruleLogicalId:
          String(m.attributes?.RULE_ARN?.StringValue ?? '')
            .split('/')
            .pop() ?? '',
        targetArn: String(m.attributes?.TARGET_ARN?.StringValue ?? ''),
        error: `${m.attributes?.ERROR_CODE?.StringValue}: ${m.attributes?.ERROR_MESSAGE?.StringValue}`,
      }));
    },
  };
}
