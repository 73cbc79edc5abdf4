import './polyfills';
import { parseArgs } from 'node:util';
import { ParameterSyntaxError, parseParameterOverrides } from '../infra/parameters';
import { profileNamed } from './awsProfile';
import { type LocalCloud, startLocalCloud } from './cloud';
import { HELP } from './help.mjs';
import { restRoutes } from './restApi';

// The local cloud runs on Node 20 by design; the SDK's notice about its future Node 22 minimum is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

class UsageError extends Error {}

/** How long `npm start`'s build took before the cloud started (scripts/start.mjs sets ROOMCAST_BUILD_MS). */
function builtIn(): string {
  const ms = Number(process.env.ROOMCAST_BUILD_MS);
  return process.env.ROOMCAST_BUILD_MS && Number.isFinite(ms) ? `, after a build of ${ms} ms` : '';
}

function number(name: string, raw: string | undefined, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function parse(argv: string[]) {
  let parsed: ReturnType<typeof parseArgs>;
  const string = { type: 'string' } as const;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      options: {
        'http-port': string,
        'ws-port': string,
        'data-dir': string,
        parameter: { type: 'string', multiple: true },
        setting: { type: 'string', multiple: true },
        'api-latency-ms': string,
        'aws-profile': string,
        'fault-skip-disconnect': string,
        'fault-throttle': string,
        'fault-put-events': string,
        'fault-dynamo-throttle': string,
        'fault-lambda-response-lost': string,
        'dynamo-key-limit-scale': string,
        'gsi-lag-ms': string,
        'idle-timeout-ms': string,
        'hard-timeout-ms': string,
        'lambda-environments': string,
        'lambda-concurrency': string,
        'log-level': string,
        'auth-secret': string,
        'ready-json': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0] ?? 'bad arguments');
  }
  const v = parsed.values as Record<string, string | string[] | boolean | undefined>;
  const str = (name: string) => v[name] as string | undefined;
  const logLevel = str('log-level')?.toUpperCase();
  if (logLevel !== undefined && !['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(logLevel)) {
    throw new UsageError(`--log-level must be DEBUG, INFO, WARN or ERROR, got "${str('log-level')}"`);
  }
  let parameters: Record<string, string>;
  let settings: Record<string, string>;
  try {
    settings = parseParameterOverrides(v.setting as string[] | undefined);
    // --log-level also sets the functions' LogLevel, so DEBUG shows their debug lines (unless a LogLevel is given).
    parameters = {
      ...(logLevel !== undefined && { LogLevel: logLevel }),
      ...parseParameterOverrides(v.parameter as string[] | undefined),
    };
  } catch (error) {
    if (error instanceof ParameterSyntaxError) throw new UsageError(error.message);
    throw error;
  }
  const share = { min: 0, max: 1 };
  const awsProfile = str('aws-profile');
  if (awsProfile !== undefined) {
    try {
      profileNamed(awsProfile);
    } catch (error) {
      throw new UsageError(`--aws-profile: ${(error as Error).message}`);
    }
  }
  return {
    help: v.help === true,
    readyJson: v['ready-json'] === true,
    options: {
      httpPort: number('http-port', str('http-port'), { max: 65535 }) ?? 3000,
      wsPort: number('ws-port', str('ws-port'), { max: 65535 }) ?? 3001,
      dataDir: str('data-dir'),
      parameters,
      settings,
      apiLatencyMs: number('api-latency-ms', str('api-latency-ms'), { max: 60_000 }),
      awsProfile,
      faultSkipDisconnect: number('fault-skip-disconnect', str('fault-skip-disconnect'), share),
      faultThrottle: number('fault-throttle', str('fault-throttle'), share),
      faultPutEvents: number('fault-put-events', str('fault-put-events'), share),
      faultDynamoThrottle: number('fault-dynamo-throttle', str('fault-dynamo-throttle'), share),
      faultLambdaResponseLost: number('fault-lambda-response-lost', str('fault-lambda-response-lost'), share),
      dynamoKeyLimitScale: number('dynamo-key-limit-scale', str('dynamo-key-limit-scale'), {
        min: 0.0001,
        max: 1,
      }),
      gsiLagMs: number('gsi-lag-ms', str('gsi-lag-ms'), { max: 600_000 }),
      idleTimeoutMs: number('idle-timeout-ms', str('idle-timeout-ms'), { min: 1 }),
      hardTimeoutMs: number('hard-timeout-ms', str('hard-timeout-ms'), { min: 1 }),
      lambdaLimits: {
        environments: number('lambda-environments', str('lambda-environments'), { min: 1, max: 256 }),
        accountConcurrency: number('lambda-concurrency', str('lambda-concurrency'), { min: 1 }),
      },
      logLevel: logLevel as 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | undefined,
      authSecret: str('auth-secret'),
    },
  };
}

