// A Web Push service stand-in for the local cloud (127.0.0.1 only): what a browser's push service and the browser
// together do with a push, so a test sees what a browser would show. `subscribe` plays the browser's
// PushManager.subscribe (a P-256 key pair and an auth secret kept here, an endpoint on this server); a POST to the
// endpoint is checked as a push service checks it (RFC 8030: TTL; RFC 8292: the VAPID JWT, ES256 against the key the
// subscription was made with, `aud` this origin, `exp` within 24 h) and decrypted as the browser decrypts it
// (RFC 8291, aes128gcm: ECDH P-256, HKDF-SHA-256, AES-128-GCM), with node:crypto alone. 201 Created when accepted;
// 404 for an unknown endpoint, 410 Gone for one marked dead (a browser that unsubscribed), 400/401/403 as RFC 8030
// and RFC 8292 say for a malformed, unsigned or wrongly signed push.
import {
  createDecipheriv,
  createECDH,
  createHmac,
  createPublicKey,
  randomBytes,
  randomUUID,
  verify,
} from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** A push the stand-in accepted, as the browser would hand it to its service worker. */
export interface ReceivedPush {
  endpoint: string;
  /** The decrypted payload, parsed as JSON when it is JSON. */
  payload: unknown;
  ttl: number;
  urgency?: string;
  topic?: string;
  /** The VAPID JWT's claims. */
  claims: Record<string, unknown>;
}

export interface RefusedPush {
  endpoint: string;
  status: number;
  reason: string;
}

/** One push as it arrived, accepted (201, with its decrypted text) or refused (with the reason): what a person watches. */
export interface ObservedPush {
  endpoint: string;
  status: number;
  /** The request body's size in bytes, as sent (encrypted). */
  size: number;
  /** The decrypted payload's text, when the push was accepted. */
  text?: string;
  reason?: string;
}

/** What a running cloud adds to the stand-in: each push told as it arrives, and pages served on its GET paths. */
export interface StandInWatch {
  observe(push: ObservedPush): void;
  /** Answers a GET it serves (true), or leaves the request to the push endpoints (false). */
  serve(req: IncomingMessage, res: ServerResponse): boolean;
}

export interface PushServiceStandIn {
  /** This server's origin, e.g. http://127.0.0.1:41234: the `aud` a VAPID JWT must name. */
  origin: string;
  /** A browser's subscription made with `applicationServerKey` (the server's VAPID public key, base64url). */
  subscribe(applicationServerKey: string): StandInSubscription;
  /** From now on the endpoint answers 410 Gone, as after the browser unsubscribed. */
  markGone(endpoint: string): void;
  received: ReceivedPush[];
  refused: RefusedPush[];
  close(): Promise<void>;
}

interface Held {
  ecdh: ReturnType<typeof createECDH>;
  publicKey: Buffer;
  auth: Buffer;
  serverKey: string;
  gone: boolean;
}

const b64u = (buffer: Buffer) => buffer.toString('base64url');
const hmac = (key: Buffer, data: Buffer) => createHmac('sha256', key).update(data).digest();
/** HKDF-Expand to at most 32 bytes (one block), as RFC 8291's lengths all are. */
const expand = (prk: Buffer, info: Buffer, length: number) =>
  hmac(prk, Buffer.concat([info, Buffer.from([1])])).subarray(0, length);

/** A P-256 public key (uncompressed point) as a KeyObject. */
function p256(point: Buffer) {
  return createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64u(point.subarray(1, 33)), y: b64u(point.subarray(33, 65)) },
    format: 'jwk',
  });
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** RFC 8292 §3: `vapid t=<JWT>, k=<key>`; the JWT checked with k, and k the subscription's server key. */
function checkVapid(header: string | undefined, held: Held, origin: string): Record<string, unknown> {
  const match = /^vapid\s+(.+)$/i.exec(header ?? '');
  if (!match?.[1]) throw new Refusal(401, 'no VAPID Authorization header');
  const params = Object.fromEntries(
    match[1].split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()];
    }),
  ) as { t?: string; k?: string };
  if (!params.t || !params.k) throw new Refusal(401, 'the VAPID header needs t and k');
  if (params.k !== held.serverKey) throw new Refusal(403, 'k is not the key the subscription was made with');
  const [head, body, signature] = params.t.split('.');
  if (!head || !body || !signature) throw new Refusal(401, 'the VAPID token is not a JWT');
  const header64 = JSON.parse(Buffer.from(head, 'base64url').toString()) as { alg?: string };
  if (header64.alg !== 'ES256') throw new Refusal(401, `the VAPID JWT is ${header64.alg}, not ES256`);
  const signed = verify(
    'sha256',
    Buffer.from(`${head}.${body}`),
    { key: p256(Buffer.from(params.k, 'base64url')), dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  if (!signed) throw new Refusal(401, 'the VAPID JWT signature does not verify');
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
  if (claims.aud !== origin)
    throw new Refusal(401, `the VAPID JWT's aud ${String(claims.aud)} is not ${origin}`);
  const now = Date.now() / 1000;
  if (typeof claims.exp !== 'number' || claims.exp <= now || claims.exp > now + 86_400)
    throw new Refusal(401, "the VAPID JWT's exp is not within the next 24 hours");
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub))
    throw new Refusal(401, "the VAPID JWT's sub is not a mailto: or https: contact");
  return claims;
}

