// AWS's figures for the local cloud and the bench: per-call latencies and the quotas that shape the fan-out, each
// with its source (docs/PARITY.md, "The AWS profile", lists them again for readers). One place: a better figure
// changes one line here, and the local cloud (`--aws-profile aws`) and the bench's model (`npm run bench --
// --aws-profile aws`) both follow it.
//
// Latencies are no quotas: AWS publishes few of them. Each is a p50 and a p99 in milliseconds, from AWS's own
// posts or documented measurements where there are some, else a measured report, named in `source`. A call's
// latency is drawn from a log-normal distribution fitted to the two (latencyMs below).

/** A call's latency: its median and its 99th percentile, in milliseconds, and where the figures come from. */
export interface Latency {
  p50: number;
  p99: number;
  source: string;
}

/** A quota: its value and where AWS documents it. */
export interface Quota {
  value: number;
  source: string;
}

export interface AwsProfile {
  name: string;
  /** Per-call latencies the local cloud adds (under `--aws-profile`) and the bench's model draws. */
  latency: {
    /** DynamoDB GetItem/PutItem/UpdateItem/DeleteItem, in the same region. */
    dynamodbItem: Latency;
    /** DynamoDB Query (one page) and BatchGetItem. */
    dynamodbQuery: Latency;
    /** DynamoDB TransactWriteItems. */
    dynamodbTransaction: Latency;
    /** A warm Lambda invocation's overhead (the Invoke call around the handler's own time). */
    lambdaInvoke: Latency;
    /** A Step Functions Express state transition (Pass, Choice, a Map iteration's start). */
    stepFunctionsTransition: Latency;
    /** EventBridge PutEvents, as the caller waits for it. */
    eventBridgePutEvents: Latency;
    /** EventBridge from PutEvents accepted to the rule's target called. */
    eventBridgeToTarget: Latency;
    /** SQS SendMessage / DeleteMessage. */
    sqsCall: Latency;
    /** EventBridge Pipes: from a message visible in its SQS source to the target started with it. */
    pipesSqsPoll: Latency;
    /** API Gateway management API: one `POST @connections` from Lambda in the same region. */
    managementPost: Latency;
  };
  quotas: {
    /** SQS FIFO, default mode: calls per second per API action per queue. */
    sqsFifoCallsPerQueue: Quota;
    /** SQS FIFO, high-throughput mode: calls per second per API action per partition, which holds a group. */
    sqsFifoCallsPerGroup: Quota;
    /** EventBridge Pipes: pipe executions (targets running) at once per account and Region. */
    pipesConcurrency: Quota;
    /** SQS FIFO: messages one receive returns at most (and a Pipe's batch from a FIFO queue). */
    sqsFifoBatch: Quota;
    /** API Gateway: requests per second per account and region, `@connections` included. */
    apiGatewayRequestsPerSecond: Quota;
    /** API Gateway: the account's token bucket's capacity (the burst over the steady rate). */
    apiGatewayBurst: Quota;
    /** DynamoDB: write units per second per partition (one key). */
    dynamodbWcuPerKey: Quota;
    /** DynamoDB on-demand: write request units per second per table (the account's default table quota). */
    dynamodbTableWriteUnits: Quota;
    /** DynamoDB on-demand: what a newly created table serves at once (double its initial 2,000 WRU peak). */
    dynamodbNewTableWriteUnits: Quota;
    /** DynamoDB: read units per second per partition (one key). */
    dynamodbRcuPerKey: Quota;
    /** DynamoDB on-demand: read request units per second per table (the account's default table quota). */
    dynamodbTableReadUnits: Quota;
    /** SSM Parameter Store: GetParameter(s) transactions per second at standard throughput. */
    ssmGetParameterPerSecond: Quota;
    /** EventBridge PutEvents requests per second (us-east-1, us-west-2, eu-west-1; lower elsewhere). */
    eventBridgePutEventsPerSecond: Quota;
    /** EventBridge rule invocations per second, every rule's targets together (us-east-1; lower elsewhere). */
    eventBridgeRuleInvocationsPerSecond: Quota;
    /** Step Functions: an inline Map's concurrent iterations. */
    stepFunctionsInlineMapConcurrency: Quota;
    /** Step Functions Express: executions started a second (StartExecution's token bucket, refilled each second). */
    stepFunctionsExpressStartsPerSecond: Quota;
  };
}

const SQS_FIFO_THROTTLING =
  'docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/troubleshooting-fifo-throttling-issues.html';

const DYNAMODB_PAGE = 'aws.amazon.com/dynamodb/';

