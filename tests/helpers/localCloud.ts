import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Document, parseDocument } from 'yaml';
import { type LocalQueue, loadTemplate } from '../../tools/infra/template';
import { type LocalCloud, type LocalCloudOptions, startLocalCloud } from '../../tools/local/cloud';
import { type LocalDynamo, startDynamo } from '../../tools/local/dynamodb';
import type { LambdaTestClock } from '../../tools/local/lambda/clock';
import type { InvocationKind } from '../../tools/local/lambda/service';
import type { StepFunctionsTestClock } from '../../tools/local/testClock';

export const templatePath = join(__dirname, '..', '..', 'template.yaml');

/** After the last fan-out ends, how long a frame may still be on the wire to a local socket. */
const DELIVERY_GRACE_MS = 150;

/** The overrides whose parameter template.yaml declares (the template grows while these tests stay put). */
export function declaredParameters(overrides: Record<string, string>): Record<string, string> {
  const template = loadTemplate(templatePath);
  return Object.fromEntries(
    Object.entries(overrides).filter(([name]) => {
      try {
        template.parameter(name);
        return true;
      } catch {
        return false;
      }
    }),
  );
}

/** The clock a cloud started with `lambdaTestClock: true` gives its functions (tools/local/lambda/clock.ts). */
export function lambdaClock(cloud: LocalCloud): LambdaTestClock {
  const { clock } = cloud.lambda;
  if (!clock)
    throw new Error(
      'this local cloud was started without lambdaTestClock: its functions read the machine clock',
    );
  return clock;
}

export interface Invocation {
  /** Logical id of the function from template.yaml. */
  logicalId: string;
  /** The route key for gateway events, else undefined (e.g. Deliver from the state machine). */
  routeKey?: string;
  /** Who waits for it: a client (`request`) or nobody outside (`background`, e.g. a state machine's task). */
  kind: InvocationKind;
  /** The event's `op`, if any: a fan-out step, or `sweep` (the scheduled stranded-room sweep, once a minute). */
  op?: string;
  /** Whose turn it takes in the local Lambda service, when the gateway says (a signed-in person, else a connection). */
  caller?: string;
}

export interface TestCloud {
  cloud: LocalCloud;
  /** Every line the local cloud printed (function logs are prefixed with the function name). */
  logs: string[];
  /** Every function invocation, through the gateway, the state machine or a test. */
  invocations: Invocation[];
  /** Whether an invocation of `invocations` has ended (answered or failed): what it wrote is written. */
  ended(invocation: Invocation): boolean;
  /**
   * Waits until every fan-out has finished, its frames had time to arrive and no invocation is running (a route's,
   * a rule target's such as the push function, a $disconnect's): for proving a negative.
   */
  settle(): Promise<void>;
}

/**
 * A closed client's departure waits LEAVE_GRACE_SECONDS (5 s, the departure machine's `WaitForReturn`) for a return
 * before its rooms are told, and settle() waits for every running execution, so each settle after a client closed
 * would sit out the whole pause. A test cloud runs that pause at 10 ms a second unless its options name a
 * `stepFunctionsTestClock` of their own; a file in which someone returns within the grace passes
 * `stepFunctionsTestClock: undefined` (the pause at AWS's pace) or a clock of its choosing
 * (tests/core/departure.e2e.test.ts, the grace's own rule).
 */
export const SHORT_DEPARTURE_PAUSE: StepFunctionsTestClock = { msPerSecond: 10, states: ['WaitForReturn'] };

/**
 * Starts the local cloud from template.yaml on free ports, capturing its log lines and recording each function
 * invocation (the local Lambda service is the one object every route, rule and state machine goes through).
 */
export async function startTestCloud(options: Partial<LocalCloudOptions> = {}): Promise<TestCloud> {
  if (!existsSync(join(__dirname, '..', '..', 'dist', 'local', 'lambda', 'worker.js'))) {
    throw new Error('dist/ is missing: run `node scripts/build.mjs --quiet` before the end-to-end tests');
  }
  const logs: string[] = [];
  const cloud = await startLocalCloud({
    templatePath,
    httpPort: 0,
    wsPort: 0,
    log: (line) => logs.push(line),
    ...('stepFunctionsTestClock' in options ? {} : { stepFunctionsTestClock: SHORT_DEPARTURE_PAUSE }),
    ...options,
  });
  const invocations: Invocation[] = [];
  const endedInvocations = new WeakSet<Invocation>();
  // Invocations started through the wrapper below that have not ended: settle() waits for none, so that what a route,
  // a rule's asynchronous target (the push function) or a closed connection's $disconnect does has been done.
  let running = 0;
  const logicalIds = new Map<string, string>();
  for (const fn of cloud.lambda.functions) {
    for (const key of [fn.logicalId, fn.name, fn.arn]) logicalIds.set(key, fn.logicalId);
  }
  const invoke = cloud.lambda.invoke.bind(cloud.lambda);
  cloud.lambda.invoke = (
    fn: string,
    event: unknown,
    kind: InvocationKind = 'request',
    startBy?: number,
    caller?: string,
  ) => {
    const routeKey = (event as { requestContext?: { routeKey?: unknown } } | undefined)?.requestContext
      ?.routeKey;
    const op = (event as { op?: unknown } | undefined)?.op;
    const invocation: Invocation = {
      logicalId: logicalIds.get(fn) ?? fn,
      routeKey: typeof routeKey === 'string' ? routeKey : undefined,
      kind,
      ...(typeof op === 'string' && { op }),
      ...(caller !== undefined && { caller }),
    };
    invocations.push(invocation);
    running++;
    return invoke(fn, event, kind, startBy, caller).finally(() => {
      running--;
      endedInvocations.add(invocation);
    });
  };
  return {
    cloud,
    logs,
    invocations,
    ended: (invocation) => endedInvocations.has(invocation),
    settle: async () => {
      do {
        await cloud.idle();
        await new Promise((resolve) => setTimeout(resolve, DELIVERY_GRACE_MS));
        await cloud.idle();
      } while (running > 0);
    },
  };
}

