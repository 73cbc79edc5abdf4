import { createHash } from 'node:crypto';
import { CognitoJwtVerifier, JwtVerifier } from 'aws-jwt-verify';
import { FetchError, JwtBaseError } from 'aws-jwt-verify/error';
import { SimpleFetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { errors as joseErrors, jwtVerify } from 'jose';
import { type Clock, systemClock } from '#platform/clock';

/**
 * Who a connection token says the caller is, for each AuthMode. Every check is a kept library's: `jose` for the
 * HS256 shared-secret tokens of AuthMode=token, `aws-jwt-verify` (signature against the issuer's JWKS, fetched once
 * and cached per runtime, plus issuer, audience, expiry and not-before) for Cognito and any OIDC provider.
 */

/**
 * Clock skew tolerated between a token's issuer and this function, in seconds.
 * Exported for tests: tests mint a token just past the leeway.
 */
export const CLOCK_LEEWAY_SECONDS = 30;

export interface Identity {
  /** The chat name the token claims: checked against the protocol's username rules at $connect. */
  username: string;
  /** The issuer's stable id of the user (`sub`), the authorizer's principalId. */
  subject: string;
  /** The token's `iss`; empty for a token of AuthMode=token without one (the stack's own secret issued it). */
  issuer: string;
  /** The user's groups: `cognito:groups` for Cognito, the configured groups claim for OIDC; empty if none. */
  groups: string[];
}

/** Why a token was refused; the reason goes to the log, never to the client. */
export class InvalidToken extends Error {
  constructor(readonly reason: string) {
    super(`invalid token: ${reason}`);
    this.name = 'InvalidToken';
  }
}

export type VerifyToken = (token: string) => Promise<Identity>;

type Claims = Record<string, unknown>;

const text = (claims: Claims, name: string) => {
  const value = claims[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/**
 * The identity a token's claims name, else InvalidToken. `sub` is required in every mode and `iss` where an
 * outside issuer signs (`issuerRequired`): (`iss`, `sub`) is the member's id, and a display name standing in for a
 * missing `sub` would let anyone who picks the name `u-123` act as the user whose `sub` is `u-123`. The name is the
 * first of `names` present as a non-empty string; groups come from the `groupsClaim` list.
 */
function identityFrom(
  claims: Claims,
  names: string[],
  { groupsClaim = 'cognito:groups', issuerRequired = true } = {},
): Identity {
  // aws-jwt-verify checks exp only when present; a token that never expires is refused here.
  if (typeof claims.exp !== 'number') throw new InvalidToken('no exp claim');
  const subject = text(claims, 'sub');
  if (subject === undefined) throw new InvalidToken('no sub claim');
  const issuer = text(claims, 'iss');
  if (issuer === undefined && issuerRequired) throw new InvalidToken('no iss claim');
  const username = names.map((name) => text(claims, name)).find((v) => v !== undefined);
  if (username === undefined) throw new InvalidToken(`no ${names.join(' or ')} claim`);
  const groups = claims[groupsClaim];
  return {
    username,
    subject,
    issuer: issuer ?? '',
    groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [],
  };
}

/**
 * AuthMode=token: an HS256 JWT signed with the shared secret; `exp` and `sub` required, `username` else `sub`. Expiry and
 * not-before are checked against `clock`, the functions' one clock.
 */
export function sharedSecretVerifier(secret: () => Promise<string>, clock: Clock = systemClock): VerifyToken {
  return async (token) => {
    const key = new TextEncoder().encode(await secret());
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        requiredClaims: ['exp'],
        clockTolerance: CLOCK_LEEWAY_SECONDS,
        currentDate: clock(),
      });
      // The stack's own secret signed it: `iss` is optional (the stack is the issuer), `sub` is not.
      return identityFrom(payload, ['username', 'sub'], { issuerRequired: false });
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) throw new InvalidToken(`${error.code}: ${error.message}`);
      throw error;
    }
  };
}

/**
 * Fetches JWKS documents with the library's own HTTPS fetcher. Two local-cloud allowances, both off on AWS:
 * `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER` (the SDK's standard endpoint variable for Cognito user pools) moves
 * `https://cognito-idp.<region>.amazonaws.com` to that endpoint, and a plain-http URL is fetched only on a loopback
 * host (the local development issuer). Any other http URL is refused.
 */
