// What the local cloud reads from a SAM/CloudFormation template: the resolved view of each kind of resource.
import type { CreateTableInput } from '@aws-sdk/client-dynamodb';

export interface LoadTemplateOptions {
  stackName?: string;
  region?: string;
  accountId?: string;
  parameters?: Record<string, string>;
  /** Deploy-time constants changed (Mappings.Deploy.Settings): the local stand-in for editing template.yaml. */
  constants?: Record<string, string>;
}

export interface LocalFunction {
  logicalId: string;
  name: string;
  arn: string;
  handler: string;
  codeUri: string;
  /** Absolute path of the source entry point (esbuild EntryPoints[0], else the handler's module). */
  entryPoint: string;
  runtime?: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** ReservedConcurrentExecutions, when the template sets it. */
  reservedConcurrency?: number;
  environment: Record<string, string>;
  /**
   * How Lambda handles an accepted asynchronous invocation (SAM's EventInvokeConfig and DeadLetterQueue, or
   * AWS::Lambda::Function's DeadLetterConfig), when the template sets any: tools/local/lambdaAsync.ts.
   */
  asyncInvoke?: { maximumRetryAttempts?: number; maximumEventAgeSeconds?: number; deadLetterArn?: string };
}

/** A CreateTable input plus what CreateTable cannot carry (dynalite has no TTL; startDynamo strips extras). */
export interface LocalTable extends CreateTableInput {
  logicalId: string;
  ttlAttribute?: string;
}

export interface LocalRoute {
  routeKey: string;
  /** The Lambda proxy integration's function; absent for a MOCK integration. */
  functionLogicalId?: string;
  /** A MOCK integration: the body its `$default` integration response template sends back (static text only). */
  mockResponse?: string;
  /** The route returns the integration's response to the client (RouteResponseSelectionExpression/RouteResponse). */
  twoWay: boolean;
  operationName?: string;
  authorizer?: { functionLogicalId: string; identitySource: string[] };
}

export interface LocalWebSocketApi {
  logicalId: string;
  id: string;
  name?: string;
  routeSelectionExpression: string;
  stageName: string;
  stageThrottling?: { rateLimit: number; burstLimit: number };
  /** The stage's RouteSettings throttling, by route key; a missing value falls back to DefaultRouteSettings. */
  routeThrottling?: Record<string, { rateLimit?: number; burstLimit?: number }>;
  routes: LocalRoute[];
}

export interface LocalEventTarget {
  kind: 'stateMachine' | 'function' | 'queue';
  logicalId: string;
  arn: string;
  /** Target Input: constant JSON delivered instead of the event. */
  input?: unknown;
  /** Target InputPath: the part of the event delivered, e.g. `$.detail`. */
  inputPath?: string;
  /** The target's DeadLetterConfig: the queue (ARN) that keeps an event the target could not take. */
  deadLetterArn?: string;
  /**
   * The target's RetryPolicy: how many times, and for how long after the event, EventBridge retries a delivery that
   * failed with a retriable error (throttling, a service error); absent, EventBridge's defaults, 185 times and 24
   * hours (tools/local/eventbridge.ts).
   */
  retryPolicy?: { maximumRetryAttempts: number; maximumEventAgeSeconds: number };
  /** A FIFO queue target's SqsParameters.MessageGroupId: a constant or a dynamic JSON path into the event (docs/PARITY.md). */
  messageGroupId?: string;
}

/** An AWS::SQS::Queue, its properties resolved and checked as SQS checks them (tools/local/sqs.ts runs it). */
export interface LocalQueue {
  logicalId: string;
  name: string;
  arn: string;
  /** What `Ref` returns: the queue URL, `https://sqs.<region>.amazonaws.com/<account>/<name>`. */
  url: string;
  fifo: boolean;
  contentBasedDeduplication: boolean;
  /**
   * A FIFO queue's DeduplicationScope: `queue` (default), or `messageGroup`, where a deduplication id is unique
   * within its message group only.
   */
  deduplicationScope: 'queue' | 'messageGroup';
  /**
   * A FIFO queue's FifoThroughputLimit: `perQueue` (default: SQS FIFO's quota of calls per second per action holds
   * for the whole queue), or `perMessageGroupId` (high-throughput mode: it holds per message group, each group on a
   * partition of its own). tools/local/awsProfile.ts has the quota.
   */
  fifoThroughputLimit: 'perQueue' | 'perMessageGroupId';
  visibilityTimeoutSeconds: number;
  messageRetentionSeconds: number;
  delaySeconds: number;
  maximumMessageSize: number;
  redrivePolicy?: { deadLetterTargetArn: string; maxReceiveCount: number };
}

/** An AWS::Pipes::Pipe with an SQS source and a Step Functions target (tools/local/pipes.ts runs it). */
export interface LocalPipe {
  logicalId: string;
  name: string;
  arn: string;
  sourceArn: string;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  targetArn: string;
  invocationType: 'REQUEST_RESPONSE' | 'FIRE_AND_FORGET';
  /** The logical id of the AWS::IAM::Role its RoleArn names (the pipe's permissions). */
  roleLogicalId: string;
  desiredState: 'RUNNING' | 'STOPPED';
}

/** A function's SAM `Schedule` event: EventBridge invokes the function on that schedule (tools/local/schedules.ts). */
export interface LocalSchedule {
  logicalId: string;
  /** The function's logical id. */
  functionId: string;
  /** The schedule expression as written: `rate(...)` or `cron(...)`. */
  expression: string;
  /** The target's Input: constant JSON delivered instead of the scheduled event. */
  input?: unknown;
}

export interface LocalEventRule {
  logicalId: string;
  busName: string;
  pattern: Record<string, unknown>;
  targets: LocalEventTarget[];
}

export interface LocalEventBus {
  logicalId: string;
  name: string;
  arn: string;
}

export interface LocalStateMachine {
  logicalId: string;
  name: string;
  arn: string;
  type: 'STANDARD' | 'EXPRESS';
  definition: Record<string, unknown>;
}

export interface LocalTemplate {
  readonly path: string;
  readonly dir: string;
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  /** The parsed template with short forms turned into long forms, nothing resolved. */
  readonly raw: Record<string, unknown>;
  resolve(value: unknown, path?: string): unknown;
  parameter(name: string): string | string[];
  functions(): LocalFunction[];
  tables(): LocalTable[];
  webSocketApis(): LocalWebSocketApi[];
  eventRules(): LocalEventRule[];
  schedules(): LocalSchedule[];
  eventBuses(): LocalEventBus[];
  stateMachines(): LocalStateMachine[];
  queues(): LocalQueue[];
  pipes(): LocalPipe[];
  /** Logical ids of the resources whose Condition holds, optionally of one type (local IAM finds principals). */
  resourceIds(type?: string): string[];
  /** What `Ref` returns for a resource: the local stand-in of its physical id. */
  physicalId(logicalId: string): unknown;
}

export type Obj = Record<string, unknown>;

/** A resource as the template declares it (intrinsics unresolved). */
export interface Resource {
  Type: string;
  Properties: Obj;
  Metadata?: Obj;
  Condition?: string;
}
