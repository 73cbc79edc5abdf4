// EventBridge Pipes for the local cloud: a pipe polls its SQS queue in batches and starts its state machine with
// each batch, as AWS does (docs/PARITY.md, "EventBridge Pipes"). With REQUEST_RESPONSE (StartSyncExecution, Express
// only) a succeeded execution deletes its batch, save the records its output lists in `batchItemFailures`; a failed,
// timed-out or refused one deletes nothing, so the messages come back after their visibility timeout, their receive
// count grows and the queue's redrive policy moves them to its dead-letter queue. FIRE_AND_FORGET (StartExecution)
// deletes the batch once the execution is started. The pipe's role must allow each call, checked as it is made.
import type { LocalPipe } from '../infra/template';
import { type AwsProfile, waitCall } from './awsProfile';
import type { IamRefusal } from './iam';
import { isThrottled, type LocalSqs, type ReceivedMessage } from './sqs';
import type { ExecutionSummary } from './stepfunctions';

/** A record of a batch as the target receives it: the SQS source's event shape. */
export interface PipeSqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: Record<string, string>;
  messageAttributes: Record<string, { dataType: string; stringValue?: string; binaryValue?: string }>;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  eventSource: 'aws:sqs';
  eventSourceARN: string;
  awsRegion: string;
}

export interface PipesOptions {
  pipes: LocalPipe[];
  sqs: LocalSqs;
  region: string;
  /** The state machine's logical id for an ARN, and its execution to its end (REQUEST_RESPONSE waits on it). */
  stateMachineId(arn: string): string;
  execute(logicalId: string, input: unknown): Promise<ExecutionSummary>;
  /** Fire and forget: starts an execution, resolves once it is started. */
  start(logicalId: string, input: unknown): void;
  /** The pipe's role may run `action` on `resource` (the local IAM), else the refusal. */
  authorize(pipe: LocalPipe, action: string, resource: string): Promise<IamRefusal | undefined>;
  /** Batches a pipe has in flight at once, at most. */
  pollers?: number;
  /** `--aws-profile`: a batch waits the profile's poll-to-target latency before its target starts. */
  profile?: AwsProfile;
  log(line: string): void;
}

export interface PipeStats {
  batches: number;
  succeeded: number;
  failed: number;
  deleted: number;
}

export interface LocalPipes {
  stats(name: string): PipeStats;
  /** True while a pipe has a batch between its receive and its settling, or a message its pollers could receive. */
  busy(): boolean;
  /**
   * Tests only, as AWS's StopPipe and StartPipe by the pipe's name: a stopped pipe receives nothing more (a batch it
   * has in flight runs on and is settled, as on AWS) and its queue keeps the messages until the pipe is started, so a
   * test decides when work queued behind it runs instead of racing the pollers. Only a pipe the template created
   * RUNNING (the ones with pollers) can be stopped; an unknown name throws.
   */
  stopPipe(name: string): void;
  startPipe(name: string): void;
  close(): Promise<void>;
}

/**
 * How many batches one pipe has in flight at once. AWS documents no number for a pipe's SQS pollers; Lambda's SQS
 * event source starts with five and scales up (docs/PARITY.md). A FIFO queue bounds it further: one batch per group.
 */
export const DEFAULT_PIPE_POLLERS = 5;
/** SQS's longest long poll, on the SQS clock: an idle poller waits this long between receives. */
const LONG_POLL_SECONDS = 20;

/** The records of a batch, as Pipes passes an SQS batch on: a JSON array, even of one record. */
export function pipeRecords(messages: ReceivedMessage[], queueArn: string, region: string): PipeSqsRecord[] {
  return messages.map((m) => ({
    messageId: m.MessageId,
    receiptHandle: m.ReceiptHandle,
    body: m.Body,
    attributes: m.Attributes,
    messageAttributes: Object.fromEntries(
      Object.entries(m.MessageAttributes ?? {}).map(([name, v]) => [
        name,
        {
          dataType: v.DataType,
          ...(v.StringValue !== undefined && { stringValue: v.StringValue }),
          ...(v.BinaryValue !== undefined && { binaryValue: v.BinaryValue }),
        },
      ]),
    ),
    md5OfBody: m.MD5OfBody,
    ...(m.MD5OfMessageAttributes && { md5OfMessageAttributes: m.MD5OfMessageAttributes }),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  }));
}

/** The messageIds a target's output reports failed (`{"batchItemFailures":[{"itemIdentifier": ...}]}`). */
function reportedFailures(output: unknown): Set<string> {
  const failures = (output as { batchItemFailures?: unknown } | null)?.batchItemFailures;
  if (!Array.isArray(failures)) return new Set();
  return new Set(
    failures
      .map((f) => (f as { itemIdentifier?: unknown } | null)?.itemIdentifier)
      .filter((id): id is string => typeof id === 'string'),
  );
}

