import { createECDH, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { LocalTemplate, LocalWebSocketApi } from '../infra/template';
import { runAuthorizer } from './authorizer';
import type { AwsProfile, Latency } from './awsProfile';
import { type LocalDynamo, startDynamoThread } from './dynamodb';
import { type DynamoFaultProxy, startDynamoFaultProxy } from './dynamoFaults';
import { createEventBridge, type LocalEventBridge } from './eventbridge';
import { type Gateway, startGateway } from './gateway';
import { sendJson, serveStatic } from './http';
import { LOCAL_ADMIN, type LocalIam } from './iam';
import { routeAccess } from './invokePermissions';
import { LambdaTestClock } from './lambda/clock';
import {
  type FunctionLog,
  forStepFunctions,
  type InvocationKind,
  LAMBDA_LIMITS_WITH_LATENCIES,
  type LambdaLimits,
  type LocalFunctionSpec,
  LocalLambda,
} from './lambda/service';
import { invokeAsynchronously } from './lambdaAsync';
import type { LocalWait } from './localWait';
import type { DevIssuer } from './oidc';
import { DEFAULT_PIPE_POLLERS, type LocalPipes, startPipes as startLocalPipes } from './pipes';
import { createRestApi, restRoutes } from './restApi';
import { createLocalS3, type LocalS3, templateBuckets } from './s3';
import { startSchedules } from './schedules';
import { type Started, serve } from './services';
import { LOCAL_PUSH_SERVICE_VARIABLE } from './settings';
import { LocalSqs, type SqsTestClock } from './sqs';
import { createLocalSsm, type LocalParameter } from './ssm';
import { startStepFunctionsThread } from './stepFunctionsHost';
import type { ExecutionSummary } from './stepfunctions';
import type { StepFunctionsTestClock } from './testClock';

type RestApi = ReturnType<typeof createRestApi>;

/** What every service of the local cloud is started with. */
export interface CloudContext {
  template: LocalTemplate;
  /** The template's one WebSocket API. */
  api: LocalWebSocketApi;
  /** The template parameters in force (the development issuer's included). */
  parameters?: Record<string, string>;
  host: string;
  iam: LocalIam;
  devIssuer?: DevIssuer;
  /** The token secret, when the template's authorizers need one. */
  authSecret?: string;
  /** The runtime settings' overrides the settings document starts with, and the functions' cache age (tests). */
  settings?: { document: Record<string, unknown>; maxAgeSeconds?: number };
  /** Functions that authorize routes. */
  authorizerIds: Set<string>;
  print(line: string): void;
  warn(line: string): void;
  /**
   * `--log-level DEBUG`: one line where a message's event matches a rule and where its execution ends, with the
   * correlation id (the messageId) the functions log, so one message can be followed across the local cloud.
   */
  debug?: boolean;
  /**
   * `--aws-profile`: the AWS figures (tools/local/awsProfile.ts) whose latencies every local service waits before
   * answering a call. Absent, the services answer as fast as they can.
   */
  profile?: AwsProfile;
}

/** `, correlation_id <messageId>` for an event (or a state machine's input) that carries one, else nothing. */
function correlation(value: unknown): string {
  return messageIdsOf(value)
    .map((id) => `, correlation_id ${id}`)
    .join('');
}

/**
 * The message ids of an event, or of the events in a batch of SQS records a pipe hands an execution (each record's
 * body an event's detail: the fan-out rule's InputPath).
 */
function messageIdsOf(value: unknown): string[] {
  if (Array.isArray(value))
    return value.flatMap((record) => {
      const body = (record as { body?: unknown } | undefined)?.body;
      if (typeof body !== 'string') return [];
      try {
        return messageIdOf(JSON.parse(body));
      } catch {
        return [];
      }
    });
  return messageIdOf((value as { detail?: unknown } | undefined)?.detail);
}

function messageIdOf(detail: unknown): string[] {
  const messageId = (detail as { messageId?: unknown } | undefined)?.messageId;
  return typeof messageId === 'string' ? [messageId] : [];
}

export type Invoke = (
  fn: string,
  event: unknown,
  kind?: InvocationKind,
  startBy?: number,
  /** Whose request it is, for the local Lambda service's turns (LocalLambda.invoke); absent: the event's connection. */
  caller?: string,
  /** A caller that does not count the invocation's wait for a local environment (the gateway: LocalWait). */
  wait?: LocalWait,
) => Promise<unknown>;

/** A built file of dist/ the local cloud needs, or an error that says to build. */
export function built(template: LocalTemplate, ...path: string[]): string {
  const file = join(template.dir, 'dist', ...path);
  if (!existsSync(file)) throw new Error(`${file} is missing; run npm run build`);
  return file;
}

const guard =
  (iam: LocalIam, service: string) =>
  (req: IncomingMessage, body: Buffer, action: string | undefined, resources: string[]) =>
    iam.checkRequest(req, body, { service, action, resources });

/**
 * DynamoDB: dynalite in a thread of its own, with its own IAM check of every request (the same keys as the main
 * thread's IAM): see dynamoThread.ts. In memory, or on disk in `dataDir`.
 */
export async function startDynamo(
  ctx: CloudContext,
  dataDir: string | undefined,
  keyLimitScale?: number,
  gsiLagMs?: number,
): Promise<Started<LocalDynamo>> {
  const { template, iam } = ctx;
  const dynamo = await startDynamoThread(
    built(template, 'local', 'dynamoThread.js'),
    {
      template: { path: template.path, raw: template.raw },
      parameters: ctx.parameters,
      secrets: iam.secrets(),
      dataDir,
      host: ctx.host,
      keyLimitScale,
      gsiLagMs,
      awsProfile: ctx.profile?.name,
    },
    // What the thread's IAM says while loading the template was said on this thread already.
    (line) => {
      if (!line.includes('is not expanded locally')) ctx.warn(line);
    },
  );
  return { value: dynamo, close: () => dynamo.close() };
}

/** A proxy in front of DynamoDB that answers a share of the functions' requests with throttling or conflicts. */
export async function startDynamoFaults(
  ctx: CloudContext,
  target: string,
  throttle: number,
): Promise<Started<DynamoFaultProxy>> {
  const proxy = await startDynamoFaultProxy({ target, host: ctx.host, throttle, transactedTablesOnly: true });
  return { value: proxy, close: () => proxy.close() };
}

/** The state machines' executions as the cloud follows them: started, failed, running, and their metrics. */
export interface Executions {
  start(logicalId: string, input: unknown): void;
  /** Runs an execution to its end (StartSyncExecution, as a pipe's REQUEST_RESPONSE target waits on it). */
  run(logicalId: string, input: unknown): Promise<ExecutionSummary>;
  /** Resolves when no execution is running (tests and the benchmark wait on it). */
  idle(): Promise<void>;
  counts(): { started: number; failed: number; running: number };
  /** Sums of the metrics state machines put with CloudWatch PutMetricData (e.g. DeliveryChunksFailed). */
  metrics(): Record<string, number>;
}

/**
 * Step Functions: the template's state machines in a thread of their own (stepFunctionsThread.ts). Their Lambda
 * tasks come back here, are checked against the machine's role, and run as background work (InvocationKind).
 */
export async function startStepFunctions(
  ctx: CloudContext,
  dynamoEndpoint: string | Promise<string>,
  invoke: Invoke,
  { testClock, lambdaResponseLost }: { testClock?: StepFunctionsTestClock; lambdaResponseLost?: number } = {},
): Promise<Started<Executions>> {
  const { template, iam } = ctx;
  const functionArns = new Map(template.functions().map((fn) => [fn.name, fn.arn]));
  // Lambda's service errors (throttles) reach Step Functions as `Lambda.<name>`, as on AWS.
  const stepFunctionsInvoke = forStepFunctions((fn, payload) => invoke(fn, payload, 'background'));
  const metricSums: Record<string, number> = {};
  // Each machine runs with its own role: its SDK tasks are signed with its key, its Lambda invokes checked here.
  const thread = await startStepFunctionsThread(
    built(template, 'local', 'stepFunctionsThread.js'),
    {
      template: { path: template.path, raw: template.raw },
      parameters: ctx.parameters,
      credentials: Object.fromEntries(
        template.stateMachines().map((d) => [d.logicalId, iam.credentials(d.logicalId)]),
      ),
      testClock,
      faultLambdaResponseLost: lambdaResponseLost,
      awsProfile: ctx.profile?.name,
    },
    dynamoEndpoint,
    {
      invokeFunction: async (machine, functionArnOrName, payload) => {
        const arn = functionArnOrName.startsWith('arn:')
          ? functionArnOrName
          : (functionArns.get(functionArnOrName) ?? functionArnOrName);
        const refusal = await iam.checkCall(machine, 'lambda:InvokeFunction', arn);
        if (refusal) throw lambdaAccessDenied(refusal.message);
        return stepFunctionsInvoke(functionArnOrName, payload);
      },
      putMetricData: (input) => {
        for (const { MetricName, Value = 0 } of input.MetricData)
          metricSums[MetricName] = (metricSums[MetricName] ?? 0) + Value;
      },
      log: ctx.warn,
    },
  );
  const stateMachineIds = new Set(template.stateMachines().map((d) => d.logicalId));
  const running = new Set<Promise<ExecutionSummary>>();
  let started = 0;
  let failed = 0;
  const waiters: (() => void)[] = [];
  /** Starts an execution; with `withOutput` its summary carries the output (StartSyncExecution's caller). */
  const run = (logicalId: string, input: unknown, withOutput: boolean): Promise<ExecutionSummary> => {
    if (!stateMachineIds.has(logicalId))
      throw new Error(`rule target ${logicalId} is not a state machine of the template`);
    started++;
    const execution = thread.execute(logicalId, input, withOutput);
    running.add(execution);
    void execution.then((summary) => {
      running.delete(execution);
      if (summary.ok && ctx.debug)
        ctx.print(
          `${new Date().toISOString().slice(11, 23)} DEBUG ${logicalId}: execution succeeded in ${Math.round(summary.durationMs)} ms${correlation(input)}`,
        );
      if (!summary.ok) {
        failed++;
        ctx.print(
          `${new Date().toISOString().slice(11, 23)} ERROR ${logicalId}: execution failed in state ${summary.failedState ?? '?'}: ${summary.error}: ${summary.cause}`,
        );
      }
      if (running.size === 0) for (const wake of waiters.splice(0)) wake();
    });
    return execution;
  };
  const executions: Executions = {
    start: (logicalId, input) => {
      void run(logicalId, input, false);
    },
    run: (logicalId, input) => run(logicalId, input, true),
    idle: () =>
      running.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)),
    counts: () => ({ started, failed, running: running.size }),
    metrics: () => ({ ...metricSums }),
  };
  return { value: executions, close: () => thread.close() };
}

