import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { parse } from 'yaml';
import { ROUTE_SECONDS, type Route } from '#core/features';
import { ACTIONS, ONE_WAY_ACTIONS, REPLY_TYPE } from '#protocol';
import { loadTemplate } from '../../tools/infra/template';
import { FEATURE_FUNCTIONS } from '../helpers/templateOutputs';

/**
 * Each route is declared once, in its feature's code (`routeHandler`, or `declareRoute` for the handshake): its key,
 * scope and budget, listed in its feature's `routes`. Every other place that must know a route is held to those
 * lists here: the template's routes, the protocol's actions, the AsyncAPI document and docs/PROTOCOL.md's table.
 * A route's request and reply types are the protocol's (protocol/index.ts RequestOf, ReplyOf): routeHandler takes
 * them from its key, so tsc holds each handler to them; this file holds the AsyncAPI document to the same types.
 */
const ROOT = join(__dirname, '..', '..');
const template = loadTemplate(join(ROOT, 'template.yaml'));
const raw = template.raw as {
  Globals: { Function: { Timeout: number } };
  Resources: Record<
    string,
    {
      Type: string;
      Metadata?: { BuildProperties?: { EntryPoints?: string[] } };
      Properties?: { Timeout?: number };
    }
  >;
};
/** The keys the gateway itself names: served by a feature, but no action a client names. */
const GATEWAY_KEYS = ['$connect', '$disconnect', '$default'];
/** Actions of the protocol that no feature serves, each with why. */
const NOT_SERVED: Record<string, string> = {
  ping: 'answered by API Gateway itself (a MOCK integration with a route response, template.yaml), no Lambda',
};

/** Each function built from a feature's index.ts that declares routes, with its declared routes. */
const features = Object.entries(raw.Resources).flatMap(([functionId, resource]) => {
  const entry = resource.Metadata?.BuildProperties?.EntryPoints?.[0];
  if (resource.Type !== 'AWS::Serverless::Function' || entry === undefined) return [];
  const module = require(join(ROOT, entry)) as { routes?: readonly Route[] };
  if (module.routes === undefined) return [];
  const timeout = resource.Properties?.Timeout ?? raw.Globals.Function.Timeout;
  return [{ functionId, entry, routes: module.routes, timeout }];
});
const declared = features.flatMap((feature) => feature.routes.map((route) => ({ ...feature, route })));

const [api] = template.webSocketApis();
const templateRoutes = api?.routes ?? [];

it('finds the declared routes of every feature function of the template', () => {
  expect(features.map((f) => f.functionId).sort()).toEqual([...FEATURE_FUNCTIONS].sort());
});

it("routes each declared key to its feature's function, and no other key to it", () => {
  for (const { functionId, entry, routes } of features) {
    const wired = templateRoutes.filter((r) => r.functionLogicalId === functionId).map((r) => r.routeKey);
    expect({ entry, keys: wired.sort() }).toEqual({ entry, keys: routes.map((r) => r.key).sort() });
  }
  // A key is declared once, by one feature.
  const keys = declared.map(({ route }) => route.key);
  expect(keys.length).toBe(new Set(keys).size);
});

it('serves every action the protocol names (those of NOT_SERVED aside), and nothing else', () => {
  const served = declared.map(({ route }) => route.key).filter((key) => !GATEWAY_KEYS.includes(key));
  expect([...served, ...Object.keys(NOT_SERVED)].sort()).toEqual([...ACTIONS, ...ONE_WAY_ACTIONS].sort());
  expect(served.filter((key) => key in NOT_SERVED)).toEqual([]);
});

it('names every served action in the AsyncAPI document and in PROTOCOL.md', () => {
  const asyncapi = parse(readFileSync(join(ROOT, 'protocol', 'asyncapi.yaml'), 'utf8')) as {
    operations: Record<string, { action: string }>;
  };
  const protocolDoc = readFileSync(join(ROOT, 'docs', 'PROTOCOL.md'), 'utf8');
  const tableKeys = [...protocolDoc.matchAll(/^\| `([a-z]+)` \|/gm)].map((m) => m[1]);
  for (const { route } of declared) {
    if (GATEWAY_KEYS.includes(route.key)) continue;
    expect({ key: route.key, asyncapi: asyncapi.operations[route.key]?.action }).toEqual({
      key: route.key,
      asyncapi: 'send',
    });
    expect({ key: route.key, inProtocolTable: tableKeys.includes(route.key) }).toEqual({
      key: route.key,
      inProtocolTable: true,
    });
  }
});

it("answers within a budget its function's Timeout allows, and says what each frame acts on", () => {
  for (const { functionId, timeout, route } of declared) {
    expect({ key: route.key, functionId, seconds: route.seconds }).toEqual({
      key: route.key,
      functionId,
      seconds: expect.any(Number),
    });
    expect(route.seconds).toBeGreaterThanOrEqual(ROUTE_SECONDS);
    expect({ key: route.key, withinTimeout: route.seconds <= timeout }).toEqual({
      key: route.key,
      withinTimeout: true,
    });
    // Every route that reads a frame declares its scope; only the handshake reads none.
    if (!['$connect', '$disconnect'].includes(route.key))
      expect([route.key, route.scope]).toEqual([route.key, expect.stringMatching(/^(room|connection)$/)]);
  }
  expect(declared.find(({ route }) => route.key === 'subscribe')?.route.seconds).toBe(20);
});

