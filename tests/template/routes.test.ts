import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROUTE_SECONDS } from '#core/features';
import { ACTIONS, ONE_WAY_ACTIONS } from '#protocol';
import { loadTemplate } from '../../tools/infra/template';
import {
  ACTION_FACTS,
  GATEWAY_KEYS,
  isTwoWay,
  ROUTE_FACTS,
  ROUTE_TABLES,
  requestTypes,
} from '../helpers/routeFacts';
import { FEATURE_FUNCTIONS } from '../helpers/templateOutputs';
import { loopOf, routeListGaps, withRouteLists } from '../helpers/templateRouteLists';

/**
 * Each route is declared once, in its feature's code (`routeHandler`, or `declareRoute` for the handshake): its key,
 * scope and budget, gathered by the route table of the function that hosts it (tests/helpers/routeFacts.ts reads
 * them). Every other place that must know a route is held to those declarations here, each gap named with its file
 * and route: the template's routes (its two route lists follow from the declarations: ROOMCAST_WRITE_ROUTES=1 writes
 * them), the protocol's actions, the AsyncAPI document and docs/PROTOCOL.md's table. A route's request and reply
 * types are the protocol's (protocol/index.ts RequestOf, ReplyOf): routeHandler takes them from its key, so tsc holds
 * each handler to them; this file holds the AsyncAPI document to the same types.
 */
const ROOT = join(__dirname, '..', '..');
const TEMPLATE = join(ROOT, 'template.yaml');
/** Actions of the protocol that no feature serves, each with why. */
const NOT_SERVED: Record<string, string> = {
  ping: 'answered by API Gateway itself (a MOCK integration with a route response, template.yaml), no Lambda',
};
const requests = requestTypes(ACTION_FACTS.map((fact) => fact.key));

/**
 * The routes template.yaml's loops make, as declared: each answered route with a function, by its request type's
 * name (SlowModeRequest: SlowModeRoute, OperationName SlowMode), in its function's loop. The one-way heartbeat and
 * the gateway's keys are resources of their own.
 */
const wanted = ACTION_FACTS.filter(isTwoWay).map((fact) => ({
  name: requests[fact.key]?.name.replace(/Request$/, '') ?? '',
  key: fact.key,
  loop: loopOf(fact.functionId),
}));
// ROOMCAST_WRITE_ROUTES=1 writes those lists (a new route added last) before this file reads the template.
if (process.env.ROOMCAST_WRITE_ROUTES === '1')
  writeFileSync(TEMPLATE, withRouteLists(readFileSync(TEMPLATE, 'utf8'), wanted));
const template = loadTemplate(TEMPLATE);

const [api] = template.webSocketApis();
const templateRoutes = api?.routes ?? [];

it('finds the declared routes of every feature function of the template', () => {
  expect(ROUTE_TABLES.map((f) => f.functionId).sort()).toEqual([...FEATURE_FUNCTIONS].sort());
});

it('routes each declared key to the function whose route table declares it, and no other key to it', () => {
  for (const { functionId, entry, routes } of ROUTE_TABLES) {
    const wired = templateRoutes.filter((r) => r.functionLogicalId === functionId).map((r) => r.routeKey);
    expect({ entry, keys: wired.sort() }).toEqual({ entry, keys: routes.map((r) => r.key).sort() });
  }
  // A key is declared once, by one feature.
  const keys = ROUTE_FACTS.map((fact) => fact.key);
  expect(keys.length).toBe(new Set(keys).size);
});

it("lists each answered route in template.yaml's Mappings.Routes and its function's route loop, as declared", () => {
  expect(wanted.filter((route) => !/^[A-Z]\w+$/.test(route.name))).toEqual([]);
  expect(routeListGaps(readFileSync(TEMPLATE, 'utf8'), wanted)).toEqual([]);
  for (const route of wanted)
    expect(templateRoutes.find((r) => r.routeKey === route.key)?.operationName).toBe(route.name);
});