/** What Step Functions reports when its role may not invoke the function (docs/PARITY.md). */
function lambdaAccessDenied(message: string): Error {
  const error = new Error(
    `${message} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: ${randomUUID()}; Proxy: null)`,
  );
  error.name = 'Lambda.AWSLambdaException';
  return error;
}

/** EventBridge: the template's buses and rules; a rule's targets are state machines or (background) functions. */
export async function startEvents(
  ctx: CloudContext,
  faultPutEvents: number | undefined,
  executions: Executions,
  invoke: Invoke,
  sqs: LocalSqs,
): Promise<Started<{ eventBridge: LocalEventBridge; endpoint: string }>> {
  const { template } = ctx;
  const functions = new Map(template.functions().map((fn) => [fn.logicalId, fn]));
  const eventBridge = createEventBridge({
    sqs,
    queueAllowsEvents: queuePolicyAllowsEvents(template),
    buses: template.eventBuses(),
    rules: template.eventRules(),
    region: template.region,
    accountId: template.accountId,
    faultPutEvents,
    profile: ctx.profile,
    onQueued: (target, event, rule) => {
      if (ctx.debug)
        ctx.print(
          `${new Date().toISOString().slice(11, 23)} DEBUG eventbridge: ${event['detail-type']} matched rule ${rule.logicalId}, target ${target.logicalId}${correlation(event)}`,
        );
    },
    onTarget: (target, input, event, rule) => {
      if (ctx.debug)
        ctx.print(
          `${new Date().toISOString().slice(11, 23)} DEBUG eventbridge: ${event['detail-type']} matched rule ${rule.logicalId}, target ${target.logicalId}${correlation(event)}`,
        );
      if (target.kind === 'stateMachine') executions.start(target.logicalId, input);
      // An asynchronous invocation: Lambda takes the event, so the rule's retries and dead-letter queue are done with
      // it; the function's own retries and dead-letter queue follow (tools/local/lambdaAsync.ts).
      else
        invokeAsynchronously({
          fn: functions.get(target.logicalId) ?? { logicalId: target.logicalId },
          event: input,
          invoke: (event) => invoke(target.logicalId, event, 'background'),
          sqs,
          warn: ctx.warn,
        });
    },
    log: ctx.print,
    guard: guard(ctx.iam, 'events'),
  });
  const server = await serve(
    createServer((req, res) => eventBridge.handle(req, res)),
    0,
    ctx.host,
  );
  const schedules = startSchedules(template.schedules(), {
    region: template.region,
    accountId: template.accountId,
    invoke: (functionId, event) => invoke(functionId, event, 'background'),
    warn: ctx.warn,
  });
  return {
    value: { eventBridge, endpoint: server.value },
    close: async () => {
      schedules.close();
      await server.close();
    },
  };
}

