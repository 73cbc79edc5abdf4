import { monitorEventLoopDelay } from 'node:perf_hooks';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { type ChatClient, type Frame, isGatewayError, messagesIn } from '../helpers/chatClient';
import {
  type CloudTables,
  cloudTables,
  DeliveryChecker,
  indexedConnectionIds,
} from '../helpers/deliveryChecker';
import { startTestCloud } from '../helpers/localCloud';
import { closeAll, connectMany, eventually, sleep } from './world';

/** The latest end of the given connections' handshake windows (their lobby subscriptions' prunableAfter), epoch ms. */
async function handshakeWindows(tables: CloudTables, connectionIds: readonly string[]): Promise<number> {
  const ends = await Promise.all(
    connectionIds.map(async (connectionId) => {
      const { Item } = await tables.db.send(
        new GetItemCommand({
          TableName: tables.subscriptions,
          Key: { connectionId: { S: connectionId }, roomId: { S: 'lobby' } },
          ConsistentRead: true,
        }),
      );
      return Item?.prunableAfter?.S ? Date.parse(Item.prunableAfter.S) : 0;
    }),
  );
  return Math.max(0, ...ends);
}

/**
 * One burst against a fresh local cloud: `members` connections in the lobby, a share
 * of them sending at `rate` messages/s in all for `seconds`, some members vanishing without `$disconnect`. It
 * measures what a user notices: how fast each send is answered and with what, how long each message takes from
 * the send to every member, whether anything was lost or duplicated, and whether the fan-out drained and pruned.
 */
export interface BurstOptions {
  members: number;
  /** Messages per second, all senders together. */
  rate: number;
  seconds: number;
  /** Members that vanish (socket cut, no `$disconnect`) evenly during the burst; never senders. */
  vanish?: number;
  /** How long the fan-out may take to drain after the last ack before the burst counts as not drained. */
  drainLimitMs?: number;
  /** Settings beyond the SendRateLimit=1000 (LocalCloudOptions.settings). */
  settings?: Record<string, string>;
  /**
   * How the senders send. `one in flight`: every member that does not vanish sends in turn, each waiting for its
   * previous send's answer. `pipelined`: `pipelinedSenders` members send at rate / pipelinedSenders each, without
   * waiting, and tell the answers apart by clientMsgId.
   */
  mode?: 'one in flight' | 'pipelined';
  pipelinedSenders?: number;
  progress?: (line: string) => void;
}

export interface BurstResult {
  members: number;
  rate: number;
  seconds: number;
  /** Deliveries per second offered: rate x members. */
  offered: number;
  sends: number;
  mode: 'one in flight' | 'pipelined';
  /**
   * First replies, by kind: ack, an error frame's code, GATEWAY_TIMEOUT for the gateway's `Endpoint request timed
   * out` (the send waited past the 29 s integration timeout), GATEWAY_ERROR for its `Internal server error`,
   * NO_REPLY when nothing answered.
   */
  firstReplies: Record<string, number>;
  /** Share of sends whose first reply was an ack within 2 s. */
  ackedWithin2s: number;
  /** From the moment a send was written to its first reply (any kind). */
  firstReplyP50Ms: number;
  firstReplyP99Ms: number;
  /** From the moment a send was first written to its ack, retries included. */
  ackP50Ms: number;
  ackP99Ms: number;
  /** Replies of every attempt, retries included, by kind. */
  allReplies: Record<string, number>;
  /** Sends never acked after every retry. */
  unacked: number;
  /** Retries a client made (same clientMsgId). */
  retries: number;
  /** Send (first written) to arrival at a live member, over every live delivery. */
  receiveP50Ms: number;
  receiveP99Ms: number;
  receiveMaxMs: number;
  /** From the end of the sending to the moment no fan-out execution runs any more. */
  drainMs: number;
  drained: boolean;
  expectedDeliveries: number;
  deliveries: number;
  lost: number;
  duplicated: number;
  filledByHistory: number;
  failedExecutions: number;
  executions: number;
  /** Chunks the state machine caught and counted (DeliveryChunksFailed). */
  chunksFailed: number;
  /** Deliver invocations refused with TooManyRequestsException (reserved concurrency) and waited out. */
  deliverThrottles: number;
  vanished: number;
  pruned: number;
  /** The gateway's own `Internal server error` frames, on any attempt. */
  gatewayErrors: number;
  /** Attempts nothing answered (no ack, no error frame, no gateway frame). */
  unanswered: number;
  /** Error frames that did not name the clientMsgId of a send in flight (a client could not tell which failed). */
  unnamedErrors: number;
}

