import './polyfills';
import { join } from 'node:path';
import { type LocalTemplate, loadTemplate, readTemplateFile } from '../infra/template';
import { profileNamed } from './awsProfile';
import {
  built,
  type CloudContext,
  type Executions,
  type GatewayOptions,
  type Invoke,
  settingsParameterName,
  startApiGateway,
  startDynamo,
  startDynamoFaults,
  startEvents,
  startLambda,
  startPipes,
  startS3,
  startSqs,
  startSsm,
  startStepFunctions,
  startWeb,
} from './cloudServices';
import type { LocalDynamo } from './dynamodb';
import type { DynamoFaultProxy } from './dynamoFaults';
import type { KeyStat } from './dynamoKeyThroughput';
import type { LocalEventBridge } from './eventbridge';
import type { Gateway } from './gateway';
import { createLocalIam, type LocalIam } from './iam';
import type { FunctionLog, LambdaLimits, LocalLambda } from './lambda/service';
import { atLeast, formatFunctionLog, type LogLevelName } from './logs';
import { type DevIssuer, devIssuerFor } from './oidc';
import type { LocalPipes } from './pipes';
import { type PushServiceStandIn, startPushServiceStandIn } from './pushService';
import { pushWatch } from './pushWatch';
import type { LocalS3 } from './s3';
import { Services } from './services';
import { type SettingValues, splitSettings } from './settings';
import type { LocalSqs, SqsTestClock } from './sqs';
import type { StepFunctionsTestClock } from './testClock';

export interface LocalCloudOptions {
  /** Default: template.yaml in the current directory. */
  templatePath?: string;
  host?: string;
  /** Web pages (and later the broadcast endpoint); 0 = any free port. */
  httpPort?: number;
  /** WebSocket gateway and its management API; 0 = any free port. */
  wsPort?: number;
  /** Persist DynamoDB on disk here; in memory when absent. */
  dataDir?: string;
  parameters?: Record<string, string>;
  /**
   * Settings by name (`--setting Name=Value`): a runtime setting goes into the stack's settings document (the one
   * the functions read; `npm run settings` changes it while the cloud runs), a deploy-time constant into the local
   * template's Mappings.Deploy.Settings (tools/local/settings.ts). Over the local defaults (LOCAL_DEFAULT_SETTINGS).
   */
  settings?: SettingValues;
  /**
   * Tests only: how long the functions keep the settings document before reading it again (SETTINGS_MAX_AGE_SECONDS;
   * AWS and `npm start` keep functions/platform/settings.ts's 60 s), so a test sees a change without waiting a minute.
   */
  settingsMaxAgeSeconds?: number;
  apiLatencyMs?: number;
  /**
   * The AWS profile by name (`--aws-profile aws`, tools/local/awsProfile.ts): every local service waits each call's
   * latency drawn from AWS's figures before answering (the management API's replaces apiLatencyMs). Absent, calls are
   * answered at once. AWS's quotas hold either way.
   */
  awsProfile?: string;
  faultSkipDisconnect?: number;
  faultThrottle?: number;
  faultPutEvents?: number;
  /**
   * Share 0..1 of DynamoDB requests answered 400 ProvisionedThroughputExceededException. When set (even to 0) the
   * functions and the state machines reach dynalite through a throttling proxy whose share `setFaultDynamoThrottle`
   * changes: on AWS a table's throttling and transaction conflicts meet every client, the fan-out's tasks too.
   */
  faultDynamoThrottle?: number;
  /**
   * Tests only: DynamoDB's per-partition-key limits (1,000 WCU/s and 3,000 RCU/s per partition key value of a table
   * or index, always enforced) times this, within (0, 1]; e.g. 0.02 for 20 WCU/s, so a test can show a design that
   * writes one key too often is refused (docs/PARITY.md, "Per-partition-key throughput").
   */
  dynamoKeyLimitScale?: number;
  /**
   * `--gsi-lag-ms`: DynamoDB's global secondary indexes show a write this many ms after it (default 0), as a GSI's
   * asynchronous update may on AWS (tools/local/dynamodb.ts, StartDynamoOptions.gsiLagMs).
   */
  gsiLagMs?: number;
  /**
   * Share 0..1 of the state machines' Lambda task answers lost on their way back: the function ran, the task fails
   * `Lambda.ServiceException` and its Retry runs it again (docs/PARITY.md, "Local Step Functions").
   */
  faultLambdaResponseLost?: number;
  idleTimeoutMs?: number;
  hardTimeoutMs?: number;
  /** Concurrency and execution-environment bounds of the local Lambda service (docs/PARITY.md). */
  lambdaLimits?: Partial<LambdaLimits>;
  /** Where readable log lines go (default: stdout). */
  log?: (line: string) => void;
  /** Function log lines below this level are not printed (default INFO). */
  logLevel?: LogLevelName;
  /**
   * HMAC secret of connection tokens: the local Parameter Store holds it under the name each authorizer function
   * reads (its AUTH_SECRET_PARAMETER), so the read is signed and checked against the function's policy as on AWS.
   * Default: the AUTH_SECRET environment variable. Required when the template enables an authorizer
   * (`--parameter AuthMode=token`).
   */
  authSecret?: string;
  /**
   * Tests only, never AWS's timing: the named states' Wait and Retry pauses last `msPerSecond` real ms per second
   * (tools/local/testClock.ts), so a test need not sit out real backoffs. Absent (as for `npm start` and the
   * benchmark), every pause lasts its real seconds.
   */
  stepFunctionsTestClock?: StepFunctionsTestClock;
  /**
   * Tests only, never AWS's timing: every SQS duration (visibility timeouts, retention, the deduplication interval)
   * and the pipes' batching windows last `msPerSecond` real ms per second, so that a test of a redrive after five
   * receives need not wait five visibility timeouts. Absent, they last their real seconds.
   */
  sqsTestClock?: SqsTestClock;
  /**
   * Tests only, never AWS's timing: the functions read the time from a clock that stands still until the test moves
   * it (`cloud.lambda.clock`, tools/local/lambda/clock.ts), so a rule kept by the time of day is decided by the test's
   * steps, not by how fast the machine runs them. Absent, they read the machine's clock.
   */
  lambdaTestClock?: boolean;
  /** Batches each pipe has in flight at once, at most (default DEFAULT_PIPE_POLLERS, tools/local/pipes.ts). */
  pipePollers?: number;
}