/**
 * Whether a queue's AWS::SQS::QueuePolicy has an Allow statement for events.amazonaws.com with sqs:SendMessage on
 * it: the grant a rule needs to send to a queue (target or dead-letter queue). Conditions (aws:SourceArn) are not
 * evaluated locally (docs/PARITY.md).
 */
function queuePolicyAllowsEvents(template: LocalTemplate): (queueArn: string) => boolean {
  const raw = (template.raw.Resources ?? {}) as Record<string, { Properties?: Record<string, unknown> }>;
  const queueUrls = new Map(
    template.resourceIds('AWS::SQS::Queue').map((id) => [String(template.physicalId(id)), id]),
  );
  const allowed = new Set<string>();
  for (const id of template.resourceIds('AWS::SQS::QueuePolicy')) {
    const props = raw[id]?.Properties ?? {};
    const queues = template.resolve(props.Queues, `Resources.${id}.Properties.Queues`);
    const statements = (props.PolicyDocument as { Statement?: unknown } | undefined)?.Statement;
    const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
    const grants = list.some((statement) => {
      const st = statement as { Effect?: unknown; Principal?: { Service?: unknown }; Action?: unknown };
      const services = [st.Principal?.Service].flat();
      const actions = [st.Action].flat();
      return (
        st.Effect === 'Allow' &&
        services.includes('events.amazonaws.com') &&
        actions.some((a) => a === 'sqs:SendMessage' || a === 'sqs:*')
      );
    });
    if (!grants || !Array.isArray(queues)) continue;
    for (const url of queues) {
      const logicalId = queueUrls.get(String(url));
      if (logicalId) allowed.add(template.resolve({ 'Fn::GetAtt': [logicalId, 'Arn'] }) as string);
    }
  }
  return (queueArn) => allowed.has(queueArn);
}

