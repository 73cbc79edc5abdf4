import { createECDH, randomBytes } from 'node:crypto';
import { isInternalHost, parseSubscription } from '#push/subscription';

/**
 * What a push subscription may be (functions/push/subscription.ts): the push function will POST to its endpoint, so
 * only a public https push service is taken; its keys must be what RFC 8291 encrypts with. Each refusal names what
 * is wrong; the local cloud's own stand-in is the one plain-http endpoint allowed, and only where it is set.
 */
const ecdh = createECDH('prime256v1');
ecdh.generateKeys();
const keys = {
  p256dh: ecdh.getPublicKey().toString('base64url'),
  auth: randomBytes(16).toString('base64url'),
};
const endpoint = 'https://fcm.googleapis.com/fcm/send/abc:def';

it('takes a browser subscription to a public https push service', () => {
  expect(parseSubscription({ endpoint, keys })).toEqual({ endpoint, keys });
  expect(isInternalHost('updates.push.services.mozilla.com')).toBe(false);
  expect(isInternalHost('8.8.8.8')).toBe(false);
  expect(isInternalHost('[2001:4860:4860::8888]')).toBe(false);
});

it.each([
  '127.0.0.1',
  '10.0.0.1',
  '172.16.5.4',
  '192.168.1.1',
  '169.254.169.254',
  '100.64.0.1',
  '0.0.0.0',
  '[::1]',
  '[::]',
  '[fd00::1]',
  '[fe80::1]',
  '[::ffff:7f00:1]',
  '[::127.0.0.1]',
  '[::a9fe:a9fe]',
  '[::8.8.8.8]',
  '192.0.2.10',
  '198.51.100.7',
  '203.0.113.200',
  '198.18.0.1',
  '[2001:db8::1]',
  '[64:ff9b::a00:1]',
  '[2002:a00:1::1]',
  'localhost',
  'api.localhost',
  'printer.local',
  'db.internal',
])('refuses the internal host %s', (host) => {
  expect(isInternalHost(host)).toBe(true);
  expect(() => parseSubscription({ endpoint: `https://${host}/push`, keys })).toThrow(
    /private, loopback or internal address/,
  );
});

it('refuses a non-https endpoint, credentials in it, and a malformed one', () => {
  expect(() => parseSubscription({ endpoint: 'http://push.example.com/x', keys })).toThrow(/https URL/);
  expect(() => parseSubscription({ endpoint: 'https://u:p@push.example.com/x', keys })).toThrow(/user name/);
  expect(() => parseSubscription({ endpoint: 'not a url', keys })).toThrow(/not a URL/);
  expect(() => parseSubscription({ endpoint: `https://a.example/${'x'.repeat(1100)}`, keys })).toThrow(
    /longer/,
  );
  expect(() => parseSubscription('a string')).toThrow(/toJSON/);
});

it('refuses keys that are not a P-256 point and a 16-byte secret', () => {
  const offCurve = Buffer.alloc(65, 1);
  offCurve[0] = 4;
  for (const p256dh of ['AAAA', offCurve.toString('base64url'), 'not base64!', 42])
    expect(() => parseSubscription({ endpoint, keys: { ...keys, p256dh } })).toThrow(/p256dh/);
  for (const auth of [randomBytes(15).toString('base64url'), '', null])
    expect(() => parseSubscription({ endpoint, keys: { ...keys, auth } })).toThrow(/auth/);
  expect(() => parseSubscription({ endpoint })).toThrow(/keys/);
});

it("allows the local cloud's stand-in origin only where it is set", () => {
  const standIn = 'http://127.0.0.1:40000';
  expect(parseSubscription({ endpoint: `${standIn}/push/1`, keys }, standIn).endpoint).toBe(
    `${standIn}/push/1`,
  );
  expect(() => parseSubscription({ endpoint: `${standIn}/push/1`, keys })).toThrow(/https URL/);
  expect(() => parseSubscription({ endpoint: 'http://127.0.0.1:40001/push/1', keys }, standIn)).toThrow(
    /https/,
  );
});