export interface LocalCloud {
  template: LocalTemplate;
  httpUrl: string;
  wsUrl: string;
  callbackUrl: string;
  /** The template's REST routes on the HTTP port, e.g. `POST http://127.0.0.1:3000/broadcast`. */
  restEndpoints: string[];
  gateway: Gateway;
  eventBridge: LocalEventBridge;
  lambda: LocalLambda;
  dynamoEndpoint: string;
  eventsEndpoint: string;
  /**
   * The local Parameter Store (GetParameter, PutParameter), where the authorizer reads the token secret and every
   * function the settings document (`settingsParameter`).
   */
  ssmEndpoint: string;
  /** The name of the stack's runtime settings document (SettingsParameter), e.g. `/roomcast-local/settings`. */
  settingsParameter?: string;
  /** The local SQS: its endpoint (the functions' AWS_ENDPOINT_URL_SQS), and its queues for tests to look into. */
  sqsEndpoint: string;
  sqs: LocalSqs;
  /** The template's pipes (AWS::Pipes::Pipe), polling their queues. */
  pipes: LocalPipes;
  /** The local S3 (the attachments bucket, tools/local/s3.ts): its endpoint and its objects. */
  s3Endpoint: string;
  s3: LocalS3;
  /** The services that run, in the order they started (and close in reverse). */
  services: string[];
  /** Every call to the local services is signed and checked against the template's policies (docs/PARITY.md). */
  iam: LocalIam;
  /** The development OIDC issuer, with AuthMode=oidc or cognito. */
  devIssuer?: DevIssuer;
  /**
   * The Web Push service stand-in on 127.0.0.1 (tools/local/pushService.ts): subscriptions made as a browser makes
   * them, each push checked (VAPID) and decrypted (RFC 8291) as the browser would show it.
   */
  pushService: PushServiceStandIn;
  /** Changes the throttled share of DynamoDB requests; only when started with `faultDynamoThrottle`. */
  setFaultDynamoThrottle(share: number): void;
  /** Changes the share of DynamoDB writes answered as conflicting with a transaction; as setFaultDynamoThrottle. */
  setFaultDynamoConflict(share: number): void;
  /**
   * Holds every DynamoDB request naming one of the tables (their TableNames) unanswered until called again without
   * them; as setFaultDynamoThrottle.
   */
  setFaultDynamoHold(tables: readonly string[]): void;
  dynamoFaultStats(): { requests: number; throttled: number; conflicts: number; held: number };
  /**
   * Per partition key value (of a table, or of a global secondary index as `index`), since the start or the last
   * resetDynamoKeyStats(): item writes and WCU admitted, the most writes within any one second, writes refused for
   * the key's throughput, and the same for reads; busiest by writes first, at most `top`, optionally of one table.
   * E.g. `(await cloud.dynamoKeyStats({ table: roomsTable, top: 1 }))[0]?.peakWritesPerSecond`. A key no request
   * touched for five minutes is forgotten, so a long-running cloud keeps only recent keys.
   */
  dynamoKeyStats(options?: { top?: number; table?: string }): Promise<KeyStat[]>;
  /** Forgets the counts dynamoKeyStats reports, and the keys' current throughput windows. */
  resetDynamoKeyStats(): Promise<void>;
  /**
   * Tests only, with `gsiLagMs`: applies every global index update still waiting out its lag now, in write order, so a
   * test of what the lag hides holds it open (a lag of minutes) and ends it when it needs, instead of sleeping it out.
   */
  flushDynamoIndexLag(): Promise<void>;
  /** Resolves when no execution is running and no pipe has a batch in hand or a message to receive (tests and the benchmark wait on it). */
  idle(): Promise<void>;
  executions(): { started: number; failed: number; running: number };
  /** Sums of the metrics state machines put with CloudWatch PutMetricData (e.g. DeliveryChunksFailed). */
  metrics(): Record<string, number>;
  close(): Promise<void>;
}