/** AWS as documented and measured (sources beside each figure). */
export const AWS: AwsProfile = {
  name: 'aws',
  latency: {
    // "Single-digit millisecond performance at any scale": the median well inside it, the p99 above it (slow side).
    dynamodbItem: { p50: 5, p99: 15, source: DYNAMODB_PAGE },
    dynamodbQuery: { p50: 7, p99: 20, source: DYNAMODB_PAGE },
    // A transaction does two underlying reads or writes per item (prepare and commit): about twice an item call.
    dynamodbTransaction: {
      p50: 15,
      p99: 40,
      source: `${DYNAMODB_PAGE}; docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html (estimate: two operations per item)`,
    },
    // AWS publishes no Invoke overhead: an estimate on the slow side of warm invocations (docs/PARITY.md).
    lambdaInvoke: {
      p50: 15,
      p99: 40,
      source:
        'docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html (estimate: no published figure)',
    },
    stepFunctionsTransition: {
      p50: 10,
      p99: 30,
      source:
        'docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html (estimate: no published per-transition figure)',
    },
    eventBridgePutEvents: {
      p50: 15,
      p99: 40,
      source:
        'docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html (estimate: no published figure)',
    },
    // A measured comparison of serverless messaging: PutEvents to a Lambda target, p50 148 ms and p99 387 ms (the
    // figures docs/PERFORMANCE.md's per-hop arithmetic uses; Amazon Key's post reports 80 ms p90 at 2,000 events/s,
    // the slower published figure is kept).
    eventBridgeToTarget: {
      p50: 148,
      p99: 387,
      source:
        'aws.amazon.com/blogs/architecture/mastering-millisecond-latency-and-millions-of-events-the-event-driven-architecture-behind-the-amazon-key-suite/ (measured: 80 ms p90); the slower measured p50 148 ms, p99 387 ms taken: bitesizedserverless.com/bite/serverless-messaging-latency-compared/',
    },
    sqsCall: {
      p50: 10,
      p99: 30,
      source:
        'docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/welcome.html (estimate: no published figure)',
    },
    pipesSqsPoll: {
      p50: 50,
      p99: 250,
      source:
        'docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-batching-concurrency.html (estimate: no published figure)',
    },
    managementPost: {
      p50: 20,
      p99: 60,
      source:
        'docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html (estimate: no published figure)',
    },
  },
  quotas: {
    sqsFifoCallsPerQueue: { value: 300, source: SQS_FIFO_THROTTLING },
    sqsFifoCallsPerGroup: {
      value: 300,
      source: `${SQS_FIFO_THROTTLING}; …/SQSDeveloperGuide/high-throughput-fifo.html`,
    },
    pipesConcurrency: {
      value: 1_000,
      source: 'docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-batching-concurrency.html',
    },
    sqsFifoBatch: {
      value: 10,
      source: 'docs.aws.amazon.com/eventbridge/latest/userguide/eb-pipes-batching-concurrency.html',
    },
    apiGatewayRequestsPerSecond: {
      value: 10_000,
      source:
        'docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-execution-service-websocket-limits-table.html',
    },
    apiGatewayBurst: {
      value: 5_000,
      source: 'docs.aws.amazon.com/apigateway/latest/developerguide/limits.html',
    },
    dynamodbWcuPerKey: {
      value: 1_000,
      source: 'docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html',
    },
    dynamodbTableWriteUnits: {
      value: 40_000,
      source:
        'docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html (per table, on-demand)',
    },
    dynamodbNewTableWriteUnits: {
      value: 4_000,
      source:
        'docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html (initial throughput of a new on-demand table)',
    },
    dynamodbRcuPerKey: {
      value: 3_000,
      source: 'docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html',
    },
    dynamodbTableReadUnits: {
      value: 40_000,
      source:
        'docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html (per table, on-demand)',
    },
    ssmGetParameterPerSecond: {
      value: 40,
      source: 'docs.aws.amazon.com/general/latest/gr/ssm.html (standard throughput)',
    },
    eventBridgePutEventsPerSecond: {
      value: 10_000,
      source: 'docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html',
    },
    eventBridgeRuleInvocationsPerSecond: {
      value: 18_750,
      source: 'docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html',
    },
    stepFunctionsInlineMapConcurrency: {
      value: 40,
      source: 'docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html',
    },
    // StartExecution for Express: a bucket of 6,000 refilled 6,000 a second, per account and Region. The model holds
    // the pipe's StartSyncExecution calls to the same bucket as the rules' StartExecution: the reading that binds first.
    stepFunctionsExpressStartsPerSecond: {
      value: 6_000,
      source: 'docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html (StartExecution, Express)',
    },
  },
};

/** The profiles `--aws-profile` takes by name. */
export const PROFILES: Record<string, AwsProfile> = { aws: AWS };

/** The profile named, or a clear error naming the ones there are. */
export function profileNamed(name: string): AwsProfile {
  const profile = PROFILES[name];
  if (!profile)
    throw new Error(`unknown AWS profile "${name}": the profiles are ${Object.keys(PROFILES).join(', ')}`);
  return profile;
}

/** z of the 99th percentile of the standard normal distribution. */
const Z99 = 2.3263478740408408;

/**
 * One draw of a call's latency in milliseconds: log-normal with the given median and 99th percentile. `random` is a
 * uniform draw in (0, 1) (Math.random, or a seeded generator for a reproducible model run).
 */
export function latencyMs(latency: Latency, random: () => number = Math.random): number {
  const mu = Math.log(latency.p50);
  const sigma = Math.max(0, Math.log(latency.p99 / latency.p50) / Z99);
  // Box-Muller: one standard normal draw from two uniform ones.
  const u = Math.max(random(), Number.MIN_VALUE);
  const v = random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.exp(mu + sigma * z);
}

/** A call whose latency the profile gives: a field of `AwsProfile['latency']`. */
export type LatencyName = keyof AwsProfile['latency'];

/**
 * The milliseconds a local service waits before answering a call of `name`: a draw from the profile's latency, or 0
 * without a profile (the local cloud's default: it answers as fast as it can).
 */
export function callDelayMs(profile: AwsProfile | undefined, name: LatencyName): number {
  return profile ? latencyMs(profile.latency[name]) : 0;
}

/** Waits a call's drawn latency (nothing without a profile), then resolves. */
export function waitCall(profile: AwsProfile | undefined, name: LatencyName): Promise<void> {
  const ms = callDelayMs(profile, name);
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
