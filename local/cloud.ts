import './polyfills';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type LocalTemplate, loadTemplate } from '../infra/template';
import { runAuthorizer } from './authorizer';
import { type LocalDynamo, startDynamoThread } from './dynamodb';
import { startDynamoFaultProxy } from './dynamoFaults';
import { createEventBridge, type LocalEventBridge } from './eventbridge';
import { type Gateway, startGateway } from './gateway';
import { sendJson, serveStatic } from './http';
import { createLocalIam, type LocalIam } from './iam';
import {
  BACKGROUND_NICENESS,
  type FunctionLog,
  forStepFunctions,
  type LambdaLimits,
  type LocalFunctionSpec,
  LocalLambda,
} from './lambda/service';
import { atLeast, formatFunctionLog, type LogLevelName } from './logs';
import { type DevIssuer, devIssuerFor } from './oidc';
import { canRaisePriority } from './priority';
import { createRestApi, restRoutes } from './restApi';
import { createLocalSsm, type LocalParameter } from './ssm';
import {
  startStepFunctionsThread,
  YIELD_NICENESS,
  YIELD_SLEEP_SHARE,
  yieldWhileClientsWait,
} from './stepFunctionsHost';
import type { ExecutionSummary } from './stepfunctions';

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
  apiLatencyMs?: number;
  faultSkipDisconnect?: number;
  faultThrottle?: number;
  faultPutEvents?: number;
  /**
   * Share 0..1 of the functions' DynamoDB requests answered 400 ProvisionedThroughputExceededException. When set
   * (even to 0) the functions reach dynalite through a throttling proxy whose share `setFaultDynamoThrottle` changes.
   */
  faultDynamoThrottle?: number;
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
  /** The local Parameter Store (GetParameter), where the authorizer reads the token secret. */
  ssmEndpoint: string;
  /**
   * How the fan-out yields the CPU to waiting requests under load: by nice value (Linux, where this process may raise
   * a thread's priority back: root, CAP_SYS_NICE or RLIMIT_NICE), or by sleeping a share of the time (docs/PARITY.md).
   */
  fanoutYield: 'nice' | 'pace';
  /** Every call to the local services is signed and checked against the template's policies (docs/PARITY.md). */
  iam: LocalIam;
  /** The development OIDC issuer, with AuthMode=oidc or cognito. */
  devIssuer?: DevIssuer;
  /** Changes the throttled share of DynamoDB requests; only when started with `faultDynamoThrottle`. */
  setFaultDynamoThrottle(share: number): void;
  dynamoFaultStats(): { requests: number; throttled: number };
  /** Resolves when no state machine execution is running (tests and the benchmark wait on it). */
  idle(): Promise<void>;
  executions(): { started: number; failed: number; running: number };
  /** Sums of the metrics state machines put with CloudWatch PutMetricData (e.g. DeliveryChunksFailed). */
  metrics(): Record<string, number>;
  close(): Promise<void>;
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/**
 * What the local cloud runs unless told otherwise (`--parameter`): the open chat of the tutorial, with web/ served
 * by the local cloud itself, which has no CloudFront. A deployed stack's defaults are template.yaml's (sign-in,
 * hosted web chat).
 */
export const LOCAL_DEFAULT_PARAMETERS: Readonly<Record<string, string>> = {
  AuthMode: 'none',
  HostWebChat: 'false',
};

/**
 * Starts the whole chat on one machine from template.yaml: DynamoDB (dynalite), the WebSocket gateway with its
 * management API, EventBridge, the state machines and one sandbox per function, plus the web pages.
 */