/**
 * The template parameters the local cloud runs unless told otherwise (`--parameter`): the open chat of the tutorial,
 * with web/ served by the local cloud itself, which has no CloudFront. Its runtime settings' local defaults are
 * tools/local/settings.ts's.
 */
export const LOCAL_DEFAULT_PARAMETERS: Readonly<Record<string, string>> = {
  AuthMode: 'none',
  HostWebChat: 'false',
};

/**
 * Starts the whole chat on one machine from template.yaml: the development OIDC issuer (when the template asks for
 * one), DynamoDB, Step Functions, EventBridge, Parameter Store, the WebSocket gateway with its management API, one
 * sandbox pool per function, and the web pages with the REST routes. Each is a service that starts, beside the
 * others, as soon as those it uses have started, and closes before them (tools/local/services.ts).
 */
export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const host = options.host ?? '127.0.0.1';
  const print = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const stamp = () => new Date().toISOString().slice(11, 23);
  const warn = (line: string) => print(`${stamp()} WARN  ${line}`);
  const templatePath = options.templatePath ?? join(process.cwd(), 'template.yaml');
  const services = new Services();

  // AuthMode=oidc/cognito: a development issuer stands in for the identity provider (tools/local/oidc.ts); its URLs
  // are template parameters, so the template is read again with them.
  const given = { ...LOCAL_DEFAULT_PARAMETERS, ...options.parameters };
  // One copy of the parsed file: the settings read it, then the template with the given parameters is made of it.
  const file = readTemplateFile(templatePath);
  const { document, constants } = splitSettings(options.settings, file.raw);
  const givenTemplate = loadTemplate(file, { parameters: given, constants });
  const issuer = await devIssuerFor(givenTemplate, host);
  const devIssuer =
    issuer && (await services.start('OIDC issuer', () => ({ value: issuer, close: () => issuer.close() })));
  const parameters = devIssuer ? { ...devIssuer.parameters, ...given } : given;
  let ctx: CloudContext;
  try {
    // Without an issuer the parameters are the given ones: the template already loaded with them is the one in force.
    const template = devIssuer ? loadTemplate(templatePath, { parameters, constants }) : givenTemplate;
    ctx = context(template, parameters, host, devIssuer, options.authSecret, print, warn);
    ctx.settings = { document, maxAgeSeconds: options.settingsMaxAgeSeconds };
    ctx.debug = (options.logLevel ?? 'INFO') === 'DEBUG';
    if (options.awsProfile !== undefined) ctx.profile = profileNamed(options.awsProfile);
  } catch (error) {
    await services.close();
    throw error;
  }

  // Every service starts at once and awaits only what it uses; Lambda starts after the back ends its functions
  // reach, and the gateway, the rules and the state machines invoke functions through it once it runs.
  const throttle = options.faultDynamoThrottle;
  const dynamo = services.start('DynamoDB', () =>
    startDynamo(ctx, options.dataDir, options.dynamoKeyLimitScale, options.gsiLagMs),
  );
  const dynamoFaults =
    throttle === undefined
      ? undefined
      : services.start('DynamoDB throttling proxy', async () =>
          startDynamoFaults(ctx, (await dynamo).endpoint, throttle),
        );
  let functions: Promise<LocalLambda> | undefined;
  const invoke: Invoke = async (fn, event, kind, startBy, caller, wait) => {
    if (!functions) throw new Error('the local Lambda service is not started yet');
    return (await functions).invoke(fn, event, kind, startBy, caller, wait);
  };
  const stepFunctions = services.start('Step Functions', () =>
    startStepFunctions(ctx, endpointOf(dynamoFaults ?? dynamo), invoke, {
      testClock: options.stepFunctionsTestClock,
      lambdaResponseLost: options.faultLambdaResponseLost,
    }),
  );
  const sqs = services.start('SQS', () => startSqs(ctx, options.sqsTestClock));
  const events = services.start('EventBridge', async () =>
    startEvents(ctx, options.faultPutEvents, await stepFunctions, invoke, (await sqs).sqs),
  );
  const pipes = services.start('EventBridge Pipes', async () =>
    startPipes(ctx, (await sqs).sqs, await stepFunctions, options.pipePollers),
  );
  const ssm = services.start('Parameter Store', () => startSsm(ctx));
  const pushService = services.start('push service stand-in', async () => {
    // Each push printed and listed at <origin>/push, as the built web chat's service worker would show it.
    const watch = pushWatch(print, join(ctx.template.dir, 'dist', 'web', 'sw.js'));
    const standIn = await startPushServiceStandIn(host, watch);
    return { value: standIn, close: () => standIn.close() };
  });
  // The local web pages' origin, once known: the attachments bucket's CORS rules allow it (tools/local/s3.ts).
  let webUrl: string | undefined;
  const s3 = services.start('S3', () =>
    startS3(ctx, () => (webUrl ? [webUrl, webUrl.replace('127.0.0.1', 'localhost')] : [])),
  );
  const gateway = services.start('API Gateway (WebSocket)', () =>
    startApiGateway(
      ctx,
      {
        ...gatewayOptions(options),
        ...(ctx.profile && { apiLatency: ctx.profile.latency.managementPost }),
        port: options.wsPort ?? 3001,
      },
      invoke,
    ),
  );
  functions = services.start('Lambda', async () =>
    startLambda(
      ctx,
      {
        dynamodb: await endpointOf(dynamoFaults ?? dynamo),
        eventbridge: (await events).endpoint,
        apigatewaymanagementapi: (await gateway).callbackUrl,
        ssm: await ssm,
        sqs: (await sqs).endpoint,
        s3: (await s3).endpoint,
        pushService: (await pushService).origin,
      },
      functionLog(print, options.logLevel ?? 'INFO'),
      options.lambdaLimits,
      options.lambdaTestClock,
    ),
  );
  // The REST routes invoke functions: the web server starts after Lambda, and closes before it.
  const web = services.start('web pages and REST routes', async () => {
    await functions;
    const started = await startWeb(
      ctx,
      options.httpPort ?? 3000,
      (await gateway).url,
      invoke,
      (await s3).endpoint,
    );
    webUrl = started.value.url;
    return started;
  });
  await services.ready();
  return cloudOf(ctx, services, {
    dynamo: await dynamo,
    dynamoFaults: await dynamoFaults,
    executions: await stepFunctions,
    events: await events,
    ssmEndpoint: await ssm,
    sqs: await sqs,
    pipes: await pipes,
    s3: await s3,
    gateway: await gateway,
    lambda: await functions,
    web: await web,
    pushService: await pushService,
  });
}

