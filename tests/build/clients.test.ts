import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { loadTemplate } from '../../tools/infra/template';

/**
 * Each function's bundle holds only the AWS SDK clients its function calls: a client it never calls costs cold
 * start (module load) on every new sandbox. Built as `sam build` builds them, with esbuild's metafile saying
 * which packages ended up in the output.
 */
const root = join(__dirname, '..', '..');
// AuthMode=token, so the template also creates the $connect authorizer.
const template = loadTemplate(join(root, 'template.yaml'), { parameters: { AuthMode: 'token' } });

const DYNAMODB = '@aws-sdk/client-dynamodb';
const EVENTBRIDGE = '@aws-sdk/client-eventbridge';
const MANAGEMENT_API = '@aws-sdk/client-apigatewaymanagementapi';
const SSM = '@aws-sdk/client-ssm';
const S3 = '@aws-sdk/client-s3';

/**
 * The clients each function calls. A new function gets a row here, saying what it calls. Every function but the
 * authorizers reads the runtime settings document through Powertools Parameters' SSM client at the start of each
 * invocation (functions/platform/invocation.ts), so each bundles SSM; the authorizers read no runtime setting
 * (functions/platform/signIn.ts). Every two-way route (routeHandler) may close a connection that keeps getting
 * refused (guard.ts), so each bundles the management API.
 */
const CALLS: Record<string, string[]> = {
  // Reads the token secret (AuthMode=token: functions/core/identity/authSecret.ts).
  AuthorizerFunction: [SSM],
  // Verifies sign-in tokens against a public JWKS: no AWS call at all.
  BroadcastAuthorizerFunction: [],
  BroadcastFunction: [DYNAMODB, EVENTBRIDGE, SSM],
  // $connect, $disconnect (publishes its rooms' presence) and $default.
  ConnectionFunction: [DYNAMODB, EVENTBRIDGE, MANAGEMENT_API, SSM],
  // A busy room handed on to its next execution: its wake on the chat bus (roomLog.ts handOff).
  DeliverFunction: [DYNAMODB, EVENTBRIDGE, MANAGEMENT_API, SSM],
  // sendmessage's HeadObject of a message's attachments.
  MessagesFunction: [DYNAMODB, EVENTBRIDGE, MANAGEMENT_API, S3, SSM],
  // Sign the GETs of the avatars the profiles they hand out show (core/profiles.ts); rooms' setprofile reads an
  // avatar upload back and copies it (attachments/avatars.ts).
  RoomsFunction: [DYNAMODB, EVENTBRIDGE, MANAGEMENT_API, S3, SSM],
  PeopleFunction: [DYNAMODB, EVENTBRIDGE, MANAGEMENT_API, S3, SSM],
  // A read that moves a position publishes a Seen event (pushed seen-by).
  ReadingFunction: [DYNAMODB, EVENTBRIDGE, MANAGEMENT_API, SSM],
  TypingFunction: [DYNAMODB, MANAGEMENT_API, SSM],
  // Signs presigned POSTs and GETs with the S3 client's credentials.
  AttachmentsFunction: [DYNAMODB, MANAGEMENT_API, S3, SSM],
  // block, report (a report is posted to the owner's connections), the moderation log.
  SafetyFunction: [DYNAMODB, MANAGEMENT_API, SSM],
  // The push routes, and a push's VAPID keys from SSM Parameter Store (vapid.ts).
  PushFunction: [DYNAMODB, MANAGEMENT_API, SSM],
};

/**
 * The @aws-sdk/client-* packages with code in the bundle of each entry point, as esbuild's metafile reports them.
 * One build for entry points that share their options: esbuild still bundles each on its own (no code splitting),
 * reading the modules they share once.
 */
async function bundledClients(
  entryPoints: string[],
  options: object,
): Promise<Map<string, { clients: string[]; xray: boolean }>> {
  const result = await build({
    ...options,
    entryPoints,
    bundle: true,
    write: false,
    metafile: true,
    outdir: join(root, 'dist', 'metafile-only'),
    logLevel: 'silent',
  });
  const byEntry = new Map<string, { clients: string[]; xray: boolean }>();
  for (const output of Object.values(result.metafile.outputs)) {
    if (!output.entryPoint) continue;
    const clients = new Set<string>();
    let xray = false;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const client = /node_modules\/(@aws-sdk\/client-[^/]+)\//.exec(input)?.[1];
      if (client && bytesInOutput > 0) clients.add(client);
      if (
        /node_modules\/(aws-xray-sdk-core|@aws-lambda-powertools\/tracer)\//.test(input) &&
        bytesInOutput > 0
      )
        xray = true;
    }
    byEntry.set(resolve(root, output.entryPoint), { clients: [...clients].sort(), xray });
  }
  return byEntry;
}

/** The esbuild options of a function, from its Metadata.BuildProperties as `sam build` reads them. */
function buildOptions(logicalId: string): object {
  const resources = template.raw.Resources as Record<string, { Metadata?: { BuildProperties?: object } }>;
  const props = (resources[logicalId]?.Metadata?.BuildProperties ?? {}) as {
    Target?: string;
    External?: string[];
  };
  return {
    platform: 'node',
    format: 'cjs',
    target: props.Target ?? 'es2022',
    external: props.External ?? [],
  };
}

/** The functions an operator reads traces of: a message's path from its sender to the members. */
const TRACED = ['MessagesFunction', 'BroadcastFunction', 'DeliverFunction'];

/** A function's Tracing as deployed: its own, else the Globals'. */
function tracingOf(logicalId: string): unknown {
  const raw = template.raw as {
    Globals?: { Function?: { Tracing?: unknown } };
    Resources: Record<string, { Properties?: { Tracing?: unknown } }>;
  };
  return raw.Resources[logicalId]?.Properties?.Tracing ?? raw.Globals?.Function?.Tracing;
}

const functions = template.functions().map((fn) => [fn.logicalId, resolve(root, fn.entryPoint)] as const);

/** Each function's bundled clients and whether it bundles the X-Ray SDK: its entry point's bundle. */
let clientsOf: Map<string, { clients: string[]; xray: boolean }>;

beforeAll(async () => {
  const groups = new Map<string, { options: object; entryPoints: string[] }>();
  for (const [logicalId, entryPoint] of functions) {
    const options = buildOptions(logicalId);
    const key = JSON.stringify(options);
    const group = groups.get(key) ?? { options, entryPoints: [] };
    group.entryPoints.push(entryPoint);
    groups.set(key, group);
  }
  clientsOf = new Map();
  for (const { options, entryPoints } of groups.values()) {
    for (const [entry, clients] of await bundledClients(entryPoints, options)) clientsOf.set(entry, clients);
  }
}, 240_000);

describe.each(functions)('%s', (logicalId, entryPoint) => {
  it('bundles exactly the AWS SDK clients it calls', () => {
    expect(CALLS[logicalId]).toBeDefined();
    expect(clientsOf.get(entryPoint)?.clients).toEqual([...(CALLS[logicalId] ?? [])].sort());
  });

  // The X-Ray SDK (~70 KB, loaded on every cold start) only where traces are read (functions/platform/tracing.ts),
  // and Lambda's active tracing exactly there: a traced function without it sends no segments, and one with it but
  // not traced would pay for the SDK for nothing.
  it(`bundles the X-Ray SDK exactly when template.yaml traces it (${TRACED.join(', ')})`, () => {
    expect(tracingOf(logicalId)).toBe(TRACED.includes(logicalId) ? 'Active' : undefined);
    expect(clientsOf.get(entryPoint)?.xray).toBe(TRACED.includes(logicalId));
  });
});