export const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/** What a client retries: the protocol's retryable codes, and the gateway's timeout (same clientMsgId, no duplicate). */
const RETRYABLE = new Set([
  'BUSY',
  'INTERNAL',
  'RATE_LIMITED',
  'GATEWAY_TIMEOUT',
  'GATEWAY_ERROR',
  'NO_REPLY',
]);
const SEND_ATTEMPTS = 20;
/** How long an attempt waits for any answer: past the gateway's 29 s integration timeout, its frame must come. */
const ANSWER_MS = 35_000;

interface Send {
  /** When the send was first written to the socket. */
  due: number;
  first?: { kind: string; ms: number };
  ack?: Frame;
  ackMs?: number;
  attempts: number;
  /** Every reply, by kind, retries included. */
  replies: string[];
}

/**
 * The answers on one connection, told apart as a client with several sends in flight tells them: acks and error
 * frames by the clientMsgId they name; the gateway's own frames (which name no clientMsgId) go to the send in flight
 * longest, the one the gateway's integration timeout reaches first.
 */
class Answers {
  private readonly pending = new Map<string, (kind: string, frame: Frame) => void>();
  unnamedErrors = 0;

  constructor(client: ChatClient) {
    client.onFrame((frame) => {
      if (frame.type === 'ack' || frame.type === 'error') {
        const answer = this.pending.get(String(frame.clientMsgId));
        if (answer) answer(frame.type === 'ack' ? 'ack' : String(frame.code), frame);
        else if (frame.type === 'error') this.unnamedErrors++;
      } else if (isGatewayError(frame)) {
        const [oldest] = this.pending.values();
        oldest?.(frame.message === 'Endpoint request timed out' ? 'GATEWAY_TIMEOUT' : 'GATEWAY_ERROR', frame);
      }
    });
  }

  /** Writes one attempt and waits for its answer (NO_REPLY after ANSWER_MS). */
  ask(
    client: ChatClient,
    frame: { message: string; clientMsgId: string },
  ): Promise<{ kind: string; frame?: Frame }> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle('NO_REPLY'), ANSWER_MS);
      const settle = (kind: string, reply?: Frame) => {
        clearTimeout(timer);
        this.pending.delete(frame.clientMsgId);
        resolve({ kind, frame: reply });
      };
      this.pending.set(frame.clientMsgId, settle);
      client.send({ action: 'sendmessage', ...frame });
    });
  }
}