/**
 * SQS: the template's queues, over HTTP for the functions (each request checked by the local IAM) and in process for
 * EventBridge and Pipes.
 */
export async function startSqs(
  ctx: CloudContext,
  testClock: SqsTestClock | undefined,
): Promise<Started<{ sqs: LocalSqs; endpoint: string }>> {
  const { template } = ctx;
  const sqs = new LocalSqs({
    queues: template.queues(),
    region: template.region,
    accountId: template.accountId,
    testClock,
    profile: ctx.profile,
    guard: guard(ctx.iam, 'sqs'),
    log: ctx.warn,
  });
  const server = await serve(
    createServer((req, res) => sqs.handle(req, res)),
    0,
    ctx.host,
  );
  return {
    value: { sqs, endpoint: server.value },
    close: async () => {
      sqs.close();
      await server.close();
    },
  };
}

/** EventBridge Pipes: each pipe polls its queue and runs its state machine with each batch, as its role allows. */
export async function startPipes(
  ctx: CloudContext,
  sqs: LocalSqs,
  executions: Executions,
  pollers = DEFAULT_PIPE_POLLERS,
): Promise<Started<LocalPipes>> {
  const { template, iam } = ctx;
  const machines = new Map(template.stateMachines().map((m) => [m.arn, m.logicalId]));
  const pipes = await startLocalPipes({
    pipes: template.pipes(),
    sqs,
    region: template.region,
    stateMachineId: (arn) => machines.get(arn) ?? arn,
    execute: (logicalId, input) => executions.run(logicalId, input),
    start: (logicalId, input) => executions.start(logicalId, input),
    authorize: (pipe, action, resource) => iam.checkCall(pipe.logicalId, action, resource),
    pollers,
    profile: ctx.profile,
    log: ctx.warn,
  });
  return { value: pipes, close: () => pipes.close() };
}

