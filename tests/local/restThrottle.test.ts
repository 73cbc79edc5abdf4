import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadTemplate } from '../../tools/infra/template';
import { createRestApi, restRoutes } from '../../tools/local/restApi';
import { templatePath } from '../helpers/localCloud';

/**
 * The REST stage's method throttling on the local cloud, read from the template's `MethodSettings` (docs/PARITY.md,
 * "Admin broadcast from the browser"): a burst of admin broadcasts gets the burst limit through and 429 for the
 * rest, before any authorizer or function runs, with the API's CORS headers so a browser can read the refusal.
 * The buckets refill by a clock the test moves (RestApiOptions.throttleNow): how long the machine takes to answer a
 * burst refills nothing.
 */
const template = loadTemplate(templatePath, {
  parameters: { AuthMode: 'cognito', HostWebChat: 'false' },
  constants: { BroadcastAllowedOrigin: 'https://ops.example.com' },
});
let server: Server;
let base: string;
const invoked: string[] = [];
let clock = Date.parse('2026-01-01T00:00:00Z');

beforeAll(async () => {
  const api = createRestApi({
    routes: restRoutes(template),
    region: 'us-east-1',
    accountId: '123456789012',
    throttleNow: () => clock,
    invoke: async (fn) => {
      invoked.push(fn);
      // The admin route's authorizer allows; the broadcast function answers 202.
      if (fn === 'BroadcastAuthorizerFunction')
        return {
          principalId: 'sub-1',
          policyDocument: {
            Version: '2012-10-17',
            Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' }],
          },
        };
      return { statusCode: 202, body: '{"type":"queued"}' };
    },
  });
  server = createServer((req, res) => {
    if (!api.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

it("reads each broadcast method's throttle from the stage's MethodSettings", () => {
  expect(restRoutes(template).map((r) => [r.path, r.throttle])).toEqual([
    ['/broadcast', { rateLimit: 5, burstLimit: 10 }],
    ['/admin/broadcast', { rateLimit: 5, burstLimit: 10 }],
  ]);
});

it('answers 25 concurrent admin broadcasts with the burst accepted and 429 for the rest, running nothing for them, then refills at the rate', async () => {
  const post = () =>
    fetch(`${base}/admin/broadcast`, {
      method: 'POST',
      headers: { authorization: 'Bearer a.b.c', 'content-type': 'application/json' },
      body: '{"message":"hi"}',
    }).then(async (r) => ({
      status: r.status,
      body: await r.text(),
      origin: r.headers.get('access-control-allow-origin'),
    }));
  const burst = await Promise.all(Array.from({ length: 25 }, post));
  // The bucket holds the burst (10), and no time passes on its clock while the 25 are answered.
  expect(burst.map((a) => a.status).sort()).toEqual([...Array(10).fill(202), ...Array(15).fill(429)]);
  expect(burst.find((a) => a.status === 429)).toEqual({
    status: 429,
    body: '{"message":"Too Many Requests"}',
    origin: 'https://ops.example.com',
  });
  // A throttled call ran neither the authorizer nor the function.
  expect(invoked.filter((fn) => fn === 'BroadcastFunction').length).toBe(10);
  expect(invoked.filter((fn) => fn === 'BroadcastAuthorizerFunction').length).toBe(10);
  // One second on, the rate (5/s) has put back 5 tokens: 5 of 8 more get through.
  clock += 1000;
  const refilled = await Promise.all(Array.from({ length: 8 }, post));
  expect(refilled.map((a) => a.status).sort()).toEqual([...Array(5).fill(202), ...Array(3).fill(429)]);
  expect(invoked.filter((fn) => fn === 'BroadcastFunction').length).toBe(15);
  // The other method has its own bucket.
  const other = await fetch(`${base}/broadcast`, { method: 'POST', body: '{"message":"hi"}' });
  expect(other.status).toBe(202);
});