/** Folders a template's relative paths reach: the built bundles, the state machine definitions, the web pages. */
const TEMPLATE_NEIGHBOURS = ['dist', 'statemachines', 'web', 'functions'];

/**
 * A copy of template.yaml with `edit` applied (on the YAML document, CloudFormation tags kept), written to a scratch
 * folder that links the repository's built bundles and definitions, so that a test cloud can run it. Returns the
 * copy's path and a cleanup.
 */
export function editedTemplate(edit: (doc: Document) => void): { path: string; remove(): void } {
  const doc = parseDocument(readFileSync(templatePath, 'utf8'), { logLevel: 'silent' });
  edit(doc);
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-template-'));
  const root = join(__dirname, '..', '..');
  for (const name of TEMPLATE_NEIGHBOURS) symlinkSync(join(root, name), join(dir, name));
  const path = join(dir, 'template.yaml');
  writeFileSync(path, doc.toString({ lineWidth: 0 }));
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Closes a connection from the server side, as an operator's `DELETE @connections/{id}` does, signed with the local
 * admin key (the management API refuses unsigned calls, as on AWS). Resolves `gone` when the gateway had already
 * closed it.
 */
export async function deleteConnection(
  callbackUrl: string,
  connectionId: string,
): Promise<'closed' | 'gone'> {
  const management = new ApiGatewayManagementApiClient({
    endpoint: callbackUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    return 'closed';
  } catch (error) {
    if ((error as Error).name === 'GoneException') return 'gone';
    throw error;
  } finally {
    management.destroy();
  }
}

/** A DynamoDB client of the local cloud signed with the local admin key (docs/PARITY.md), for tests to look inside. */
export function adminDynamo(cloud: LocalCloud): DynamoDBClient {
  return new DynamoDBClient({
    endpoint: cloud.dynamoEndpoint,
    region: cloud.template.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/** The region and account of the tests' stand-alone local services (one service, no cloud around it). */
export const TEST_REGION = 'us-east-1';
export const TEST_ACCOUNT = '000000000000';

/**
 * A queue as the template loader describes one (tools/infra/template.ts), in the tests' account with SQS's defaults:
 * a FIFO queue by its `.fifo` name, no content-based deduplication unless `overrides` says so.
 */
export function testQueue(name: string, overrides: Partial<LocalQueue> = {}): LocalQueue {
  return {
    logicalId: name.replace(/\W/g, ''),
    name,
    arn: `arn:aws:sqs:${TEST_REGION}:${TEST_ACCOUNT}:${name}`,
    url: `https://sqs.${TEST_REGION}.amazonaws.com/${TEST_ACCOUNT}/${name}`,
    fifo: name.endsWith('.fifo'),
    contentBasedDeduplication: false,
    deduplicationScope: 'queue',
    fifoThroughputLimit: 'perQueue',
    visibilityTimeoutSeconds: 30,
    messageRetentionSeconds: 345_600,
    delaySeconds: 0,
    maximumMessageSize: 262_144,
    ...overrides,
  };
}

/** What an SDK client of a stand-alone local service is made with (see `serveWithClient`). */
export interface LocalClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts?: number;
}

/**
 * Serves a stand-alone local service's `handle` on a free port of 127.0.0.1, with the SDK client `client` makes for
 * it (`maxAttempts: 1` shows the service's own answer to a throttled call, without the SDK's retries); `close` ends both.
 */
export async function serveWithClient<C extends { destroy(): void }>(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
  client: (config: LocalClientConfig) => C,
  { maxAttempts }: { maxAttempts?: number } = {},
): Promise<{ client: C; endpoint: string; close(): Promise<void> }> {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const made = client({
    endpoint,
    region: TEST_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...(maxAttempts !== undefined && { maxAttempts }),
  });
  return {
    client: made,
    endpoint,
    async close() {
      made.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A client of a stand-alone local DynamoDB at `endpoint`; `maxAttempts: 1` meets every refusal without the SDK's retries. */
export const localDynamoClient = (endpoint: string, maxAttempts?: number) =>
  new DynamoDBClient({
    endpoint,
    region: TEST_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...(maxAttempts !== undefined && { maxAttempts }),
  });

/**
 * A stand-alone local DynamoDB (`options` as startDynamo's) started before the tests of the file or describe it is
 * called in, with its `client`; both closed after them.
 */
export function localDynamo(
  options: Parameters<typeof startDynamo>[0],
  { maxAttempts }: { maxAttempts?: number } = {},
) {
  let dynamo: LocalDynamo | undefined;
  let client: DynamoDBClient | undefined;
  beforeAll(async () => {
    dynamo = await startDynamo(options);
    client = localDynamoClient(dynamo.endpoint, maxAttempts);
  });
  afterAll(async () => {
    client?.destroy();
    await dynamo?.close();
  });
  return {
    get dynamo(): LocalDynamo {
      if (!dynamo) throw new Error('the local DynamoDB is not started yet');
      return dynamo;
    },
    get client(): DynamoDBClient {
      if (!client) throw new Error('the local DynamoDB is not started yet');
      return client;
    },
  };
}

/** A table keyed by the one string attribute `key`, billed per request. */
export const hashKeyTable = (TableName: string, key: string) => ({
  TableName,
  AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' as const }],
  KeySchema: [{ AttributeName: key, KeyType: 'HASH' as const }],
  BillingMode: 'PAY_PER_REQUEST' as const,
});
