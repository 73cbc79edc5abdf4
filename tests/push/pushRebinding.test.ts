import { createECDH, randomBytes } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { type AddressInfo, createServer, type Server } from 'node:net';
import webpush from 'web-push';
import { type Lookup, publicOnly, WebPushSender } from '#push/webPush';

/**
 * A push subscription's endpoint is checked when it is stored (subscription.ts), but a name's DNS answer may change
 * afterwards (DNS rebinding): the push function resolves the name again when it connects, and a name answering with
 * a loopback, private or link-local address gets no connection at all. Here a name "resolves" (an injected resolver,
 * as DNS would answer) to 127.0.0.1, where a TCP server counts the connections it is offered: a push to it is not
 * sent and the server sees nothing.
 */
const vapid = webpush.generateVAPIDKeys();
const keys = async () => ({ ...vapid, subject: 'mailto:ops@example.com' });
const ecdh = createECDH('prime256v1');
ecdh.generateKeys();
const subscriptionKeys = {
  p256dh: ecdh.getPublicKey().toString('base64url'),
  auth: randomBytes(16).toString('base64url'),
};
const payload = {
  type: 'push',
  reason: 'mention',
  roomId: 'ABCDEFGH',
  seq: 1,
  username: 'bob',
  text: 'hi',
} as const;
const options = { topic: 'room', ttlSeconds: 60 };

let server: Server;
let port = 0;
let connections = 0;
beforeAll(async () => {
  server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  connections = 0;
});

/** A resolver that answers `addresses` for every name, as a rebinding DNS server would. */
const answering =
  (...addresses: LookupAddress[]): Lookup =>
  (_host, _options, callback) =>
    callback(null, addresses);

it.each([
  ['loopback', [{ address: '127.0.0.1', family: 4 }]],
  [
    'a public address and a loopback one',
    [
      { address: '8.8.8.8', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ],
  ],
  ['the IPv6 loopback', [{ address: '::1', family: 6 }]],
  ['a mapped IPv4 loopback', [{ address: '::ffff:127.0.0.1', family: 6 }]],
])('sends no push to a public-looking name that resolves to %s at send time', async (_name, addresses) => {
  const sender = new WebPushSender(keys, { lookup: answering(...(addresses as LookupAddress[])) });
  const outcome = await sender.send(
    { endpoint: `https://push.example.com:${port}/send/abc`, keys: subscriptionKeys },
    payload,
    options,
  );
  expect(outcome).toBe('failed');
  expect(connections).toBe(0);
});

it('refuses a stored endpoint naming an internal host even though it was stored (no DNS needed)', async () => {
  const sender = new WebPushSender(keys, { lookup: answering({ address: '8.8.8.8', family: 4 }) });
  const outcome = await sender.send(
    { endpoint: `https://127.0.0.1:${port}/send/abc`, keys: subscriptionKeys },
    payload,
    options,
  );
  expect(outcome).toBe('failed');
  expect(connections).toBe(0);
});

it("reaches the local cloud's stand-in, the one origin set as allowed, on 127.0.0.1", async () => {
  const standIn = `http://127.0.0.1:${port}`;
  const sender = new WebPushSender(keys, { localPushService: standIn, lookup: answering() });
  // The TCP server closes the socket: the push fails, but only after the connection was made.
  expect(await sender.send({ endpoint: `${standIn}/push/x`, keys: subscriptionKeys }, payload, options)).toBe(
    'failed',
  );
  expect(connections).toBe(1);
});

it('passes a name whose every address is public on, in the form net.connect asks for', async () => {
  const lookup = publicOnly(
    answering({ address: '8.8.8.8', family: 4 }, { address: '2001:4860::8888', family: 6 }),
  );
  const all = await new Promise((resolve, reject) =>
    lookup('push.example.com', { all: true }, (error, address) => (error ? reject(error) : resolve(address))),
  );
  expect(all).toEqual([
    { address: '8.8.8.8', family: 4 },
    { address: '2001:4860::8888', family: 6 },
  ]);
  const one = await new Promise((resolve, reject) =>
    lookup('push.example.com', {}, (error, address, family) =>
      error ? reject(error) : resolve([address, family]),
    ),
  );
  expect(one).toEqual(['8.8.8.8', 4]);
  const refused = await new Promise<Error | null>((resolve) =>
    publicOnly(answering({ address: '169.254.169.254', family: 4 }))('metadata.example.com', {}, (error) =>
      resolve(error),
    ),
  );
  expect(refused?.message).toMatch(/169\.254\.169\.254, an internal address/);
});