/** How to connect in the stack's AuthMode: a wscat line the $connect authorizer (if any) lets through. */
function connectLines(cloud: LocalCloud): string[] {
  const mode = String(cloud.template.parameter('AuthMode'));
  const ws = cloud.wsUrl;
  if (cloud.devIssuer) {
    const mint = `npm run --silent token -- --username alice --dev-issuer ${cloud.devIssuer.url}`;
    return [
      `  sign-in         AuthMode=${mode}: development issuer ${cloud.devIssuer.issuer} (anyone may sign in as anyone)`,
      `  WebSocket       ${ws}   (wscat -c "${ws}?token=$(${mint})")`,
    ];
  }
  if (mode === 'token') {
    const mint = 'npm run --silent token -- --username alice --secret "$AUTH_SECRET"';
    return [`  WebSocket       ${ws}   (AuthMode=token: wscat -c "${ws}?token=$(${mint})")`];
  }
  return [`  WebSocket       ${ws}   (AuthMode=${mode}: wscat -c "${ws}?username=alice")`];
}

async function main() {
  const started = performance.now();
  const { help, readyJson, options } = parse(process.argv.slice(2));
  if (help) {
    process.stdout.write(HELP);
    return;
  }
  const cloud = await startLocalCloud(options);
  const readyMs = performance.now() - started;
  const fn = cloud.lambda.functions.length;
  if (readyJson) {
    const ready = {
      ready: true,
      httpUrl: cloud.httpUrl,
      wsUrl: cloud.wsUrl,
      callbackUrl: cloud.callbackUrl,
      dynamoEndpoint: cloud.dynamoEndpoint,
      eventsEndpoint: cloud.eventsEndpoint,
      restEndpoints: cloud.restEndpoints,
      ...(cloud.devIssuer && { devIssuerUrl: cloud.devIssuer.url }),
      readyMs: Math.round(readyMs),
    };
    process.stdout.write(`${JSON.stringify(ready)}\n`);
  } else
    process.stdout.write(
      [
        '',
        `roomcast local cloud ready in ${readyMs.toFixed(0)} ms${builtIn()} (${fn} functions, stage "${cloud.template.webSocketApis()[0]?.stageName}")`,
        `  web chat        ${cloud.httpUrl}`,
        ...connectLines(cloud),
        `  management API  ${cloud.callbackUrl}/@connections/{id}`,
        `  pushes          ${cloud.pushService.origin}/push   (each push the local push service receives, as the web chat's service worker shows it; also one PUSH line each below)`,
        ...restRoutes(cloud.template).map(
          (r) =>
            `  REST            ${r.method} ${cloud.httpUrl}${r.path}   (${r.authorizer ? `Lambda authorizer ${r.authorizer.functionLogicalId}: Authorization: Bearer <sign-in token>` : 'AWS_IAM on AWS, open locally'})`,
        ),
        `  DynamoDB        ${cloud.dynamoEndpoint}${options.dataDir ? ` (data in ${options.dataDir})` : ' (in memory)'}`,
        `  EventBridge     ${cloud.eventsEndpoint}`,
        `  Parameter Store ${cloud.ssmEndpoint}${cloud.settingsParameter ? ` (settings: npm run settings -- --stack ${cloud.template.stackName} --endpoint-url ${cloud.ssmEndpoint})` : ''}`,
        `  IAM             enforced; sign outside calls with the admin key local/local (region ${cloud.template.region})`,
        `  Lambda          ${cloud.lambda.limits.environments} environments at once, invocations clients wait for first; account concurrency ${cloud.lambda.limits.accountConcurrency}`,
        '  Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  // Started by a program with an IPC channel (the bench): answer its questions about the running cloud.
  process.on('message', (message: { type?: string; top?: number }) => {
    // The busiest DynamoDB keys by writes (LocalCloud.dynamoKeyStats), so a run can report its hottest key.
    if (message?.type === 'dynamo-key-stats') {
      void cloud
        .dynamoKeyStats({ top: message.top ?? 5 })
        .then((stats) => process.send?.({ type: 'dynamo-key-stats', stats }));
      return;
    }
    if (message?.type !== 'lambda-cpu') return;
    void cloud.lambda.cpuUsage().then((cpuUs) => process.send?.({ type: 'lambda-cpu', cpuUs }));
  });
  let stopping = false;
  const stop = async () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stdout.write('\nstopping...\n');
    await cloud.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  // Started with an IPC channel (the bench): the cloud ends with its parent, even one killed before it could stop it,
  // so no forgotten cloud keeps using the cores the next measurement runs on.
  process.on('disconnect', () => {
    if (!stopping) void stop();
  });
}

// Read through `| head` (`npm start -- --help | head`): the reader closing the pipe is no error to print.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main().catch((error: Error) => {
  process.stderr.write(
    `roomcast: ${error instanceof UsageError ? error.message : error.message.split('\n')[0]}\n`,
  );
  if (error instanceof UsageError) process.stderr.write('Run with --help for the options.\n');
  process.exit(error instanceof UsageError ? 2 : 1);
});