/**
 * Parameter Store: the template's AWS::SSM::Parameter resources, created with their Value as CloudFormation creates
 * them (the settings document then holds the settings the cloud was started with, as if `npm run settings` had
 * written them), and the token secret under the name each authorizer function reads from its environment.
 */
export function startSsm(ctx: CloudContext): Promise<Started<string>> {
  const { template, authSecret } = ctx;
  const parameters: LocalParameter[] = templateParameters(template);
  const settingsName = settingsParameterName(template);
  const overrides = ctx.settings?.document ?? {};
  const document = parameters.find((p) => p.name === settingsName);
  if (document && Object.keys(overrides).length > 0) document.value = JSON.stringify(overrides);
  for (const fn of template.functions()) {
    const name = fn.environment.AUTH_SECRET_PARAMETER;
    if (ctx.authorizerIds.has(fn.logicalId) && name && authSecret)
      parameters.push({ name, value: authSecret });
    // The VAPID key pair the push function reads: generated at each start (the local Parameter Store starts empty),
    // as `npx web-push generate-vapid-keys --json` prints it (docs/OPERATIONS.md, "Push notifications").
    const vapid = fn.environment.VAPID_KEYS_PARAMETER;
    if (vapid && !parameters.some((p) => p.name === vapid))
      parameters.push({
        name: vapid,
        value: JSON.stringify(vapidKeys()),
        type: 'SecureString',
      });
  }
  const handler = createLocalSsm({
    region: template.region,
    accountId: template.accountId,
    parameters,
    guard: guard(ctx.iam, 'ssm'),
  });
  return serve(createServer(handler), 0, ctx.host);
}

/**
 * A VAPID key pair as web-push's generateVAPIDKeys makes it (a P-256 key pair: the uncompressed 65-byte public point
 * and the 32-byte private scalar, base64url), made with node:crypto so that the local cloud does not load web-push
 * at every start for this one call.
 */
export function vapidKeys(): { publicKey: string; privateKey: string } {
  const curve = createECDH('prime256v1');
  curve.generateKeys();
  const pad = (key: Buffer, length: number) =>
    key.length < length ? Buffer.concat([Buffer.alloc(length - key.length), key]) : key;
  return {
    publicKey: pad(curve.getPublicKey(), 65).toString('base64url'),
    privateKey: pad(curve.getPrivateKey(), 32).toString('base64url'),
  };
}

/** The template's String parameters (their names and values resolved), as the deployed stack has them. */
function templateParameters(template: LocalTemplate): LocalParameter[] {
  return template.resourceIds('AWS::SSM::Parameter').map((logicalId) => {
    const resource = (template.raw.Resources as Record<string, { Properties?: Record<string, unknown> }>)[
      logicalId
    ];
    const props = resource?.Properties ?? {};
    const value = template.resolve(props.Value, `Resources.${logicalId}.Properties.Value`);
    const type = template.resolve(props.Type ?? 'String', `Resources.${logicalId}.Properties.Type`);
    return {
      name: String(template.physicalId(logicalId)),
      value: String(value),
      type: type === 'StringList' ? 'StringList' : 'String',
    };
  });
}

/** The settings document's name: what the functions' SETTINGS_PARAMETER holds (every function has it). */
export function settingsParameterName(template: LocalTemplate): string | undefined {
  return template.functions().find((fn) => fn.environment.SETTINGS_PARAMETER)?.environment.SETTINGS_PARAMETER;
}

export interface GatewayOptions {
  port: number;
  apiLatencyMs?: number;
  /** The AWS profile's management-API latency, drawn per call in place of apiLatencyMs. */
  apiLatency?: Latency;
  faultThrottle?: number;
  faultSkipDisconnect?: number;
  idleTimeoutMs?: number;
  hardTimeoutMs?: number;
}

/**
 * API Gateway: the WebSocket API and its management API. A route's authorizer runs before its function, and both
 * are invocations a client waits for (InvocationKind `request`).
 */
