import { createPublicKey } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { BadRequest } from '#core/errors';
import { PUSH_LIMITS, type PushSubscriptionJson } from '#protocol';

/**
 * What a stored push subscription may be. The endpoint is a URL the push function will POST to, so a subscription
 * is a request to make the server call a URL: it must be https (RFC 8030 requires it of push services) and name no
 * loopback, private, link-local or otherwise internal address, or it would point our requests inside the network.
 * The keys are those RFC 8291 encrypts with: a P-256 point and a 16-byte secret. Anything else is refused with a
 * sentence saying why, and nothing is stored.
 */

/** Host names that are never a public push service. */
const INTERNAL_NAMES = /(^|\.)(localhost|local|internal|home\.arpa|localdomain)$/i;

/**
 * Whether `host` (a URL's hostname, IPv6 in brackets) is an internal name or a non-public address: an address is
 * public only in ipaddr.js's `unicast` range, so every special-purpose block of the IANA registries (RFC 6890:
 * private, loopback, link-local with the EC2/Lambda metadata address, CGNAT, documentation, benchmarking, multicast,
 * reserved; IPv6 unique local, NAT64, 6to4, Teredo) is refused, an IPv4-mapped IPv6 address judged as its IPv4 one.
 * The IPv4-compatible block `::/96` (deprecated by RFC 4291 §2.5.5.1, which no push service uses) is refused whole:
 * ipaddr.js calls `::7f00:1` (how a URL writes `[::127.0.0.1]`) unicast, though it names the IPv4 loopback.
 */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

export function isInternalHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (ipaddr.isValid(bare)) {
    // Written as the URL standard writes it (`::8.8.8.8` → `::808:808`): ipaddr.js reads a dotted tail as mapped.
    const address = ipaddr.parse(
      bare.includes(':') ? new URL(`http://[${bare}]`).hostname.slice(1, -1) : bare,
    );
    if (address.kind() === 'ipv6' && address.match(IPV4_COMPATIBLE)) return true;
    return ipaddr.process(bare).range() !== 'unicast';
  }
  return INTERNAL_NAMES.test(bare.replace(/\.$/, ''));
}

const fromBase64Url = (value: string): Buffer | undefined =>
  /^[A-Za-z0-9_-]+={0,2}$/.test(value) ? Buffer.from(value, 'base64url') : undefined;

/** Whether `key` is an uncompressed point on P-256 (the browser's public key, RFC 8291). */
function isP256Point(key: Buffer): boolean {
  if (key.length !== 65 || key[0] !== 0x04) return false;
  try {
    createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: key.subarray(1, 33).toString('base64url'),
        y: key.subarray(33).toString('base64url'),
      },
      format: 'jwk',
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * The endpoint's URL when a push may be sent to it: https on a public host, or exactly the local cloud's push
 * service stand-in (`localPushService`, an origin the local cloud alone sets; never on AWS).
 */
export function checkEndpoint(endpoint: unknown, localPushService?: string): URL {
  if (typeof endpoint !== 'string' || endpoint === '')
    throw new BadRequest('"subscription.endpoint" must be the push service URL the browser gave.');
  if (endpoint.length > PUSH_LIMITS.endpointMaxChars)
    throw new BadRequest(
      `"subscription.endpoint" is longer than ${PUSH_LIMITS.endpointMaxChars} characters.`,
    );
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new BadRequest('"subscription.endpoint" is not a URL.');
  }
  if (localPushService !== undefined && localPushService !== '' && url.origin === localPushService)
    return url;
  if (url.protocol !== 'https:')
    throw new BadRequest(
      '"subscription.endpoint" must be an https URL: push services are reached over https only.',
    );
  if (url.username !== '' || url.password !== '')
    throw new BadRequest('"subscription.endpoint" must not carry a user name or password.');
  if (isInternalHost(url.hostname))
    throw new BadRequest(
      '"subscription.endpoint" points at a private, loopback or internal address: only a public push service is allowed.',
    );
  return url;
}

/** A subscription as `PushSubscription.toJSON()` gives it, checked; anything else is refused, naming what is wrong. */
export function parseSubscription(value: unknown, localPushService?: string): PushSubscriptionJson {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new BadRequest('"subscription" must be the object PushSubscription.toJSON() gives.');
  const { endpoint, keys } = value as { endpoint?: unknown; keys?: unknown };
  const url = checkEndpoint(endpoint, localPushService);
  if (typeof keys !== 'object' || keys === null)
    throw new BadRequest('"subscription.keys" must hold "p256dh" and "auth".');
  const { p256dh, auth } = keys as { p256dh?: unknown; auth?: unknown };
  const point = typeof p256dh === 'string' ? fromBase64Url(p256dh) : undefined;
  if (!point || !isP256Point(point))
    throw new BadRequest(
      '"subscription.keys.p256dh" must be an uncompressed P-256 public key, base64url (65 bytes).',
    );
  const secret = typeof auth === 'string' ? fromBase64Url(auth) : undefined;
  if (secret?.length !== 16)
    throw new BadRequest('"subscription.keys.auth" must be a 16-byte secret, base64url.');
  return { endpoint: url.href, keys: { p256dh: p256dh as string, auth: auth as string } };
}