/** Starts every RUNNING pipe; a pipe whose role may not read its queue fails to start, as its creation would. */
export async function startPipes(opts: PipesOptions): Promise<LocalPipes> {
  const stats = new Map<string, PipeStats>();
  // Batches received and not yet settled, over every pipe (the local cloud's idle() waits for them).
  const working = { count: 0 };
  const stopped = new Map<string, Stopped>();
  let closed = false;
  const loops: Promise<void>[] = [];
  for (const pipe of opts.pipes) {
    stats.set(pipe.name, { batches: 0, succeeded: 0, failed: 0, deleted: 0 });
    if (pipe.desiredState === 'STOPPED') continue;
    for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']) {
      const refusal = await opts.authorize(pipe, action, pipe.sourceArn);
      if (refusal)
        throw new Error(
          `Pipe ${pipe.logicalId}: CREATE_FAILED: the role ${pipe.roleLogicalId} may not ${action} on the source ${pipe.sourceArn}: ${refusal.message}`,
        );
    }
    const machine = opts.stateMachineId(pipe.targetArn);
    const count = opts.pollers ?? DEFAULT_PIPE_POLLERS;
    for (let i = 0; i < count; i++)
      loops.push(
        poll(pipe, machine, opts, stats.get(pipe.name) as PipeStats, () => closed, working, stopped),
      );
  }
  const running = (name: string): LocalPipe => {
    const pipe = opts.pipes.find((p) => p.name === name);
    if (pipe === undefined) throw new Error(`NotFoundException: pipe ${name} does not exist`);
    if (pipe.desiredState === 'STOPPED')
      throw new Error(
        `pipe ${name} was created STOPPED: the local cloud runs pollers only for RUNNING pipes`,
      );
    return pipe;
  };
  return {
    stats: (name) => ({ ...(stats.get(name) ?? { batches: 0, succeeded: 0, failed: 0, deleted: 0 }) }),
    busy: () =>
      working.count > 0 ||
      opts.pipes.some(
        (pipe) =>
          pipe.desiredState !== 'STOPPED' &&
          !stopped.has(pipe.name) &&
          opts.sqs.receivable(pipe.sourceArn) > 0,
      ),
    stopPipe: (name) => {
      running(name);
      if (stopped.has(name)) return;
      let resume = () => {};
      const resumed = new Promise<void>((resolve) => {
        resume = resolve;
      });
      stopped.set(name, { resumed, resume });
    },
    startPipe: (name) => {
      running(name);
      const hold = stopped.get(name);
      stopped.delete(name);
      // Pollers woken by a message while stopped wait on this; one still long-polling wakes on the next message.
      hold?.resume();
    },
    // Pollers waiting for a message stop at once; one waiting for an execution stops when it ends (its batch is
    // then settled as usual); one held by a stopped pipe stops too.
    close: async () => {
      closed = true;
      for (const hold of stopped.values()) hold.resume();
      opts.sqs.close();
    },
  };
}

/** A pipe stopped by LocalPipes.stopPipe: its pollers wait on `resumed`. */
interface Stopped {
  resumed: Promise<void>;
  resume(): void;
}

/**
 * One poller: receive a batch (waiting up to the batching window to fill it), run the target, settle the batch; while
 * its pipe is stopped, wait for the start.
 */
async function poll(
  pipe: LocalPipe,
  machine: string,
  opts: PipesOptions,
  stats: PipeStats,
  closed: () => boolean,
  working: { count: number },
  stopped: ReadonlyMap<string, Stopped>,
): Promise<void> {
  while (!closed()) {
    // Looked at right before the receive (pollOnce receives before its first await): no receive follows a stop.
    const hold = stopped.get(pipe.name);
    if (hold) {
      await hold.resumed;
      continue;
    }
    // Counted from the receive that got messages until the batch is settled; a poller waiting for messages is idle.
    let counted = false;
    const received = () => {
      if (counted) return;
      counted = true;
      working.count++;
    };
    try {
      await pollOnce(pipe, machine, opts, stats, closed, received, () => stopped.has(pipe.name));
    } finally {
      if (counted) working.count--;
    }
  }
}

