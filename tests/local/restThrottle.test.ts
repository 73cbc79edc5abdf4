import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadTemplate } from '../../tools/infra/template';
import { createRestApi, restRoutes } from '../../tools/local/restApi';
import { templatePath } from '../helpers/localCloud';

/**
 * The REST stage's method throttling on the local cloud, read from the template's `MethodSettings` (docs/PARITY.md,
 * "Admin broadcast from the browser"): a burst of admin broadcasts gets the burst limit through and 429 for the
 * rest, before any authorizer or function runs, with the API's CORS headers so a browser can read the refusal.
 */
const template = loadTemplate(templatePath, {
  parameters: { AuthMode: 'cognito', HostWebChat: 'false' },
  constants: { BroadcastAllowedOrigin: 'https://ops.example.com' },
});
let server: Server;
let base: string;
const invoked: string[] = [];

beforeAll(async () => {
  const api = createRestApi({
    routes: restRoutes(template),
    region: 'us-east-1',
    accountId: '123456789012',
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

it('answers 25 concurrent admin broadcasts with at most the burst accepted and 429 for the rest, running nothing for them', async () => {
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
  const start = Date.now();
  const answers = await Promise.all(Array.from({ length: 25 }, post));
  const seconds = (Date.now() - start) / 1000;
  const accepted = answers.filter((a) => a.status === 202).length;
  const throttled = answers.filter((a) => a.status === 429);
  // 10 at once, and the 5/s refilled while the burst was being answered (a loaded machine answers it slowly).
  expect(accepted).toBeGreaterThanOrEqual(10);
  expect(accepted).toBeLessThanOrEqual(10 + Math.ceil(5 * seconds) + 1);
  expect(throttled.length).toBeGreaterThanOrEqual(25 - 10 - Math.ceil(5 * seconds) - 1);
  expect(throttled.length).toBe(25 - accepted);
  expect(throttled[0]).toEqual({
    status: 429,
    body: '{"message":"Too Many Requests"}',
    origin: 'https://ops.example.com',
  });
  // A throttled call ran neither the authorizer nor the function.
  expect(invoked.filter((fn) => fn === 'BroadcastFunction').length).toBe(accepted);
  expect(invoked.filter((fn) => fn === 'BroadcastAuthorizerFunction').length).toBe(accepted);
  // The other method has its own bucket.
  const other = await fetch(`${base}/broadcast`, { method: 'POST', body: '{"message":"hi"}' });
  expect(other.status).toBe(202);
});