it('builds one WebSocket API of the template, routed by the action, with its stage and throttling', () => {
  expect(template.webSocketApis()).toHaveLength(1);
  expect(api).toMatchObject({
    logicalId: 'WebSocketApi',
    id: 'localwebsocketapi',
    routeSelectionExpression: '$request.body.action',
    stageName: 'prod',
    stageThrottling: { rateLimit: 500, burstLimit: 1000 },
  });
  // Every action of the protocol (answered or one-way) is a route of the template, besides the gateway's own keys.
  expect(templateRoutes.map((r) => r.routeKey).sort()).toEqual(
    [...GATEWAY_KEYS, ...ACTIONS, ...ONE_WAY_ACTIONS].sort(),
  );
});

/** Routes whose feature is named by the product's design (one function per feature, functions/core/features.ts). */
const FEATURE_OF_KEYS: [string, string[]][] = [
  ['ConnectionFunction', ['$connect', '$disconnect', '$default']],
  ['MessagesFunction', ['sendmessage', 'history', 'editmessage', 'deletemessage', 'react']],
  [
    'RoomsFunction',
    [
      'createroom',
      'joinroom',
      'leaveroom',
      'subscribe',
      'closeroom',
      'removemember',
      'rotatekey',
      'myrooms',
      'who',
    ],
  ],
  ['PeopleFunction', ['findpeople', 'opendm']],
  ['ReadingFunction', ['markread', 'seenby', 'setnotices']],
  // One function signs uploads and reads of attachments.
  ['AttachmentsFunction', ['attach', 'getattachment']],
  ['TypingFunction', ['typing']],
];

it.each(FEATURE_OF_KEYS)('routes to %s its keys %j', (functionLogicalId, keys) => {
  for (const key of keys)
    expect(templateRoutes.find((r) => r.routeKey === key)).toMatchObject({
      routeKey: key,
      functionLogicalId,
    });
});

it('answers every route but the handshake and the one-way heartbeat (no route response), and pings from the gateway itself', () => {
  for (const route of templateRoutes) {
    const oneWay = ['$connect', '$disconnect', ...ONE_WAY_ACTIONS].includes(route.routeKey);
    expect({ key: route.routeKey, twoWay: route.twoWay }).toEqual({ key: route.routeKey, twoWay: !oneWay });
  }
  // The keepalive is answered by API Gateway itself: no function, the integration response's template as reply.
  expect(templateRoutes.find((r) => r.routeKey === 'ping')).toEqual({
    routeKey: 'ping',
    twoWay: true,
    mockResponse: '{"type":"pong"}',
    operationName: 'Ping',
  });
});

type Schema = { $ref?: string; properties?: Record<string, unknown> };
interface AsyncApi {
  components: { messages: Record<string, { payload: Schema }>; schemas: Record<string, Schema> };
  operations: Record<string, { messages: { $ref: string }[]; reply?: { messages: { $ref: string }[] } }>;
}

/**
 * The fields of each action's request as protocol/ types it (RequestOf, protocol/index.ts), read with TypeScript's
 * checker from a probe module that names each one.
 */
function requestFields(actions: readonly string[]): Record<string, string[]> {
  const probe = join(ROOT, 'protocol', 'routesProbe.ts');
  const source = [
    "import type { RequestOf } from './index';",
    ...actions.map((action, i) => `export type Probe${i} = RequestOf<'${action}'>;`),
  ].join('\n');
  const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, types: [] };
  const host = ts.createCompilerHost(options);
  const { readFile, fileExists } = host;
  host.readFile = (file) => (file === probe ? source : readFile(file));
  host.fileExists = (file) => file === probe || fileExists(file);
  const program = ts.createProgram([probe], options, host);
  const checker = program.getTypeChecker();
  const aliases = program.getSourceFile(probe)?.statements.filter(ts.isTypeAliasDeclaration) ?? [];
  return Object.fromEntries(
    aliases.map((alias, i) => [
      actions[i],
      checker
        .getPropertiesOfType(checker.getTypeAtLocation(alias.name))
        .map((p) => p.name)
        .sort(),
    ]),
  );
}

it("describes each served action in AsyncAPI as protocol/ types it: the request's fields, and its reply frame", () => {
  const doc = parse(readFileSync(join(ROOT, 'protocol', 'asyncapi.yaml'), 'utf8')) as AsyncApi;
  const { messages, schemas } = doc.components;
  const resolve = (schema: Schema): Schema =>
    schema.$ref ? resolve(schemas[schema.$ref.split('/').pop() ?? ''] ?? {}) : schema;
  const routes = declared.map(({ route }) => route).filter((route) => !GATEWAY_KEYS.includes(route.key));
  const fields = requestFields(routes.map((route) => route.key));
  for (const { key, scope } of routes) {
    const operation = doc.operations[key];
    const message = operation?.messages[0]?.$ref.split('/').pop() ?? '';
    const described = Object.keys(resolve(messages[message]?.payload ?? {}).properties ?? {}).sort();
    // A request type protocol/ names, with the fields the AsyncAPI message describes; a room route's names a room.
    expect({ key, message, fields: fields[key] }).toEqual({
      key,
      message: `${key}Request`,
      fields: described,
    });
    if (scope === 'room')
      expect({ key, roomId: described.includes('roomId') }).toEqual({ key, roomId: true });
    const reply = operation?.reply?.messages[0]?.$ref.split('/').pop();
    const replyType = key in REPLY_TYPE ? REPLY_TYPE[key as keyof typeof REPLY_TYPE] : undefined;
    expect({ key, reply }).toEqual({ key, reply: replyType && `${replyType}Frame` });
  }
});