/** Sends one message with its clientMsgId until acked, as a client does: retryable answers back off and retry. */
async function send(
  client: ChatClient,
  answers: Answers,
  text: string,
  clientMsgId: string,
  record: Send,
): Promise<void> {
  record.due = Date.now();
  for (let attempt = 1; attempt <= SEND_ATTEMPTS; attempt++) {
    record.attempts = attempt;
    const { kind, frame } = await answers.ask(client, { message: text, clientMsgId });
    record.first ??= { kind, ms: Date.now() - record.due };
    record.replies.push(kind);
    if (kind === 'ack') {
      record.ack = frame;
      record.ackMs = Date.now() - record.due;
      return;
    }
    if (!RETRYABLE.has(kind)) return;
    await sleep(Math.min(2000, 100 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
  }
}

export async function runBurst(options: BurstOptions): Promise<BurstResult> {
  const { members, rate, seconds, vanish = 0, mode = 'one in flight', pipelinedSenders = 5 } = options;
  // The fan-out's backlog grows with the overload: at 5x, four times what it delivers while the sends come.
  const drainLimitMs = options.drainLimitMs ?? Math.max(120_000, seconds * 1000 * 10);
  const progress = options.progress ?? (() => undefined);
  // SendRateLimit raised: the per-connection limits are not what a burst tests (tests/security has them). Nor is
  // FrameRateLimit: after a long burst the audit pages through thousands of messages with `history`.
  const testCloud = await startTestCloud({
    settings: { SendRateLimit: '1000', FrameRateLimit: '100000', ...options.settings },
  });
  const { cloud } = testCloud;
  const tables = cloudTables(cloud);
  const clients: ChatClient[] = [];
  try {
    clients.push(...(await connectMany(cloud.wsUrl, 'burst', members)));
    // Warm-up, not measured: as many messages at once as SendMessage has environments start every sandbox and SDK
    // client (cold starts), so the burst measures the sustained state: an environment left cold would start during
    // the burst's first seconds, and the sends waiting on it would measure a cold start instead.
    const warm = await Promise.all(
      clients
        .slice(0, Math.min(members, cloud.lambda.limits.environments))
        .map((c, i) => c.expectReply({ action: 'sendmessage', message: `warm-up ${i}` }, 60_000)),
    );
    await testCloud.settle();
    const lastSeq = Math.max(...warm.map((a) => Number(a.seq)));
    const checker = new DeliveryChecker();
    // Everyone is in the lobby: every lobby message after the warm-up is owed to them.
    for (const c of clients) checker.member(c, { type: 'joined', roomId: 'lobby', lastSeq, history: [] });
    // One in flight: every member that does not vanish sends, in turn, and a send waits behind its sender's previous
    // one only when that took longer than senders / rate seconds. Pipelined: a few senders send on schedule without
    // waiting. Latencies count from the moment a send is written, not from when it was due.
    const senderCount =
      mode === 'pipelined' ? Math.min(pipelinedSenders, members - vanish) : members - vanish;
    const senders = clients.slice(0, senderCount);
    const vanishing = clients.slice(members - vanish);
    const answers = new Map(senders.map((c) => [c, new Answers(c)]));
    const vanishedIds = await Promise.all(vanishing.map((c) => c.connectionId()));

    // Arrival times of messages, by text (message frames carry no clientMsgId), as each frame arrives (a batch's
    // messages all arrive with it).
    const arrivals: number[] = [];
    const dueByText = new Map<string, number>();
    for (const c of clients) {
      c.onFrame((frame) => {
        for (const message of messagesIn(frame)) {
          const due = dueByText.get(String(message.text));
          if (due !== undefined) arrivals.push(Date.now() - due);
        }
      });
    }
    progress(
      `${members} members connected; ${senderCount} senders (${mode}), ${rate} messages/s for ${seconds} s`,
    );

    cloud.gateway.setFaults({ faultSkipDisconnect: 1 });
    const total = Math.round(rate * seconds);
    const records: Send[] = [];
    const queues = new Map<ChatClient, Promise<void>>();
    const started = Date.now();
    const lag = monitorEventLoopDelay({ resolution: 20 });
    lag.enable();
    const ticker = setInterval(() => {
      const replies = records.flatMap((r) => r.replies);
      const acks = replies.filter((k) => k === 'ack').length;
      const ex = cloud.executions();
      const throttles = [...cloud.lambda.throttles.values()].reduce((a, b) => a + b, 0);
      const waiting = cloud.lambda.backlog();
      progress(
        `t=${Math.round((Date.now() - started) / 1000)} s due ${records.length} acked ${acks} other ${replies.length - acks} executions ${ex.started} running ${ex.running} failed ${ex.failed} throttles ${throttles} waiting for an environment ${waiting.request} requests ${waiting.background} background arrivals ${arrivals.length} loop lag p99 ${Math.round(lag.percentile(99) / 1e6)} ms`,
      );
    }, 5000);
    let vanished = 0;
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const sender = senders[i % senderCount] as ChatClient;
      const clientMsgId = `burst-${i}`;
      const record: Send = { due, attempts: 0, replies: [] };
      records.push(record);
      const previous = (mode === 'pipelined' ? undefined : queues.get(sender)) ?? Promise.resolve();
      const sending = previous.then(() => {
        const attempts = send(sender, answers.get(sender) as Answers, `burst ${i}`, clientMsgId, record);
        dueByText.set(`burst ${i}`, record.due);
        return attempts;
      });
      queues.set(
        sender,
        mode === 'pipelined' ? Promise.all([queues.get(sender), sending]).then(() => undefined) : sending,
      );
      while (vanished < vanishing.length && vanished <= (i / total) * vanishing.length) {
        const gone = vanishing[vanished++] as ChatClient;
        checker.vanish(gone);
        gone.terminate();
      }
    }
    await Promise.all(queues.values());
    const sentAt = Date.now();
    clearInterval(ticker);
    lag.disable();
    progress(`sending ended ${sentAt - started} ms after it began; draining`);
    // The drain limit's timer is cleared once settled: a pending timer would hold Jest open after the run.
    let drainTimer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      testCloud.settle().then(() => true),
      new Promise<boolean>((resolve) => {
        drainTimer = setTimeout(() => resolve(false), drainLimitMs);
      }),
    ]);
    clearTimeout(drainTimer);
    const drainMs = Date.now() - sentAt;
    cloud.gateway.setFaults({ faultSkipDisconnect: 0 });
    progress(`drained=${drained} in ${drainMs} ms; checking`);

    for (const r of records) if (r.ack) checker.sent(r.ack);
    // A member is pruned by the first fan-out that posts to it after its handshake window (the lobby subscription's
    // prunableAfter: $connect's end, seconds after connecting). A short burst's last post to it can come before that,
    // even when the burst's last batch runs after it: read-ahead may have posted that batch's messages in an earlier
    // frame, and a batch posted ahead in full posts nothing. So one more message always follows the window, as the
    // room's next message would.
    const windowEnds = await handshakeWindows(tables, vanishedIds);
    if (windowEnds > Date.now()) await sleep(windowEnds - Date.now() + 200);
    checker.sent(await (senders[0] as ChatClient).expectReply({ action: 'sendmessage', message: 'after' }));
    await testCloud.settle();
    let left = new Set<string>();
    await eventually(async () => {
      left = await indexedConnectionIds(tables);
      return vanishedIds.every((id) => !left.has(id));
    }, 10_000);
    await checker.fillGaps();
    const report = checker.report();

    const firstReplies: Record<string, number> = {};
    for (const r of records) {
      const kind = r.first?.kind ?? 'NO_REPLY';
      firstReplies[kind] = (firstReplies[kind] ?? 0) + 1;
    }
    const allReplies: Record<string, number> = {};
    for (const kind of records.flatMap((r) => r.replies)) allReplies[kind] = (allReplies[kind] ?? 0) + 1;
    const firstMs = records.map((r) => r.first?.ms ?? Number.POSITIVE_INFINITY).sort((a, b) => a - b);
    const ackMs = records.flatMap((r) => (r.ackMs === undefined ? [] : [r.ackMs])).sort((a, b) => a - b);
    const receive = [...arrivals].sort((a, b) => a - b);
    const executions = cloud.executions();
    // Why executions failed, in the cloud's words: a failure must be explained, not only counted.
    const failures = testCloud.logs.filter((line) => line.includes('execution failed'));
    for (const line of failures.slice(0, 5)) progress(line);
    return {
      members,
      rate,
      seconds,
      mode,
      offered: rate * members,
      sends: total,
      firstReplies,
      ackedWithin2s:
        records.filter((r) => r.first?.kind === 'ack' && r.first.ms <= 2000).length / Math.max(1, total),
      firstReplyP50Ms: percentile(firstMs, 50),
      firstReplyP99Ms: percentile(firstMs, 99),
      ackP50Ms: percentile(ackMs, 50),
      ackP99Ms: percentile(ackMs, 99),
      allReplies,
      unacked: records.filter((r) => !r.ack).length,
      retries: records.reduce((n, r) => n + Math.max(0, r.attempts - 1), 0),
      receiveP50Ms: percentile(receive, 50),
      receiveP99Ms: percentile(receive, 99),
      receiveMaxMs: receive.at(-1) ?? 0,
      drainMs,
      drained,
      expectedDeliveries: report.expectedDeliveries,
      deliveries: report.deliveries,
      lost: report.lost,
      duplicated: report.duplicated,
      filledByHistory: report.filledByHistory,
      failedExecutions: executions.failed,
      executions: executions.started,
      chunksFailed: cloud.metrics().DeliveryChunksFailed ?? 0,
      deliverThrottles: cloud.lambda.throttles.get('DeliverFunction') ?? 0,
      vanished: vanishing.length,
      pruned: vanishedIds.filter((id) => !left.has(id)).length,
      gatewayErrors: records.reduce((n, r) => n + r.replies.filter((k) => k === 'GATEWAY_ERROR').length, 0),
      unanswered: records.reduce((n, r) => n + r.replies.filter((k) => k === 'NO_REPLY').length, 0),
      unnamedErrors: [...answers.values()].reduce((n, a) => n + a.unnamedErrors, 0),
    };
  } finally {
    await closeAll(clients);
    tables.db.destroy();
    await cloud.close();
  }
}