/** How long a loopback JWKS fetch may take (below). */
const LOOPBACK_JWKS_TIMEOUT_MS = 8000;

class JwksFetcher {
  private readonly https = new SimpleFetcher();

  constructor(private readonly cognitoEndpoint = process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER) {}

  async fetch(uri: string): Promise<ArrayBuffer> {
    let url = new URL(uri);
    if (this.cognitoEndpoint && /^(issuer-)?cognito-idp\.[^.]+\.amazonaws\.com$/.test(url.hostname)) {
      url = new URL(url.pathname.replace(/^\//, ''), `${this.cognitoEndpoint.replace(/\/?$/, '/')}`);
    }
    if (url.protocol === 'https:') return this.https.fetch(url.href);
    if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
      throw new FetchError(url.href, 'JWKS must be fetched over https');
    }
    // Within the functions' 10 s timeout (template Globals) with time left to answer: the local issuer runs in the
    // cloud's own process, which a busy machine can hold for seconds, and a JWKS not fetched fails the request (500).
    const response = await fetch(url, { signal: AbortSignal.timeout(LOOPBACK_JWKS_TIMEOUT_MS) });
    if (response.status !== 200) throw new FetchError(url.href, `status ${response.status}, expected 200`);
    return response.arrayBuffer();
  }
}

/** aws-jwt-verify's errors about the token (not about fetching the JWKS) become InvalidToken. */
async function refusing<T>(verify: () => Promise<T>): Promise<T> {
  try {
    return await verify();
  } catch (error) {
    // A JWKS that cannot be fetched is our outage, not a bad token: let it fail the invocation (500).
    if (error instanceof FetchError) throw error;
    if (error instanceof JwtBaseError) throw new InvalidToken(error.message);
    throw error;
  }
}

/**
 * AuthMode=cognito: an ID or access token of the user pool, for the app client. The name is `cognito:username`
 * (ID token) or `username` (access token).
 */
export function cognitoVerifier(userPoolId: string, clientId: string): VerifyToken {
  const verifier = CognitoJwtVerifier.create(
    { userPoolId, clientId, tokenUse: null, graceSeconds: CLOCK_LEEWAY_SECONDS },
    { jwksCache: new SimpleJwksCache({ fetcher: new JwksFetcher() }) },
  );
  return async (token) => {
    const claims = await refusing(() => verifier.verify(token));
    return identityFrom(claims as unknown as Claims, ['cognito:username', 'username']);
  };
}

/**
 * AuthMode=oidc: a token of any OIDC provider for `audience`; the name is `preferred_username`, else `sub`, and the
 * groups are the strings of the `groupsClaim` list (providers name it differently: `groups`, `roles`, ...).
 */
export function oidcVerifier(
  issuer: string,
  audience: string,
  jwksUri?: string,
  groupsClaim = 'groups',
): VerifyToken {
  const verifier = JwtVerifier.create(
    { issuer, audience, graceSeconds: CLOCK_LEEWAY_SECONDS, ...(jwksUri && { jwksUri }) },
    { jwksCache: new SimpleJwksCache({ fetcher: new JwksFetcher() }) },
  );
  return async (token) => {
    const claims = await refusing(() => verifier.verify(token));
    return identityFrom(claims as unknown as Claims, ['preferred_username', 'sub'], { groupsClaim });
  };
}

/**
 * A member's stable, unique id in the token modes: (`iss`, `sub`), the only pair OIDC Core (section 5.7) says is
 * stable and unique; a display name (`preferred_username`, `cognito:username`) is neither. Hashed so the id is of
 * fixed length and holds no separator a composite key could confuse: `user:` and 43 base64url characters.
 */
export function userIdOf(identity: Pick<Identity, 'issuer' | 'subject'>): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([identity.issuer, identity.subject]))
    .digest();
  return `user:${digest.toString('base64url')}`;
}

/** An authorizer's answer: allow or deny `execute-api:Invoke` on the method, with the context the route receives. */
export function invokePolicy(
  effect: 'Allow' | 'Deny',
  methodArn: string,
  principalId: string,
  context?: Record<string, string>,
): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: methodArn }],
    },
    ...(context && { context }),
  };
}