/** RFC 8291 §3.4 and RFC 8188: one aes128gcm record, decrypted with the browser's key and auth secret. */
function decrypt(body: Buffer, held: Held): Buffer {
  if (body.length < 21 + 65 + 17) throw new Refusal(400, 'the body is shorter than an aes128gcm record');
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const idLength = body[20] ?? 0;
  if (idLength !== 65) throw new Refusal(400, 'the keyid is not the sender public key (65 bytes)');
  const senderKey = body.subarray(21, 21 + idLength);
  const ciphertext = body.subarray(21 + idLength);
  if (ciphertext.length > recordSize) throw new Refusal(400, 'more than one record: a push is one record');
  const secret = held.ecdh.computeSecret(senderKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), held.publicKey, senderKey]);
  const ikm = expand(hmac(held.auth, secret), keyInfo, 32);
  const prk = hmac(salt, ikm);
  const cek = expand(prk, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
  const nonce = expand(prk, Buffer.from('Content-Encoding: nonce\0'), 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  let plain: Buffer;
  try {
    plain = Buffer.concat([
      decipher.update(ciphertext.subarray(0, ciphertext.length - 16)),
      decipher.final(),
    ]);
  } catch {
    throw new Refusal(400, 'the payload does not decrypt with the subscription keys');
  }
  // The last record ends with the delimiter 0x02 and zero padding (RFC 8188 §2).
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  if (plain[end] !== 2) throw new Refusal(400, 'the record has no last-record delimiter');
  return plain.subarray(0, end);
}

export async function startPushServiceStandIn(
  host = '127.0.0.1',
  watch?: StandInWatch,
): Promise<PushServiceStandIn> {
  const held = new Map<string, Held>();
  const received: ReceivedPush[] = [];
  const refused: RefusedPush[] = [];
  let origin = '';

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const endpoint = `${origin}${req.url ?? ''}`;
    const answer = (status: number, reason = '') => {
      if (status >= 400) {
        refused.push({ endpoint, status, reason });
        watch?.observe({ endpoint, status, size: body.length, reason });
      }
      res.writeHead(status, { 'content-type': 'text/plain' }).end(reason);
    };
    const id = /^\/push\/([\w-]+)$/.exec(req.url ?? '')?.[1];
    const sub = id === undefined ? undefined : held.get(id);
    if (req.method !== 'POST' || !sub) return answer(404, 'no such subscription');
    if (sub.gone) return answer(410, 'the subscription is gone');
    try {
      const ttl = Number(req.headers.ttl);
      if (req.headers.ttl === undefined || !Number.isInteger(ttl) || ttl < 0)
        throw new Refusal(400, 'a push needs a TTL header (RFC 8030 §5.2)');
      const claims = checkVapid(req.headers.authorization, sub, origin);
      if (req.headers['content-encoding'] !== 'aes128gcm')
        throw new Refusal(415, 'the payload must be aes128gcm (RFC 8291)');
      const text = decrypt(body, sub).toString('utf8');
      let payload: unknown = text;
      try {
        payload = JSON.parse(text);
      } catch {
        // Not JSON: shown as text.
      }
      received.push({
        endpoint,
        payload,
        ttl,
        ...(typeof req.headers.urgency === 'string' && { urgency: req.headers.urgency }),
        ...(typeof req.headers.topic === 'string' && { topic: req.headers.topic }),
        claims,
      });
      watch?.observe({ endpoint, status: 201, size: body.length, text });
      res.writeHead(201, { location: `${origin}/message/${randomUUID()}` }).end();
    } catch (error) {
      if (error instanceof Refusal) return answer(error.status, error.message);
      answer(400, (error as Error).message);
    }
  };

  const server = createServer((req, res) => {
    if (req.method === 'GET' && watch?.serve(req, res)) return;
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // A push service takes at least 4096 bytes of payload (RFC 8030 §7.2); this one takes no more.
      if (size <= 4096 + 128) chunks.push(chunk);
    });
    req.on('end', () =>
      size > 4096 + 128
        ? res.writeHead(413).end('payload too large')
        : handle(req, res, Buffer.concat(chunks)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  origin = `http://${host}:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    received,
    refused,
    subscribe(applicationServerKey) {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const id = randomUUID();
      const publicKey = ecdh.getPublicKey();
      const auth = randomBytes(16);
      held.set(id, { ecdh, publicKey, auth, serverKey: applicationServerKey, gone: false });
      return { endpoint: `${origin}/push/${id}`, keys: { p256dh: b64u(publicKey), auth: b64u(auth) } };
    },
    markGone(endpoint) {
      const id = endpoint.slice(endpoint.lastIndexOf('/') + 1);
      const sub = held.get(id);
      if (sub) sub.gone = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