export async function startApiGateway(
  ctx: CloudContext,
  options: GatewayOptions,
  invoke: Invoke,
): Promise<Started<Gateway>> {
  const { template, iam, api } = ctx;
  const functionsByRoute = new Map(
    api.routes.flatMap((r) => (r.functionLogicalId ? ([[r.routeKey, r.functionLogicalId]] as const) : [])),
  );
  const authorizersByRoute = new Map(
    api.routes.flatMap((r) => (r.authorizer ? ([[r.routeKey, r.authorizer]] as const) : [])),
  );
  const stageArn = `arn:aws:execute-api:${template.region}:${template.accountId}:${api.id}/${api.stageName}`;
  // Decided once per route here, so an invocation costs one lookup (tools/local/invokePermissions.ts).
  const access = routeAccess(template, api);
  for (const [routeKey, refused] of access) {
    for (const reason of [refused.authorizer, refused.integration])
      if (reason) ctx.warn(`gateway: route ${routeKey} will fail: ${reason}`);
  }
  // Each connection's $connect authorizer context: API Gateway puts it in `requestContext.authorizer` of every later
  // event of the connection (its messages and its $disconnect), as it does the $connect's. Its signed-in person also
  // takes the connection's turns in the local Lambda service (LocalLambda.next), so ten tabs of one person queue
  // behind each other, not ahead of everyone else's; without sign-in each connection is its own caller.
  const contextOf = new Map<string, Record<string, unknown>>();
  const gateway = await startGateway({
    // Every management-API call needs execute-api:ManageConnections on <api>/<stage>/<METHOD>/@connections/<id>.
    managementAuth: async (req, body, method, connectionId) => {
      const prefix = `${stageArn}/${method}/@connections/`;
      const refusal = await iam.checkRequest(req, body, {
        service: 'execute-api',
        action: 'execute-api:ManageConnections',
        resources: [prefix + connectionId],
        variableFrom: prefix.length,
      });
      return refusal?.message;
    },
    host: ctx.host,
    apiId: api.id,
    stage: api.stageName,
    routeSelectionExpression: api.routeSelectionExpression,
    routes: api.routes.map(({ routeKey, twoWay, mockResponse }) => ({ routeKey, twoWay, mockResponse })),
    throttling: { defaults: api.stageThrottling, routes: api.routeThrottling },
    invoke: async (routeKey, event, startBy, wait) => {
      const fn = functionsByRoute.get(routeKey);
      if (!fn) throw new Error(`no function for route ${routeKey}`);
      // A function no Lambda permission lets API Gateway invoke is never run: the authorizer's refusal is a broken
      // authorizer (500), the integration's the route's Internal server error, as on AWS.
      const refused = access.get(routeKey);
      const authorizer = authorizersByRoute.get(routeKey);
      if (authorizer) {
        const methodArn = `${stageArn}/${routeKey}`;
        const outcome = await runAuthorizer(authorizer, event, methodArn, (name, authEvent) => {
          if (refused?.authorizer) throw new Error(refused.authorizer);
          return invoke(name, authEvent, 'request', startBy);
        });
        // A refusal is the handshake's answer; the route's own function never runs, as on AWS.
        if (!outcome.allowed) return outcome.refusal;
        contextOf.set(event.requestContext.connectionId, outcome.context);
      }
      const { connectionId } = event.requestContext;
      const context = contextOf.get(connectionId);
      if (context) (event.requestContext as { authorizer?: unknown }).authorizer = { ...context };
      if (refused?.integration) throw new Error(refused.integration);
      const userId = context?.userId;
      const caller = typeof userId === 'string' && userId.startsWith('user:') ? userId : connectionId;
      // A connection is gone after its $disconnect, or when its $connect did not open it (no $disconnect follows).
      let open = routeKey !== '$connect';
      try {
        const result = (await invoke(fn, event, 'request', startBy, caller, wait)) as
          | { statusCode?: number; body?: string }
          | undefined;
        const status = result?.statusCode ?? 200;
        open ||= status >= 200 && status < 300;
        return result;
      } finally {
        if (routeKey === '$disconnect' || !open) contextOf.delete(connectionId);
      }
    },
    ...options,
    log: (level, msg, fields) => {
      if (level !== 'info')
        ctx.print(
          `${new Date().toISOString().slice(11, 23)} ${level.toUpperCase().padEnd(5)} gateway: ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}`,
        );
    },
  });
  return { value: gateway, close: () => gateway.close() };
}

/**
 * S3: the template's buckets in memory (tools/local/s3.ts), each request signed by a template principal's key (or the
 * admin's) and checked against its statements. Its CORS rules also allow the local web pages' origin, which
 * `webOrigins` gives once the web server has started.
 */