export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const host = options.host ?? '127.0.0.1';
  const print = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const templatePath = options.templatePath ?? join(process.cwd(), 'template.yaml');
  const templateParameters = { ...LOCAL_DEFAULT_PARAMETERS, ...options.parameters };
  let template = loadTemplate(templatePath, { parameters: templateParameters });
  // AuthMode=oidc/cognito: a development issuer stands in for the identity provider (local/oidc.ts).
  const devIssuer = await devIssuerFor(template, host);
  if (devIssuer) {
    try {
      template = loadTemplate(templatePath, {
        parameters: { ...devIssuer.parameters, ...templateParameters },
      });
    } catch (error) {
      await devIssuer.close();
      throw error;
    }
  }
  const [api, ...otherApis] = template.webSocketApis();
  if (!api) throw new Error('template.yaml defines no AWS::ApiGatewayV2::Api with ProtocolType WEBSOCKET');
  if (otherApis.length > 0)
    throw new Error('the local cloud runs one WebSocket API; the template defines several');

  const workerPath = join(template.dir, 'dist', 'local', 'lambda', 'worker.js');
  const bundles = template.functions().map((fn) => {
    const [moduleName, handlerExport] = fn.handler.split('.') as [string, string];
    const bundlePath = join(template.dir, 'dist', 'functions', fn.logicalId, `${moduleName}.js`);
    if (!existsSync(bundlePath))
      throw new Error(`function ${fn.logicalId}: ${bundlePath} is missing; run npm run build`);
    return { fn, bundlePath, handlerExport };
  });
  if (!existsSync(workerPath)) throw new Error(`${workerPath} is missing; run npm run build`);
  const authorizerIds = new Set(
    api.routes.flatMap((r) => (r.authorizer ? [r.authorizer.functionLogicalId] : [])),
  );
  const authSecret = options.authSecret ?? process.env.AUTH_SECRET;
  const needsSecret = template
    .functions()
    .some((f) => authorizerIds.has(f.logicalId) && f.environment.AUTH_MODE === 'token');
  if (needsSecret && !authSecret) {
    await devIssuer?.close();
    throw new Error(
      'the template enables a $connect authorizer (AuthMode=token): give the token secret with --auth-secret or AUTH_SECRET',
    );
  }

  const stamp = () => new Date().toISOString().slice(11, 23);
  // Denials are logged with the principal, action and resource: the caller sees only the AWS error.
  const iam = createLocalIam(template, (line) => print(`${stamp()} WARN  ${line}`));
  const guard =
    (service: string) =>
    (req: IncomingMessage, body: Buffer, action: string | undefined, resources: string[]) =>
      iam.checkRequest(req, body, { service, action, resources });

  // DynamoDB runs in a thread of its own, with its own IAM check of every request (same keys): see dynamoThread.ts.
  const dynamoThreadPath = join(template.dir, 'dist', 'local', 'dynamoThread.js');
  if (!existsSync(dynamoThreadPath)) throw new Error(`${dynamoThreadPath} is missing; run npm run build`);
  const dynamo: LocalDynamo = await startDynamoThread(
    dynamoThreadPath,
    {
      templatePath,
      parameters: devIssuer ? { ...devIssuer.parameters, ...templateParameters } : templateParameters,
      secrets: iam.secrets(),
      dataDir: options.dataDir,
      host,
    },
    // What the thread's IAM says while loading the template was said here already.
    (line) => {
      if (!line.includes('is not expanded locally')) print(`${stamp()} WARN  ${line}`);
    },
  );
  const closers: (() => Promise<void>)[] = [() => dynamo.close()];
  if (devIssuer) closers.push(() => devIssuer.close());
  try {
    const dynamoFaults =
      options.faultDynamoThrottle === undefined
        ? undefined
        : await startDynamoFaultProxy({
            target: dynamo.endpoint,
            host,
            throttle: options.faultDynamoThrottle,
          });
    if (dynamoFaults) closers.unshift(() => dynamoFaults.close());
    // Lambda is created once the gateway and EventBridge know their ports; they call it through this reference.
    let lambda: LocalLambda | undefined;
    const invoke = (fn: string, event: unknown) => {
      if (!lambda) throw new Error('the local Lambda service is not started yet');
      return lambda.invoke(fn, event);
    };

    // State machines, started by EventBridge rules, run in a thread of their own (stepFunctionsThread.ts) that
    // yields to the request routes while clients wait (yieldWhileClientsWait, below); their Lambda tasks come back
    // here, to the Lambda service.
    const functionArns = new Map(bundles.map(({ fn }) => [fn.name, fn.arn]));
    // Lambda's service errors (throttles) reach Step Functions as `Lambda.<name>`, as on AWS.
    const stepFunctionsInvoke = forStepFunctions(invoke);
    const metricSums: Record<string, number> = {};
    const stepFunctionsPath = join(template.dir, 'dist', 'local', 'stepFunctionsThread.js');
    if (!existsSync(stepFunctionsPath)) throw new Error(`${stepFunctionsPath} is missing; run npm run build`);
    // Each machine runs with its own role: its SDK tasks are signed with its key, its Lambda invokes checked here.
    const stepFunctions = await startStepFunctionsThread(
      stepFunctionsPath,
      {
        templatePath,
        parameters: devIssuer ? { ...devIssuer.parameters, ...templateParameters } : templateParameters,
        credentials: Object.fromEntries(
          template.stateMachines().map((d) => [d.logicalId, iam.credentials(d.logicalId)]),
        ),
        dynamoEndpoint: dynamo.endpoint,
      },
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
        log: (line) => print(`${stamp()} WARN  ${line}`),
      },
    );
    closers.unshift(() => stepFunctions.close());
    const stateMachineIds = new Set(template.stateMachines().map((d) => d.logicalId));
    const running = new Set<Promise<ExecutionSummary>>();
    let started = 0;
    let failed = 0;
    const waiters: (() => void)[] = [];
    // --log-level DEBUG: one line where a message's event matches a rule and where its execution ends, with the
    // correlation id (the messageId) the functions log, so one message can be followed across the local cloud.
    const debug = (options.logLevel ?? 'INFO') === 'DEBUG';
    const correlation = (value: unknown): string => {
      const detail = (value as { detail?: { messageId?: unknown } } | undefined)?.detail;
      return typeof detail?.messageId === 'string' ? `, correlation_id ${detail.messageId}` : '';
    };
    const startExecution = (logicalId: string, input: unknown) => {
      if (!stateMachineIds.has(logicalId))
        throw new Error(`rule target ${logicalId} is not a state machine of the template`);
      started++;
      const execution = stepFunctions.execute(logicalId, input);
      running.add(execution);
      void execution.then((summary) => {
        running.delete(execution);
        if (summary.ok && debug)
          print(
            `${new Date().toISOString().slice(11, 23)} DEBUG ${logicalId}: execution succeeded in ${Math.round(summary.durationMs)} ms${correlation(input)}`,
          );
        if (!summary.ok) {
          failed++;
          print(
            `${new Date().toISOString().slice(11, 23)} ERROR ${logicalId}: execution failed in state ${summary.failedState ?? '?'}: ${summary.error}: ${summary.cause}`,
          );
        }
        if (running.size === 0) for (const wake of waiters.splice(0)) wake();
      });
    };

    const eventBridge = createEventBridge({
      buses: template.eventBuses(),
      rules: template.eventRules(),
      region: template.region,
      accountId: template.accountId,
      faultPutEvents: options.faultPutEvents,
      onTarget: (target, input, event, rule) => {
        if (debug)
          print(
            `${new Date().toISOString().slice(11, 23)} DEBUG eventbridge: ${event['detail-type']} matched rule ${rule.logicalId}, target ${target.logicalId}${correlation(event)}`,
          );
        if (target.kind === 'stateMachine') startExecution(target.logicalId, input);
        else void invoke(target.logicalId, input);
      },
      log: (line) => print(line),
      guard: guard('events'),
    });
    const eventsServer = createServer((req, res) => eventBridge.handle(req, res));
    const eventsPort = await listen(eventsServer, 0, host);
    closers.push(() => new Promise((resolve) => eventsServer.close(() => resolve())));
    const eventsEndpoint = `http://${host}:${eventsPort}`;

    // Parameter Store: the token secret under the name each authorizer function reads from its environment.
    const parameters: LocalParameter[] = [];
    for (const fn of template.functions()) {
      const name = fn.environment.AUTH_SECRET_PARAMETER;
      if (authorizerIds.has(fn.logicalId) && name && authSecret) parameters.push({ name, value: authSecret });
    }
    const ssmServer = createServer(
      createLocalSsm({
        region: template.region,
        accountId: template.accountId,
        parameters,
        guard: guard('ssm'),
      }),
    );
    const ssmPort = await listen(ssmServer, 0, host);
    closers.push(() => new Promise((resolve) => ssmServer.close(() => resolve())));
    const ssmEndpoint = `http://${host}:${ssmPort}`;

    const functionsByRoute = new Map(
      api.routes.flatMap((r) => (r.functionLogicalId ? ([[r.routeKey, r.functionLogicalId]] as const) : [])),
    );
    const authorizersByRoute = new Map(
      api.routes.flatMap((r) => (r.authorizer ? ([[r.routeKey, r.authorizer]] as const) : [])),
    );
    // Every management-API call needs execute-api:ManageConnections on <api>/<stage>/<METHOD>/@connections/<id>.
    const connectionsArn = `arn:aws:execute-api:${template.region}:${template.accountId}:${api.id}/${api.stageName}`;
    const gateway = await startGateway({
      managementAuth: async (req, body, method, connectionId) => {
        const prefix = `${connectionsArn}/${method}/@connections/`;
        const refusal = await iam.checkRequest(req, body, {
          service: 'execute-api',
          action: 'execute-api:ManageConnections',
          resources: [prefix + connectionId],
          variableFrom: prefix.length,
        });
        return refusal?.message;
      },
      port: options.wsPort ?? 3001,
      host,
      apiId: api.id,
      stage: api.stageName,
      routeSelectionExpression: api.routeSelectionExpression,
      routes: api.routes.map(({ routeKey, twoWay, mockResponse }) => ({ routeKey, twoWay, mockResponse })),
      throttling: { defaults: api.stageThrottling, routes: api.routeThrottling },
      invoke: async (routeKey, event) => {
        const fn = functionsByRoute.get(routeKey);
        if (!fn) throw new Error(`no function for route ${routeKey}`);
        const authorizer = authorizersByRoute.get(routeKey);
        if (authorizer) {
          const methodArn = `arn:aws:execute-api:${template.region}:${template.accountId}:${api.id}/${api.stageName}/${routeKey}`;
          const outcome = await runAuthorizer(authorizer, event, methodArn, invoke);
          // A refusal is the handshake's answer; the route's own function never runs, as on AWS.
          if (!outcome.allowed) return outcome.refusal;
          (event.requestContext as { authorizer?: unknown }).authorizer = outcome.context;
        }
        return (await invoke(fn, event)) as { statusCode?: number; body?: string } | undefined;
      },
      apiLatencyMs: options.apiLatencyMs,
      faultThrottle: options.faultThrottle,
      faultSkipDisconnect: options.faultSkipDisconnect,
      idleTimeoutMs: options.idleTimeoutMs,
      hardTimeoutMs: options.hardTimeoutMs,
      log: (level, msg, fields) => {
        if (level !== 'info')
          print(
            `${new Date().toISOString().slice(11, 23)} ${level.toUpperCase().padEnd(5)} gateway: ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}`,
          );
      },
    });
    closers.unshift(() => gateway.close());

    const threshold = options.logLevel ?? 'INFO';
    const functionLog: FunctionLog = (functionName, line) => {
      const { level, text } = formatFunctionLog(functionName, line);
      if (atLeast(level, threshold)) print(text);
    };
    // A function that only state machines invoke (Deliver) is work no client waits on: background priority.
    const apiInvoked = new Set([
      ...api.routes.flatMap((r) => (r.functionLogicalId ? [r.functionLogicalId] : [])),
      ...authorizerIds,
      ...restRoutes(template).map((r) => r.functionLogicalId),
    ]);
    const stateMachineTasks = template.stateMachines().map((d) => JSON.stringify(d.definition));
    const isBackground = (fn: { logicalId: string; arn: string }) =>
      !apiInvoked.has(fn.logicalId) && stateMachineTasks.some((text) => text.includes(fn.arn));
    const specs: LocalFunctionSpec[] = bundles.map(({ fn, bundlePath, handlerExport }) => ({
      logicalId: fn.logicalId,
      name: fn.name,
      arn: fn.arn,
      bundlePath,
      handlerExport,
      timeoutSeconds: fn.timeoutSeconds,
      memoryMb: fn.memoryMb,
      reservedConcurrency: fn.reservedConcurrency,
      background: isBackground(fn),
      environment: {
        ...fn.environment,
        // The function's own key: every call it makes is checked against its template statements.
        AWS_ACCESS_KEY_ID: iam.credentials(fn.logicalId).accessKeyId,
        AWS_SECRET_ACCESS_KEY: iam.credentials(fn.logicalId).secretAccessKey,
        AWS_REGION: template.region,
        AWS_DEFAULT_REGION: template.region,
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        _HANDLER: fn.handler,
        AWS_ENDPOINT_URL_DYNAMODB: dynamoFaults?.endpoint ?? dynamo.endpoint,
        AWS_ENDPOINT_URL_EVENTBRIDGE: eventsEndpoint,
        AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI: gateway.callbackUrl,
        AWS_ENDPOINT_URL_SSM: ssmEndpoint,
        // An authorizer that names no Parameter Store secret gets the token secret itself.
        ...(authorizerIds.has(fn.logicalId) &&
          authSecret &&
          !fn.environment.AUTH_SECRET_PARAMETER && { AUTH_SECRET: authSecret }),
        ...devIssuer?.environment,
        // No X-Ray daemon or CloudWatch here: traces off, metrics not printed; logs stay on.
        POWERTOOLS_TRACE_ENABLED: 'false',
        // With traces off, the X-Ray SDK's automatic mode only costs: it enables a cls-hooked async hook with destroy
        // tracking on every promise. The benchmark's CPU profile showed it (registerDestroyHook, emitHook, GC) as the
        // largest cost of the Deliver sandbox; manual mode never installs the hook.
        AWS_XRAY_MANUAL_MODE: 'true',
        POWERTOOLS_METRICS_DISABLED: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    }));
    lambda = new LocalLambda(specs, workerPath, functionLog, options.lambdaLimits);
    const localLambda = lambda;
    closers.unshift(() => localLambda.close());
    // While clients wait, the whole fan-out yields: the engine's thread (normally at the routes' priority) and the
    // background functions' environments (normally at BACKGROUND_NICENESS). By nice value on Linux where this process
    // may raise a thread's priority back; elsewhere by sleeping a share of the time (local/priority.ts, `pace`).
    const fanoutYield = process.platform === 'linux' && canRaisePriority(0) ? 'nice' : 'pace';
    const fanout = {
      setYielding: (yielding: boolean) => {
        if (fanoutYield === 'nice') {
          stepFunctions.setNiceness(yielding ? YIELD_NICENESS : 0);
          localLambda.setBackgroundNiceness(yielding ? YIELD_NICENESS : BACKGROUND_NICENESS);
        } else {
          const sleepShare = yielding ? YIELD_SLEEP_SHARE : 0;
          stepFunctions.setPace(sleepShare);
          localLambda.setBackgroundPace(sleepShare);
        }
      },
    };
    const stopWatching = yieldWhileClientsWait(
      () => localLambda.requestBacklog(),
      fanout,
      localLambda.limits.requestEnvironmentsPerFunction,
    );
    closers.unshift(async () => stopWatching());

    const webDir = join(template.dir, 'web');
    // The template's REST routes (the admin broadcast): AWS_IAM open locally (nothing to sign against), the admin
    // route behind its token authorizer as on AWS.
    const restApi = createRestApi({
      routes: restRoutes(template),
      region: template.region,
      accountId: template.accountId,
      invoke: (fn, event) => invoke(fn, event),
    });
    const httpServer = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/config.json')
        return sendJson(res, 200, {
          wsUrl: gateway.url,
          // The broadcast page posts here with the signed-in admin's token (the route with the token authorizer).
          ...(devIssuer && { auth: devIssuer.webConfig, adminBroadcastUrl: '/admin/broadcast' }),
        });
      if (restApi.handle(req, res)) return;
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return sendJson(res, 405, { message: 'Method not allowed' });
      // The page's client library is built (scripts/build.mjs), so it is served from dist/web/.
      serveStatic(req.url?.startsWith('/roomcast.js') ? join(template.dir, 'dist', 'web') : webDir, req, res);
    });
    const httpPort = await listen(httpServer, options.httpPort ?? 3000, host);
    closers.unshift(
      () =>
        new Promise((resolve) => {
          httpServer.close(() => resolve());
          httpServer.closeAllConnections();
        }),
    );

    return {
      template,
      httpUrl: `http://${host}:${httpPort}`,
      wsUrl: gateway.url,
      callbackUrl: gateway.callbackUrl,
      restEndpoints: restApi.routes.map((r) => `${r.method} http://${host}:${httpPort}${r.path}`),
      gateway,
      eventBridge,
      lambda: localLambda,
      dynamoEndpoint: dynamo.endpoint,
      eventsEndpoint,
      ssmEndpoint,
      fanoutYield,
      iam,
      devIssuer,
      setFaultDynamoThrottle: (share) => {
        if (!dynamoFaults)
          throw new Error('start the local cloud with faultDynamoThrottle to throttle DynamoDB');
        dynamoFaults.setThrottle(share);
      },
      dynamoFaultStats: () => dynamoFaults?.stats() ?? { requests: 0, throttled: 0 },
      idle: () =>
        running.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)),
      executions: () => ({ started, failed, running: running.size }),
      metrics: () => ({ ...metricSums }),
      close: async () => {
        for (const close of closers.splice(0)) await close().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const close of closers.splice(0)) await close().catch(() => undefined);
    throw error;
  }
}

/** What Step Functions reports when its role may not invoke the function (docs/PARITY.md). */
function lambdaAccessDenied(message: string): Error {
  const error = new Error(
    `${message} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: ${randomUUID()}; Proxy: null)`,
  );
  error.name = 'Lambda.AWSLambdaException';
  return error;
}