const endpointOf = async (service: Promise<{ endpoint: string }>) => (await service).endpoint;

function gatewayOptions(options: LocalCloudOptions): Omit<GatewayOptions, 'port'> {
  const { apiLatencyMs, faultThrottle, faultSkipDisconnect, idleTimeoutMs, hardTimeoutMs } = options;
  return { apiLatencyMs, faultThrottle, faultSkipDisconnect, idleTimeoutMs, hardTimeoutMs };
}

/** Function log lines at `threshold` or above, as readable lines. */
function functionLog(print: (line: string) => void, threshold: LogLevelName): FunctionLog {
  return (functionName, line) => {
    const { level, text } = formatFunctionLog(functionName, line);
    if (atLeast(level, threshold)) print(text);
  };
}

/** The started services as one local cloud. */
function cloudOf(
  ctx: CloudContext,
  services: Services,
  started: {
    dynamo: LocalDynamo;
    dynamoFaults?: DynamoFaultProxy;
    executions: Executions;
    events: { eventBridge: LocalEventBridge; endpoint: string };
    ssmEndpoint: string;
    sqs: { sqs: LocalSqs; endpoint: string };
    pipes: LocalPipes;
    s3: { s3: LocalS3; endpoint: string };
    gateway: Gateway;
    lambda: LocalLambda;
    web: { url: string; restApi: { routes: { method: string; path: string }[] } };
    pushService: PushServiceStandIn;
  },
): LocalCloud {
  const { dynamo, dynamoFaults, executions, events, gateway, web } = started;
  return {
    template: ctx.template,
    httpUrl: web.url,
    wsUrl: gateway.url,
    callbackUrl: gateway.callbackUrl,
    restEndpoints: web.restApi.routes.map((r) => `${r.method} ${web.url}${r.path}`),
    gateway,
    eventBridge: events.eventBridge,
    lambda: started.lambda,
    dynamoEndpoint: dynamo.endpoint,
    eventsEndpoint: events.endpoint,
    ssmEndpoint: started.ssmEndpoint,
    settingsParameter: settingsParameterName(ctx.template),
    sqsEndpoint: started.sqs.endpoint,
    sqs: started.sqs.sqs,
    pipes: started.pipes,
    s3Endpoint: started.s3.endpoint,
    s3: started.s3.s3,
    services: services.names(),
    iam: ctx.iam,
    devIssuer: ctx.devIssuer,
    pushService: started.pushService,
    setFaultDynamoThrottle: (share) => {
      if (!dynamoFaults)
        throw new Error('start the local cloud with faultDynamoThrottle to throttle DynamoDB');
      dynamoFaults.setThrottle(share);
    },
    setFaultDynamoConflict: (share) => {
      if (!dynamoFaults)
        throw new Error('start the local cloud with faultDynamoThrottle to inject DynamoDB faults');
      dynamoFaults.setConflict(share);
    },
    setFaultDynamoHold: (tables) => {
      if (!dynamoFaults)
        throw new Error('start the local cloud with faultDynamoThrottle to inject DynamoDB faults');
      dynamoFaults.setHold(tables);
    },
    dynamoFaultStats: () => dynamoFaults?.stats() ?? { requests: 0, throttled: 0, conflicts: 0, held: 0 },
    dynamoKeyStats: (options) => dynamo.keyStats(options),
    resetDynamoKeyStats: () => dynamo.resetKeyStats(),
    flushDynamoIndexLag: async () => {
      await dynamo.flushIndexLag?.();
    },
    // Idle: no execution running, and no pipe with a batch in hand or a message it could receive (what waits out a
    // visibility timeout is not work to do yet).
    idle: async () => {
      for (;;) {
        await executions.idle();
        if (!started.pipes.busy()) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    executions: () => executions.counts(),
    metrics: () => executions.metrics(),
    close: () => services.close(),
  };
}

/**
 * Checks what the local cloud needs of the template (loaded with the parameters in force) before anything else
 * starts: one WebSocket API, the built bundles, the token secret when an authorizer needs it. Every local service is
 * checked by the same IAM, which knows each function's and state machine's key.
 */
function context(
  template: LocalTemplate,
  parameters: Record<string, string>,
  host: string,
  devIssuer: DevIssuer | undefined,
  givenSecret: string | undefined,
  print: (line: string) => void,
  warn: (line: string) => void,
): CloudContext {
  const [api, ...otherApis] = template.webSocketApis();
  if (!api) throw new Error('template.yaml defines no AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET');
  if (otherApis.length > 0)
    throw new Error('the local cloud runs one WebSocket API; the template defines several');
  built(template, 'local', 'lambda', 'worker.js');
  for (const fn of template.functions())
    built(template, 'functions', fn.logicalId, `${fn.handler.split('.')[0]}.js`);
  const authorizerIds = new Set(
    api.routes.flatMap((r) => (r.authorizer ? [r.authorizer.functionLogicalId] : [])),
  );
  const authSecret = givenSecret ?? process.env.AUTH_SECRET;
  const needsSecret = template
    .functions()
    .some((f) => authorizerIds.has(f.logicalId) && f.environment.AUTH_MODE === 'token');
  if (needsSecret && !authSecret)
    throw new Error(
      'the template enables a $connect authorizer (AuthMode=token): give the token secret with --auth-secret or AUTH_SECRET',
    );
  // Denials are logged with the principal, action and resource: the caller sees only the AWS error.
  const iam = createLocalIam(template, warn);
  return {
    template,
    parameters,
    host,
    api,
    iam,
    devIssuer,
    authSecret,
    authorizerIds,
    print,
    warn,
  };
}