export async function startS3(
  ctx: CloudContext,
  webOrigins: () => string[],
): Promise<Started<{ s3: LocalS3; endpoint: string }>> {
  const { template, iam } = ctx;
  const secrets = new Map<string, string>([[LOCAL_ADMIN.accessKeyId, LOCAL_ADMIN.secretAccessKey]]);
  for (const [logicalId, secret] of Object.entries(iam.secrets())) secrets.set(`local-${logicalId}`, secret);
  const authorize = async (accessKeyId: string, action: string, resource: string) => {
    if (accessKeyId === LOCAL_ADMIN.accessKeyId) return undefined;
    return (await iam.checkCall(accessKeyId.slice('local-'.length), action, resource))?.message;
  };
  const s3 = createLocalS3({
    region: template.region,
    buckets: templateBuckets(template),
    secretOf: (accessKeyId) => secrets.get(accessKeyId),
    authorize,
    checkSigned: async (req, body, action, resource) => {
      const refusal = await iam.checkRequest(req, body, { service: 's3', action, resources: [resource] });
      if (refusal) return refusal;
      const accessKeyId = /Credential=([^/]+)\//.exec(String(req.headers.authorization))?.[1] ?? '';
      return { accessKeyId };
    },
    localOrigins: webOrigins,
  });
  const server = await serve(
    createServer((req, res) => s3.handle(req, res)),
    0,
    ctx.host,
  );
  return { value: { s3, endpoint: server.value }, close: server.close };
}

/** Where the functions reach the other local services. */
export interface ServiceEndpoints {
  dynamodb: string;
  eventbridge: string;
  apigatewaymanagementapi: string;
  ssm: string;
  sqs: string;
  s3?: string;
  /** The push service stand-in's origin (tools/local/pushService.ts), given to the push function alone. */
  pushService?: string;
}

/**
 * Lambda: one sandbox pool per function of the template, each function with its own key (every call it makes is
 * checked against its template statements) and the endpoints of the local services.
 */