/** One receive, and the batch it got (if any) run and settled. */
async function pollOnce(
  pipe: LocalPipe,
  machine: string,
  opts: PipesOptions,
  stats: PipeStats,
  closed: () => boolean,
  received: () => void,
  stopped: () => boolean,
): Promise<void> {
  const { sqs } = opts;
  {
    // A batch being filled when its pipe stops goes as it is: a stopped pipe receives no more.
    const batch = await receiveBatch(pipe, sqs, () => closed() || stopped(), received);
    if (batch.length === 0) return;
    stats.batches++;
    await waitCall(opts.profile, 'pipesSqsPoll');
    const records = pipeRecords(batch, pipe.sourceArn, opts.region);
    const action =
      pipe.invocationType === 'REQUEST_RESPONSE' ? 'states:StartSyncExecution' : 'states:StartExecution';
    const refusal = await opts.authorize(pipe, action, pipe.targetArn);
    if (refusal) {
      // The target call fails: nothing is deleted, the messages come back after their visibility timeout.
      stats.failed++;
      opts.log(`pipes: ${pipe.name}: ${action} refused: ${refusal.message}`);
      return;
    }
    if (pipe.invocationType === 'FIRE_AND_FORGET') {
      opts.start(machine, records);
      await settle(pipe, sqs, records, new Set(), stats, closed, opts.log);
      stats.succeeded++;
      return;
    }
    // REQUEST_RESPONSE: the poller waits for the execution; other pollers go on meanwhile.
    const summary = await opts.execute(machine, records);
    if (!summary.ok) {
      stats.failed++;
      opts.log(
        `pipes: ${pipe.name}: execution ${summary.error === 'States.Timeout' ? 'TIMED_OUT' : 'FAILED'} (${summary.error}): ${records.length} messages stay in the queue`,
      );
      return;
    }
    stats.succeeded++;
    await settle(pipe, sqs, records, reportedFailures(summary.output), stats, closed, opts.log);
  }
}

/** How long a poller backs off after SQS throttled its call: a tenth of a second on the SQS clock. */
const throttleBackoffMs = (sqs: LocalSqs) => sqs.ms(0.1);
/** Tries of a throttled delete before its messages are left to come back after their visibility timeout. */
const DELETE_TRIES = 20;

/**
 * Deletes a settled batch's messages, save those the target reported failed, with one DeleteMessageBatch call (a
 * batch is at most 10 messages from a FIFO queue). A call SQS throttles is made again after a back-off; past
 * DELETE_TRIES the messages stay, and come back after their visibility timeout (delivery is at least once).
 */
async function settle(
  pipe: LocalPipe,
  sqs: LocalSqs,
  records: PipeSqsRecord[],
  failed: Set<string>,
  stats: PipeStats,
  closed: () => boolean,
  log: (line: string) => void,
): Promise<void> {
  const handles = records.filter((r) => !failed.has(r.messageId)).map((r) => r.receiptHandle);
  for (let i = 0; i < handles.length; i += 10) {
    const chunk = handles.slice(i, i + 10);
    for (let attempt = 1; ; attempt++) {
      try {
        sqs.deleteBatch(pipe.sourceArn, chunk);
        stats.deleted += chunk.length;
        break;
      } catch (error) {
        if (!isThrottled(error)) throw error;
        if (attempt >= DELETE_TRIES || closed()) {
          log(
            `pipes: ${pipe.name}: DeleteMessageBatch throttled ${attempt} times: ${chunk.length} messages come back after their visibility timeout`,
          );
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, throttleBackoffMs(sqs)));
      }
    }
  }
}

/**
 * One batch: up to BatchSize messages, receiving (10 at most per receive) until the batch is full, the batching
 * window is over or `stopReceiving` (the cloud closed, the pipe stopped); with no window, what one receive returns. An
 * idle poller long-polls.
 */
async function receiveBatch(
  pipe: LocalPipe,
  sqs: LocalSqs,
  stopReceiving: () => boolean,
  received: () => void,
): Promise<ReceivedMessage[]> {
  const first = receiveOrBackOff(pipe, sqs, Math.min(10, pipe.batchSize));
  if (first === 'throttled') {
    await new Promise((resolve) => setTimeout(resolve, throttleBackoffMs(sqs)));
    return [];
  }
  if (first.length === 0) {
    if (!stopReceiving()) await sqs.waitForChange(pipe.sourceArn, sqs.ms(LONG_POLL_SECONDS));
    return [];
  }
  received();
  const batch = [...first];
  const deadline = Date.now() + sqs.ms(pipe.maximumBatchingWindowSeconds);
  while (batch.length < pipe.batchSize && Date.now() < deadline && !stopReceiving()) {
    const more = receiveOrBackOff(pipe, sqs, Math.min(10, pipe.batchSize - batch.length));
    // Throttled while filling a batch: the batch goes as it is.
    if (more === 'throttled') break;
    if (more.length > 0) batch.push(...more);
    else await sqs.waitForChange(pipe.sourceArn, deadline - Date.now());
  }
  return batch;
}

/** A receive, or `throttled` when SQS refused it for its FIFO throughput quota (the poller then backs off). */
function receiveOrBackOff(pipe: LocalPipe, sqs: LocalSqs, max: number): ReceivedMessage[] | 'throttled' {
  try {
    return sqs.receiveNow(pipe.sourceArn, max);
  } catch (error) {
    if (isThrottled(error)) return 'throttled';
    throw error;
  }
}
