/**
 * The quotas one run of the model (tools/bench/awsModel.ts) meets, each a meter (tools/bench/quotas.ts): the route
 * buckets, each sender's send limits, the account's API Gateway requests, EventBridge's PutEvents and rule invocations, the FIFO queue's calls
 * (per queue and per group), Pipes' executions at once, the posting budget, DynamoDB's write units per key and per
 * table, its read units per key and per table, and SSM's GetParameter calls a second; and the run's use of each, in the
 * order a row reports them.
 */
import type { AwsProfile } from '../local/awsProfile';
import type { LambdaQuotas } from './lambdaConcurrency';
import type { ModelSettings } from './modelSettings';
import { Gauge, type Meter, PerSecond, type QuotaUse, quotaUse } from './quotas';
import { RouteBuckets } from './routeThrottles';
import { SenderLimits } from './sendLimits';
import { entry } from './simulation';

/** A run's mean rates a second over its measured seconds (ModelMeters.rates). */
export interface MeanRates {
  accountRequests: number;
  putEvents: number;
  ruleInvocations: number;
  tableWriteUnits: Record<string, number>;
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
  readonly postBudget: PerSecond;
  readonly groupCalls = new Map<number, PerSecond>();
  readonly keyWrites = new Map<string, PerSecond>();
  readonly tableWrites = new Map<string, PerSecond>();
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
    this.postBudget = new PerSecond(s.postsPerSecond);
    this.ssm = new PerSecond(q.ssmGetParameterPerSecond.value);
    this.tableLimit = (newTables ? q.dynamodbNewTableWriteUnits : q.dynamodbTableWriteUnits).value;
  }

  tableQuota(table: string): PerSecond {
    return entry(this.tableWrites, table, () => new PerSecond(this.tableLimit));
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
      tableWriteUnits: Object.fromEntries(
        [...this.tableWrites].map(([table, m]) => [table, r1(m.unitsRate(seconds, from))]),
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