export function startLambda(
  ctx: CloudContext,
  endpoints: ServiceEndpoints,
  log: FunctionLog,
  limits: Partial<LambdaLimits> | undefined,
  testClock = false,
): Started<LocalLambda> {
  const { template, iam, authSecret } = ctx;
  const workerPath = built(template, 'local', 'lambda', 'worker.js');
  // A queue's `Ref` is its AWS URL, and the SDK sends to the host of the QueueUrl it is given: a function's setting
  // that holds a queue URL gets the local SQS's, as the deployed function gets the real one.
  const clock = testClock ? new LambdaTestClock() : undefined;
  const sqsHost = `https://sqs.${template.region}.amazonaws.com/`;
  const localQueueUrls = (value: string) =>
    value.startsWith(sqsHost) ? `${endpoints.sqs}/${value.slice(sqsHost.length)}` : value;
  const specs: LocalFunctionSpec[] = template.functions().map((fn) => {
    const [moduleName, handlerExport] = fn.handler.split('.') as [string, string];
    return {
      logicalId: fn.logicalId,
      name: fn.name,
      arn: fn.arn,
      bundlePath: built(template, 'functions', fn.logicalId, `${moduleName}.js`),
      handlerExport,
      timeoutSeconds: fn.timeoutSeconds,
      memoryMb: fn.memoryMb,
      reservedConcurrency: fn.reservedConcurrency,
      clock: clock?.buffer,
      environment: {
        ...Object.fromEntries(Object.entries(fn.environment).map(([k, v]) => [k, localQueueUrls(v)])),
        AWS_ACCESS_KEY_ID: iam.credentials(fn.logicalId).accessKeyId,
        AWS_SECRET_ACCESS_KEY: iam.credentials(fn.logicalId).secretAccessKey,
        AWS_REGION: template.region,
        AWS_DEFAULT_REGION: template.region,
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        // Lambda's reserved variable for an on-demand environment; Powertools counts cold starts only in one.
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        _HANDLER: fn.handler,
        AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
        AWS_ENDPOINT_URL_EVENTBRIDGE: endpoints.eventbridge,
        AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI: endpoints.apigatewaymanagementapi,
        AWS_ENDPOINT_URL_SSM: endpoints.ssm,
        // Tests only (LocalCloudOptions.settingsMaxAgeSeconds): a shorter cache of the settings document.
        ...(ctx.settings?.maxAgeSeconds !== undefined && {
          SETTINGS_MAX_AGE_SECONDS: String(ctx.settings.maxAgeSeconds),
        }),
        AWS_ENDPOINT_URL_SQS: endpoints.sqs,
        ...(endpoints.s3 && { AWS_ENDPOINT_URL_S3: endpoints.s3 }),
        // An authorizer that names no Parameter Store secret gets the token secret itself.
        ...(ctx.authorizerIds.has(fn.logicalId) &&
          authSecret &&
          !fn.environment.AUTH_SECRET_PARAMETER && { AUTH_SECRET: authSecret }),
        ...ctx.devIssuer?.environment,
        // The push function may reach the local push service stand-in (tools/local/settings.ts).
        ...(fn.environment.VAPID_KEYS_PARAMETER &&
          endpoints.pushService && { [LOCAL_PUSH_SERVICE_VARIABLE]: endpoints.pushService }),
        // No X-Ray daemon or CloudWatch here: traces off, metrics not printed; logs stay on.
        POWERTOOLS_TRACE_ENABLED: 'false',
        // With traces off, the X-Ray SDK's automatic mode only costs: it enables a cls-hooked async hook with destroy
        // tracking on every promise, work on every await of every invocation for traces nobody collects (Deliver,
        // one promise per post, pays it most); manual mode never installs the hook.
        AWS_XRAY_MANUAL_MODE: 'true',
        POWERTOOLS_METRICS_DISABLED: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    };
  });
  // Bounds the caller sets win; AWS's latencies change the machine's defaults (LAMBDA_LIMITS_WITH_LATENCIES).
  const given = Object.fromEntries(Object.entries(limits ?? {}).filter(([, value]) => value !== undefined));
  const lambda = new LocalLambda(specs, workerPath, log, {
    ...(ctx.profile && LAMBDA_LIMITS_WITH_LATENCIES),
    ...given,
  });
  lambda.invokeLatency = ctx.profile?.latency.lambdaInvoke;
  lambda.clock = clock;
  return { value: lambda, close: () => lambda.close() };
}

/**
 * The web pages, the page's configuration and the template's REST routes (the admin broadcast) on one HTTP port.
 * AWS_IAM routes are open locally (nothing to sign against); the admin route is behind its token authorizer.
 */
export async function startWeb(
  ctx: CloudContext,
  port: number,
  wsUrl: string,
  invoke: Invoke,
  attachmentsOrigin?: string,
): Promise<Started<{ url: string; restApi: RestApi }>> {
  const { template, devIssuer } = ctx;
  // The static site as the build assembled it (scripts/build.mjs buildSite): the same folder publish-web uploads.
  const siteDir = join(template.dir, 'dist', 'web');
  const restApi = createRestApi({
    routes: restRoutes(template),
    region: template.region,
    accountId: template.accountId,
    invoke: (fn, event) => invoke(fn, event, 'request'),
  });
  // The pages connect to this origin (config.json, the broadcast routes), the WebSocket stage and, with a sign-in,
  // the issuer's discovery, token endpoint and JWKS: nothing else.
  const connectSrc = [
    "'self'",
    wsUrl,
    ...(devIssuer?.signInEndpoints ?? []),
    ...(attachmentsOrigin ? [attachmentsOrigin] : []),
  ];
  // Images: the attachments bucket's presigned GETs (the local S3's origin, as the bucket's on AWS).
  const imgSrc = attachmentsOrigin ? [attachmentsOrigin] : [];
  // The typing heartbeat in force, as publish-web gives it from the stack's output of the same setting.
  const typingInterval = template
    .functions()
    .map((fn) => fn.environment.TYPING_INTERVAL_SECONDS)
    .find((value) => value !== undefined);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/config.json')
      return sendJson(res, 200, {
        wsUrl,
        ...(typingInterval !== undefined && { typingIntervalSeconds: Number(typingInterval) }),
        // The broadcast page posts here with the signed-in admin's token (the route with the token authorizer).
        ...(devIssuer && { auth: devIssuer.webConfig, adminBroadcastUrl: '/admin/broadcast' }),
      });
    if (restApi.handle(req, res)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendJson(res, 405, { message: 'Method not allowed' });
    serveStatic(siteDir, req, res, connectSrc, imgSrc);
  });
  const served = await serve(server, port, ctx.host);
  return { value: { url: served.value, restApi }, close: served.close };
}
