import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HS256 JSON Web Tokens, verified with node:crypto alone: a library would add more code to the authorizer than
 * the few rules we need, and every rule here is one a weaker verifier gets wrong (alg "none", algorithm confusion,
 * missing expiry, timing leaks).
 */

/** Clock skew tolerated between the token's issuer and this function, in seconds. */
export const CLOCK_LEEWAY_SECONDS = 30;

export interface TokenClaims {
  /** Who connects: the `username` claim, else `sub`. */
  username: string;
  sub?: string;
  exp: number;
  nbf?: number;
  iat?: number;
}

/** Why a token was refused; the reason goes to the log, never to the client. */
export class InvalidToken extends Error {
  constructor(readonly reason: string) {
    super(`invalid token: ${reason}`);
    this.name = 'InvalidToken';
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function decodeJson(part: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidToken(`${what} is not base64url-encoded JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidToken(`${what} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

const optionalNumber = (claims: Record<string, unknown>, name: string): number | undefined => {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidToken(`${name} is not a number`);
  return value;
};

export function hs256(secret: string, signingInput: string): string {
  return createHmac('sha256', secret).update(signingInput).digest('base64url');
}

/** Signs claims as an HS256 JWT (tests and tools; scripts/mint-token.mjs does the same in plain JavaScript). */
export function signToken(claims: Record<string, unknown>, secret: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${header}.${payload}.${hs256(secret, `${header}.${payload}`)}`;
}

/**
 * Verifies an HS256 JWT: exactly three base64url parts, header `alg` exactly "HS256" (so "none", "hs256" or RS256
 * tricks fail before any key is used), a constant-time signature check, then `exp` (required) and `nbf` with
 * CLOCK_LEEWAY_SECONDS, and a string `username` or `sub`.
 */
export function verifyToken(token: string, secret: string, nowSeconds: number): TokenClaims {
  if (secret === '') throw new Error('the token secret is empty');
  const parts = token.split('.');
  if (parts.length !== 3) throw new InvalidToken('not three dot-separated parts');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  if (![headerPart, payloadPart, signaturePart].every((p) => BASE64URL.test(p))) {
    throw new InvalidToken('a part is empty or not base64url');
  }
  const header = decodeJson(headerPart, 'header');
  if (header.alg !== 'HS256') throw new InvalidToken(`algorithm ${JSON.stringify(header.alg)} is not HS256`);
  if (header.crit !== undefined) throw new InvalidToken('critical header extensions are not supported');

  const expected = Buffer.from(hs256(secret, `${headerPart}.${payloadPart}`), 'base64url');
  const actual = Buffer.from(signaturePart, 'base64url');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new InvalidToken('bad signature');
  }

  const claims = decodeJson(payloadPart, 'payload');
  const exp = optionalNumber(claims, 'exp');
  const nbf = optionalNumber(claims, 'nbf');
  const iat = optionalNumber(claims, 'iat');
  if (exp === undefined) throw new InvalidToken('no exp claim');
  if (nowSeconds > exp + CLOCK_LEEWAY_SECONDS) throw new InvalidToken('expired');
  if (nbf !== undefined && nowSeconds + CLOCK_LEEWAY_SECONDS < nbf) throw new InvalidToken('not valid yet');
  const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
  const username = typeof claims.username === 'string' ? claims.username : sub;
  if (username === undefined) throw new InvalidToken('no username or sub claim');
  return {
    username,
    exp,
    ...(sub !== undefined && { sub }),
    ...(nbf !== undefined && { nbf }),
    ...(iat !== undefined && { iat }),
  };
}