it('serves every action the protocol names (those of NOT_SERVED aside), and nothing else', () => {
  const served = ACTION_FACTS.map((fact) => fact.key);
  const named = [...ACTIONS, ...ONE_WAY_ACTIONS] as readonly string[];
  expect(served.filter((key) => !named.includes(key)).map((key) => `protocol/ lacks ${key}`)).toEqual([]);
  expect(
    named
      .filter((key) => !served.includes(key) && !(key in NOT_SERVED))
      .map((key) => `no route table declares ${key}`),
  ).toEqual([]);
  expect(served.filter((key) => key in NOT_SERVED)).toEqual([]);
});

it('names every served action in the AsyncAPI document (its operation and channel message) and in PROTOCOL.md', () => {
  const asyncapi = parse(readFileSync(join(ROOT, 'protocol', 'asyncapi.yaml'), 'utf8')) as {
    operations: Record<string, { action: string }>;
    channels: { chat: { messages: Record<string, unknown> } };
    components: { messages: Record<string, unknown> };
  };
  const protocolDoc = readFileSync(join(ROOT, 'docs', 'PROTOCOL.md'), 'utf8');
  const tableKeys = new Set([...protocolDoc.matchAll(/^\| `([a-z]+)` \|/gm)].map((m) => m[1]));
  const gaps = ACTION_FACTS.flatMap(({ key }) => [
    ...(asyncapi.operations[key]?.action === 'send'
      ? []
      : [`protocol/asyncapi.yaml lacks ${key}: its operation`]),
    ...(`${key}Request` in asyncapi.channels.chat.messages
      ? []
      : [`protocol/asyncapi.yaml lacks ${key}: ${key}Request in channels.chat.messages`]),
    ...(`${key}Request` in asyncapi.components.messages
      ? []
      : [`protocol/asyncapi.yaml lacks ${key}: ${key}Request in components.messages`]),
    ...(tableKeys.has(key) ? [] : [`docs/PROTOCOL.md lacks ${key}: its row in the route table`]),
  ]);
  expect(gaps).toEqual([]);
});

it("answers within a budget its function's Timeout allows, and says what each frame acts on", () => {
  for (const { key, functionId, timeout, seconds, scope } of ROUTE_FACTS) {
    expect({ key, functionId, seconds }).toEqual({ key, functionId, seconds: expect.any(Number) });
    expect(seconds).toBeGreaterThanOrEqual(ROUTE_SECONDS);
    expect({ key, withinTimeout: seconds <= timeout }).toEqual({ key, withinTimeout: true });
    // Every route that reads a frame declares its scope; only the handshake reads none.
    if (!['$connect', '$disconnect'].includes(key))
      expect([key, scope]).toEqual([key, expect.stringMatching(/^(room|connection)$/)]);
  }
  expect(ROUTE_FACTS.find((fact) => fact.key === 'subscribe')?.seconds).toBe(20);
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

it("describes each served action in AsyncAPI as protocol/ types it: the request's fields, and its reply frame", () => {
  const doc = parse(readFileSync(join(ROOT, 'protocol', 'asyncapi.yaml'), 'utf8')) as AsyncApi;
  const { messages, schemas } = doc.components;
  const resolve = (schema: Schema): Schema =>
    schema.$ref ? resolve(schemas[schema.$ref.split('/').pop() ?? ''] ?? {}) : schema;
  for (const { key, scope, reply: replyType } of ACTION_FACTS) {
    const operation = doc.operations[key];
    const message = operation?.messages[0]?.$ref.split('/').pop() ?? '';
    const described = Object.keys(resolve(messages[message]?.payload ?? {}).properties ?? {}).sort();
    // A request type protocol/ names, with the fields the AsyncAPI message describes; a room route's names a room.
    expect({ key, message, fields: requests[key]?.fields }).toEqual({
      key,
      message: `${key}Request`,
      fields: described,
    });
    if (scope === 'room')
      expect({ key, roomId: described.includes('roomId') }).toEqual({ key, roomId: true });
    const reply = operation?.reply?.messages[0]?.$ref.split('/').pop();
    expect({ key, reply }).toEqual({ key, reply: replyType && `${replyType}Frame` });
  }
});
