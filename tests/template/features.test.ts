import { join } from 'node:path';
import type { APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { declareRoute, featureHandler, ROUTE_SECONDS } from '#core/features';
import { loadTemplate } from '../../tools/infra/template';
import { TEMPLATE_FUNCTIONS } from '../helpers/templateOutputs';

/**
 * One function per feature, routed by route key (functions/core/features.ts): a route key the table lacks gets a
 * clear error frame, and each route answers within its own budget, not its feature function's longer Timeout.
 */
const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'));
const raw = template.raw as {
  Globals: { Function: { Timeout: number } };
  Resources: Record<string, { Type: string; Properties?: { Timeout?: number } }>;
};

const event = (routeKey: string) =>
  ({ requestContext: { routeKey, connectionId: 'c1', requestId: 'r1' } }) as APIGatewayProxyWebsocketEventV2;
const lambdaContext = (remainingMs: number) => {
  const ends = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => ends - Date.now(), functionName: 'f' } as unknown as Context;
};

it('answers a route key its table lacks with an INTERNAL error frame naming the action, never a crash', async () => {
  const handler = featureHandler('rooms', [
    declareRoute('who', async () => ({ statusCode: 200, body: '{}' })),
  ]);
  const reply = await handler(event('sendmessage'), lambdaContext(20_000));
  expect(reply).toEqual({ statusCode: 200, body: expect.any(String) });
  expect(JSON.parse((reply as { body: string }).body)).toEqual({
    type: 'error',
    code: 'INTERNAL',
    message: 'The action "sendmessage" is not available. Please try again later.',
    action: 'sendmessage',
  });
  // An inherited property of the table is not a route.
  const inherited = await handler(event('toString'), lambdaContext(20_000));
  expect(JSON.parse((inherited as { body: string }).body)).toMatchObject({
    code: 'INTERNAL',
    action: 'toString',
  });
});

it("gives each route its own time budget within the function's Timeout", async () => {
  const seen: Record<string, number> = {};
  const entry = (name: string) => async (_: APIGatewayProxyWebsocketEventV2, context?: Context) => {
    seen[name] = context?.getRemainingTimeInMillis() ?? -1;
    return { statusCode: 200 };
  };
  const handler = featureHandler('rooms', [
    declareRoute('joinroom', entry('joinroom')),
    declareRoute('subscribe', entry('subscribe'), 20),
  ]);
  await handler(event('joinroom'), lambdaContext(20_000));
  await handler(event('subscribe'), lambdaContext(20_000));
  expect(seen.joinroom).toBeLessThanOrEqual(ROUTE_SECONDS * 1000);
  expect(seen.joinroom).toBeGreaterThan(ROUTE_SECONDS * 1000 - 200);
  expect(seen.subscribe).toBeGreaterThan(10_000);
  // Never more than the invocation has left.
  await handler(event('subscribe'), lambdaContext(3_000));
  expect(seen.subscribe).toBeLessThanOrEqual(3_000);
});

it('refuses a table that lists a route key twice when the module loads', () => {
  const who = declareRoute('who', async () => ({ statusCode: 200 }));
  expect(() => featureHandler('rooms', [who, who])).toThrow('rooms lists route who twice');
});

it("takes a route's default budget from the template's Globals Timeout, and gives rooms subscribe's 20 s", () => {
  expect(raw.Globals.Function.Timeout).toBe(ROUTE_SECONDS);
  expect(raw.Resources.RoomsFunction?.Properties?.Timeout).toBe(20);
});

it('runs one function per feature: no WebSocket route has a function of its own beside its feature', () => {
  const functions = Object.entries(raw.Resources)
    .filter(([, r]) => r.Type === 'AWS::Serverless::Function')
    .map(([id]) => id)
    .sort();
  expect(functions).toEqual([...TEMPLATE_FUNCTIONS].sort());
});
