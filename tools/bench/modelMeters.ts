/**
 * The quotas one run of the model (tools/bench/awsModel.ts) meets, each a meter (tools/bench/quotas.ts): the route
 * buckets, each sender's send limits, the account's API Gateway requests, EventBridge's PutEvents and rule invocations, the FIFO queue's calls
 * (per queue and per group), Pipes' executions at once, Express's executions started, the posting budget, DynamoDB's write units per key and per
 * table, its read units per key and per table, and SSM's GetParameter calls a second; and the run's use of each, in the
 * order a row reports them.
 */
import type { AwsProfile } from '../local/awsProfile';
import { ExpressStarts, type StartSummary } from './expressStarts';
import type { LambdaQuotas } from './lambdaConcurrency';
import type { ModelSettings } from './modelSettings';
import { Gauge, type Meter, PerSecond, type QuotaUse, quotaUse } from './quotas';
import { RouteBuckets } from './routeThrottles';
import { SenderLimits, type TokenWrite } from './sendLimits';
import { entry } from './simulation';

/** Items by key prefix, and their table (the model's keys: the model's parts and featureTraffic.ts). */
const TABLE_BY_PREFIX: readonly (readonly [string, string])[] = [
  ['rooms#', 'RoomsTable'],
  ['messages#', 'MessagesTable'],
  ['words#', 'WordsTable'],
  ['membership#', 'MembershipsTable'],
  ['connection#', 'ConnectionsTable'],
  ['subscribers#', 'RoomSubscribersIndex'],
  ['subscription#', 'SubscriptionsTable'],
];

/**
 * The table a key's item lives in: the room's item, its log, a word's entries, a member's read position, a
 * connection's item (its send bucket, its typing marks), its subscriptions (a closed room's moves), the room index's
 * entries (RoomSubscribers); the Limits table holds the rest: the fan-out's cursor (functions/deliver/dynamoCursor.ts),
 * the presence boards, the posting budget and each person's rate buckets (`rate#send#<owner>`, personRate.ts).
 */
export const tableOf = (key: string): string =>
  TABLE_BY_PREFIX.find(([prefix]) => key.startsWith(prefix))?.[1] ?? 'LimitsTable';

/** A run's mean rates a second over its measured seconds (ModelMeters.rates). */
export interface MeanRates {
  accountRequests: number;
  putEvents: number;
  ruleInvocations: number;
  /** Express executions started (fan-out, repost, departure, broadcast): expressStarts.ts. */
  expressStarts: StartSummary;
  tableWriteUnits: Record<string, number>;
  /** Of those, each table's send-token write units (a send's takes: sendLimits.ts), refused takes' writes included. */
  tokenWriteUnits: Record<string, number>;
  /** Each table's busiest second as a share of its write quota, and its busiest key's of the key's 1,000 WCU/s. */
  tableWritePeaks: Record<string, { table: number; key: number }>;
  /** Each table's read units accepted, and SSM's GetParameter calls. */
  tableReadUnits: Record<string, number>;
  ssmCalls: number;
}

export class ModelMeters {
  readonly routes: RouteBuckets;
  /** Each sender's PersonSendRateLimit and SendRateLimit buckets (sendLimits.ts). */
  readonly senders: SenderLimits;
  readonly apiGateway: PerSecond;
  readonly putEvents: PerSecond;
  readonly ruleInvocations: PerSecond;
  readonly queueCalls: PerSecond;
  readonly pipeExecutions: Gauge;
  /**
   * Express executions started by machine against Express's StartExecution bucket; a throttled start is retried by
   * its pipe or rule, each throttled call counted refused (expressStarts.ts).
   */
  readonly expressStarts: ExpressStarts;
  readonly postBudget: PerSecond;
  readonly groupCalls = new Map<number, PerSecond>();
  readonly keyWrites = new Map<string, PerSecond>();
  readonly tableWrites = new Map<string, PerSecond>();
  /** The send-token writes accepted, by table: counted beside the table's quota, which they are also taken from. */
  readonly tokenWrites = new Map<string, PerSecond>();
  readonly keyReads = new Map<string, PerSecond>();
  readonly tableReads = new Map<string, PerSecond>();
  /** Parameter Store's GetParameter calls (each environment's settings read: extraTraffic.ts). */
  readonly ssm: PerSecond;
  /** Each table's write units: a new on-demand table's (`newTables`) or the account's per-table quota. */
  readonly tableLimit: number;

  constructor(
    private readonly quotas: AwsProfile['quotas'],
    s: ModelSettings,
    newTables = false,
    startRandom: () => number = Math.random,
  ) {
    const q = quotas;
    // One bucket per route for every client (routeThrottles.ts); sendmessage's may be given on its own.
    this.routes = new RouteBuckets(
      { ...s.routes, ...(s.sendRoute && { sendmessage: s.sendRoute }) },
      s.defaultRoute,
    );
    this.senders = new SenderLimits(s.sendLimits);
    this.apiGateway = new PerSecond(q.apiGatewayRequestsPerSecond.value);
    this.putEvents = new PerSecond(q.eventBridgePutEventsPerSecond.value);
    this.ruleInvocations = new PerSecond(q.eventBridgeRuleInvocationsPerSecond.value);
    this.queueCalls = new PerSecond(q.sqsFifoCallsPerQueue.value);
    this.pipeExecutions = new Gauge(q.pipesConcurrency.value);
    this.expressStarts = new ExpressStarts(
      q.stepFunctionsExpressStartsPerSecond.value,
      startRandom,
      s.ruleRetries,
    );
    this.postBudget = new PerSecond(s.postsPerSecond);
    this.ssm = new PerSecond(q.ssmGetParameterPerSecond.value);
    this.tableLimit = (newTables ? q.dynamodbNewTableWriteUnits : q.dynamodbTableWriteUnits).value;
  }

  tableQuota(table: string): PerSecond {
    return entry(this.tableWrites, table, () => new PerSecond(this.tableLimit));
  }

  /**
   * A send's token writes (sendLimits.ts SenderTake): each on its table's and its key's quota, at `at` (they run
   * beside the send's first reads, so they add no round trip). The quota that refused one, or undefined.
   */
  tokenWrite(writes: readonly TokenWrite[], at: number): 'table' | 'key' | undefined {
    for (const w of writes) {
      const table = tableOf(w.key);
      if (!this.tableQuota(table).take(at, w.units)) return 'table';
      if (!this.keyQuota(w.key).take(at, w.units)) return 'key';
      entry(this.tokenWrites, table, () => new PerSecond(Number.POSITIVE_INFINITY)).take(at, w.units);
    }
    return undefined;
  }

  keyQuota(key: string): PerSecond {
    return entry(this.keyWrites, key, () => new PerSecond(this.quotas.dynamodbWcuPerKey.value));
  }

  /** Read units on one key (a partition's 3,000 RCU/s) and on a table (its read request units). */
  readKeyQuota(key: string): PerSecond {
    return entry(this.keyReads, key, () => new PerSecond(this.quotas.dynamodbRcuPerKey.value));
  }

  readTableQuota(table: string): PerSecond {
    return entry(this.tableReads, table, () => new PerSecond(this.quotas.dynamodbTableReadUnits.value));
  }

  groupQuota(room: number): PerSecond {
    return entry(this.groupCalls, room, () => new PerSecond(this.quotas.sqsFifoCallsPerGroup.value));
  }

  /**
   * Mean rates over the measured seconds [from, from + seconds): the account's requests and EventBridge's calls
   * (refused ones included), and each table's write units accepted.
   */
  rates(seconds: number, from: number): MeanRates {
    const r1 = (x: number) => Math.round(x * 10) / 10;
    return {
      accountRequests: r1(this.apiGateway.rate(seconds, from).mean),
      putEvents: r1(this.putEvents.rate(seconds, from).mean),
      ruleInvocations: r1(this.ruleInvocations.rate(seconds, from).mean),
      expressStarts: this.expressStarts.summary(seconds, from),
      tableWriteUnits: Object.fromEntries(
        [...this.tableWrites].map(([table, m]) => [table, r1(m.unitsRate(seconds, from))]),
      ),
      tokenWriteUnits: Object.fromEntries(
        [...this.tokenWrites].map(([table, m]) => [table, r1(m.unitsRate(seconds, from))]),
      ),
      tableWritePeaks: Object.fromEntries(
        [...this.tableWrites].map(([table, m]) => {
          const keys = [...this.keyWrites].filter(([key]) => tableOf(key) === table).map(([, k]) => k);
          const keyPeak = Math.max(0, ...keys.map((k) => k.peakUse(from)));
          const r2 = (x: number) => Math.round(x * 100) / 100;
          return [table, { table: r2(m.peakUse(from)), key: r2(keyPeak) }];
        }),
      ),
      tableReadUnits: Object.fromEntries(
        [...this.tableReads].map(([table, m]) => [table, r1(m.unitsRate(seconds, from))]),
      ),
      ssmCalls: r1(this.ssm.rate(seconds, from).mean),
    };
  }

  /** Each quota's use from second `from` on, with the features' own and Lambda's concurrency. */
  uses(from: number, lambdas: Meter & { quotas: LambdaQuotas }, featureUses: QuotaUse[] = []): QuotaUse[] {
    const q = this.quotas;
    return [
      ...this.routes.uses(from),
      ...this.senders.uses(from),
      quotaUse('API Gateway requests/s (account)', this.apiGateway.limit, [this.apiGateway], from),
      quotaUse('EventBridge PutEvents/s', this.putEvents.limit, [this.putEvents], from),
      quotaUse('EventBridge rule invocations/s', this.ruleInvocations.limit, [this.ruleInvocations], from),
      quotaUse('posting budget (FanoutPostsPerSecond)', this.postBudget.limit, [this.postBudget], from),
      ...featureUses,
      quotaUse(
        'Step Functions Express starts/s',
        this.expressStarts.meter.limit,
        [this.expressStarts.meter],
        from,
      ),
      quotaUse('Pipes executions at once (account)', this.pipeExecutions.limit, [this.pipeExecutions], from),
      quotaUse('SQS FIFO calls/s per queue', this.queueCalls.limit, [this.queueCalls], from),
      quotaUse('SQS FIFO calls/s per group', q.sqsFifoCallsPerGroup.value, this.groupCalls.values(), from),
      quotaUse('DynamoDB writes/s per key', q.dynamodbWcuPerKey.value, this.keyWrites.values(), from),
      quotaUse('DynamoDB write units/s per table', this.tableLimit, this.tableWrites.values(), from),
      quotaUse('Lambda concurrency (account)', lambdas.quotas.accountConcurrency, [lambdas], from),
      quotaUse('DynamoDB reads/s per key', q.dynamodbRcuPerKey.value, this.keyReads.values(), from),
      quotaUse(
        'DynamoDB read units/s per table',
        q.dynamodbTableReadUnits.value,
        this.tableReads.values(),
        from,
      ),
      quotaUse('SSM GetParameter/s', this.ssm.limit, [this.ssm], from),
    ];
  }
}
