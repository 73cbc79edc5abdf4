/**
 * A development OpenID Connect issuer, so that AuthMode=oidc and AuthMode=cognito run without AWS or an identity
 * provider: discovery, a JWKS (one RS256 key made at start), an authorization endpoint good enough for the
 * authorization-code flow with PKCE (it asks for a name, nothing else), a token endpoint, and a development shortcut
 * `GET /dev-oidc/token?username=alice[&groups=admins]` that returns tokens for any name.
 *
 * For AuthMode=cognito it plays the user pool: tokens carry Cognito's claims (`token_use`, `cognito:username`,
 * `cognito:groups`, `client_id`) and Cognito's issuer `https://cognito-idp.<region>.amazonaws.com/<poolId>`; the
 * authorizer fetches that issuer's JWKS from here through AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER.
 * Everything here is for development: anyone who can reach the port can sign in as anyone.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

export type IssuerFlavour = 'oidc' | 'cognito';

export interface DevIssuerOptions {
  flavour: IssuerFlavour;
  region: string;
  host?: string;
  /** 0 (default) = any free port. */
  port?: number;
  /** Lifetime of issued tokens, in seconds (default 3600). */
  ttlSeconds?: number;
}

export interface DevIssuer {
  /** Where this server listens, e.g. http://127.0.0.1:41234. */
  url: string;
  /** The `iss` of its tokens: `<url>/dev-oidc`, or the Cognito issuer URL for the cognito flavour. */
  issuer: string;
  /** Where a browser or client finds the discovery document (`<discovery>/.well-known/openid-configuration`). */
  discoveryBase: string;
  clientId: string;
  /** The user pool id the cognito flavour stands in for. */
  userPoolId: string;
  /** Template parameters that point the stack's authorizer at this issuer. */
  parameters: Record<string, string>;
  /** Environment for the functions: the Cognito endpoint override (cognito flavour only). */
  environment: Record<string, string>;
  /** What the web page needs to sign in (served in /config.json): mode, discovery base, client id. */
  webConfig: { mode: IssuerFlavour; issuer: string; clientId: string };
  /** What a page that signs in here fetches: the discovery document and the token endpoint. */
  signInEndpoints: string[];
  mint(username: string, options?: MintOptions): Promise<{ idToken: string; accessToken: string }>;
  /** Signs any claims with the issuer's key (tests build wrong tokens with it); `kid` overrides the key id. */
  sign(claims: Record<string, unknown>, header?: { kid?: string }): Promise<string>;
  /** The issuer's public key as a JWK (with its kid). */
  publicJwk: JWK;
  close(): Promise<void>;
}

export interface MintOptions {
  groups?: string[];
  ttlSeconds?: number;
}

const CLIENT_ID = 'roomcastLocalClient';
const PREFIX = '/dev-oidc';
const CODE_TTL_MS = 60_000;
const CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': 'Content-Type' };

interface PendingCode {
  username: string;
  groups: string[];
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce?: string;
  expires: number;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': typeof body === 'string' ? 'text/html; charset=utf-8' : 'application/json',
    'Cache-Control': 'no-store',
    ...CORS,
    ...headers,
  });
  res.end(text);
}

const oauthError = (res: ServerResponse, error: string, description: string, status = 400) =>
  send(res, status, { error, error_description: description });

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16_384) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const USERNAME = /^[^\p{Cc}]{1,32}$/u;

/** The OpenID discovery document of an issuer served at `url`, its keys under `discoveryBase`. */
function discoveryDocument(issuer: string, url: string, discoveryBase: string) {
  return {
    issuer,
    authorization_endpoint: `${url}${PREFIX}/authorize`,
    token_endpoint: `${url}${PREFIX}/token`,
    jwks_uri: `${discoveryBase}/.well-known/jwks.json`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code'],
    code_challenge_methods_supported: ['S256'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'profile'],
    token_endpoint_auth_methods_supported: ['none'],
  };
}

/** Checks an authorization request; returns the problem, or undefined when it is good. */
function authorizeProblem(q: URLSearchParams): string | undefined {
  if (q.get('response_type') !== 'code') return 'response_type must be code';
  if (q.get('client_id') !== CLIENT_ID) return `client_id must be ${CLIENT_ID}`;
  const redirect = q.get('redirect_uri') ?? '';
  if (!/^https?:\/\//.test(redirect)) return 'redirect_uri must be an http(s) URL';
  if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge'))
    return 'PKCE is required: code_challenge with code_challenge_method=S256';
  return undefined;
}

function signInPage(q: URLSearchParams): string {
  const hidden = [...q.entries()]
    .filter(([name]) => name !== 'username')
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return `<!doctype html><meta charset="utf-8"><title>roomcast development sign-in</title>
<style>body{font:16px system-ui;max-width:24rem;margin:4rem auto}input,button{font:inherit;padding:.4rem}</style>
<h1>Development sign-in</h1><p>Local cloud only: any name signs in, no password.</p>
<form method="post" action="${PREFIX}/authorize">${hidden}
<label>Username <input name="username" required maxlength="32" autofocus></label>
<label>Groups <input name="groups" placeholder="admins"></label>
<button type="submit">Sign in</button></form>`;
}

/** The signing key an issuer makes at start: a private key and its public JWK under a random kid. */
interface SigningKey {
  kid: string;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  jwk: JWK;
}

async function newSigningKey(): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomBytes(8).toString('hex');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

/** Where the issuer answers, and the names its tokens carry. */
interface IssuerAddress {
  url: string;
  issuer: string;
  discoveryBase: string;
  cognito: boolean;
  userPoolId: string;
}

function addressOf(options: DevIssuerOptions, url: string): IssuerAddress {
  const userPoolId = `${options.region}_roomcastLocal`;
  const cognito = options.flavour === 'cognito';
  return {
    url,
    userPoolId,
    cognito,
    issuer: cognito ? `https://cognito-idp.${options.region}.amazonaws.com/${userPoolId}` : `${url}${PREFIX}`,
    discoveryBase: cognito ? `${url}/${userPoolId}` : `${url}${PREFIX}`,
  };
}

/** Mints an id and an access token for a name, with OIDC's claims or, for the cognito flavour, Cognito's. */
function minter(address: IssuerAddress, key: SigningKey, defaultTtl: number) {
  return async (username: string, mintOptions: MintOptions = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (mintOptions.ttlSeconds ?? defaultTtl);
    const groups = mintOptions.groups ?? [];
    const sub = createHash('sha256').update(username).digest('hex').slice(0, 32);
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
        .setIssuer(address.issuer)
        .setSubject(sub)
        .setIssuedAt(now)
        .setExpirationTime(exp)
        .sign(key.privateKey);
    if (address.cognito) {
      const groupClaim = groups.length > 0 ? { 'cognito:groups': groups } : {};
      return {
        idToken: await sign({
          aud: CLIENT_ID,
          token_use: 'id',
          auth_time: now,
          'cognito:username': username,
          ...groupClaim,
        }),
        accessToken: await sign({ client_id: CLIENT_ID, token_use: 'access', username, ...groupClaim }),
      };
    }
    return {
      idToken: await sign({ aud: CLIENT_ID, preferred_username: username, auth_time: now, groups }),
      accessToken: await sign({ aud: CLIENT_ID, preferred_username: username, scope: 'openid' }),
    };
  };
}

/** What the request handlers share: the issuer's address and key, its pending codes, and its token answer. */
interface IssuerState {
  address: IssuerAddress;
  jwk: JWK;
  codes: Map<string, PendingCode>;
  tokenResponse(username: string, groups: string[]): Promise<Record<string, unknown>>;
}

const groupsOf = (value: string | null) => (value ?? '').split(',').filter((g) => g !== '');

/** Remembers a one-time code for a signed-in name and sends the browser back to the client with it. */
function redirectWithCode(state: IssuerState, res: ServerResponse, q: URLSearchParams, username: string) {
  const code = randomBytes(24).toString('base64url');
  state.codes.set(code, {
    username,
    groups: groupsOf(q.get('groups')),
    clientId: q.get('client_id') ?? '',
    redirectUri: q.get('redirect_uri') ?? '',
    challenge: q.get('code_challenge') ?? '',
    nonce: q.get('nonce') ?? undefined,
    expires: Date.now() + CODE_TTL_MS,
  });
  const target = new URL(q.get('redirect_uri') ?? '');
  target.searchParams.set('code', code);
  const clientState = q.get('state');
  if (clientState !== null) target.searchParams.set('state', clientState);
  res.writeHead(302, { Location: target.href, 'Cache-Control': 'no-store' });
  res.end();
}

/** The authorization endpoint: a good request with a name is redirected with a code, else asked for a name. */
async function serveAuthorize(
  state: IssuerState,
  req: IncomingMessage,
  res: ServerResponse,
  requestUrl: URL,
) {
  const q = req.method === 'POST' ? await readForm(req) : requestUrl.searchParams;
  const problem = authorizeProblem(q);
  if (problem)
    return send(res, 400, `<!doctype html><p>Bad authorization request: ${escapeHtml(problem)}</p>`);
  const username = q.get('username') ?? q.get('login_hint');
  if (username && USERNAME.test(username)) return redirectWithCode(state, res, q, username);
  return send(res, 200, signInPage(q));
}

/** The token endpoint: a code is exchanged once, by the client it was issued to, with its PKCE verifier. */
async function serveCodeExchange(state: IssuerState, req: IncomingMessage, res: ServerResponse) {
  const form = await readForm(req);
  if (form.get('grant_type') !== 'authorization_code')
    return oauthError(res, 'unsupported_grant_type', 'only authorization_code');
  const code = form.get('code') ?? '';
  const pending = state.codes.get(code);
  state.codes.delete(code); // a code is good once
  if (!pending || pending.expires < Date.now())
    return oauthError(res, 'invalid_grant', 'unknown or expired code');
  if (form.get('client_id') !== pending.clientId || form.get('redirect_uri') !== pending.redirectUri)
    return oauthError(
      res,
      'invalid_grant',
      'client_id or redirect_uri differ from the authorization request',
    );
  const verifier = form.get('code_verifier') ?? '';
  if (createHash('sha256').update(verifier).digest('base64url') !== pending.challenge)
    return oauthError(res, 'invalid_grant', 'code_verifier does not match code_challenge');
  return send(res, 200, await state.tokenResponse(pending.username, pending.groups));
}

/** Routes one request to the discovery document, the keys, the development shortcut or the OAuth endpoints. */
async function handle(state: IssuerState, req: IncomingMessage, res: ServerResponse) {
  const { url, issuer, discoveryBase } = state.address;
  const requestUrl = new URL(req.url ?? '/', url);
  const path = requestUrl.pathname;
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { ...CORS, 'Access-Control-Allow-Methods': 'GET,POST,OPTIONS' });
    return res.end();
  }
  if (path === `${discoveryBase.slice(url.length)}/.well-known/openid-configuration`)
    return send(res, 200, discoveryDocument(issuer, url, discoveryBase));
  if (path === `${discoveryBase.slice(url.length)}/.well-known/jwks.json`)
    return send(res, 200, { keys: [state.jwk] });
  if (path === `${PREFIX}/token` && req.method === 'GET') {
    const username = requestUrl.searchParams.get('username') ?? '';
    if (!USERNAME.test(username))
      return oauthError(res, 'invalid_request', 'username must be 1-32 characters');
    return send(
      res,
      200,
      await state.tokenResponse(username, groupsOf(requestUrl.searchParams.get('groups'))),
    );
  }
  if (path === `${PREFIX}/authorize`) return serveAuthorize(state, req, res, requestUrl);
  if (path === `${PREFIX}/token` && req.method === 'POST') return serveCodeExchange(state, req, res);
  return send(res, 404, { error: 'not_found' });
}

async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}

export async function startDevIssuer(options: DevIssuerOptions): Promise<DevIssuer> {
  const host = options.host ?? '127.0.0.1';
  const key = await newSigningKey();
  const ttl = options.ttlSeconds ?? 3600;
  // Set once the port is known, before any request can be read (no await lies between).
  let state: IssuerState | undefined;
  const server: Server = createServer((req, res) => {
    handle(state as IssuerState, req, res).catch(() => {
      if (!res.headersSent) oauthError(res, 'server_error', 'the development issuer failed', 500);
    });
  });
  const address = addressOf(options, await listen(server, options.port ?? 0, host));
  const { url, issuer, discoveryBase, cognito, userPoolId } = address;
  const mint = minter(address, key, ttl);
  state = {
    address,
    jwk: key.jwk,
    codes: new Map(),
    tokenResponse: async (username, groups) => {
      const { idToken, accessToken } = await mint(username, { groups });
      return { id_token: idToken, access_token: accessToken, token_type: 'Bearer', expires_in: ttl };
    },
  };
  return {
    url,
    issuer,
    discoveryBase,
    clientId: CLIENT_ID,
    userPoolId,
    parameters: cognito
      ? { CognitoUserPoolId: userPoolId, CognitoUserPoolClientId: CLIENT_ID }
      : { OidcIssuer: issuer, OidcAudience: CLIENT_ID },
    environment: cognito ? { AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: url } : {},
    webConfig: { mode: options.flavour, issuer: discoveryBase, clientId: CLIENT_ID },
    signInEndpoints: [
      `${discoveryBase}/.well-known/openid-configuration`,
      discoveryDocument(issuer, url, discoveryBase).token_endpoint,
    ],
    mint,
    sign: (claims, header = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: header.kid ?? key.kid, typ: 'JWT' })
        .sign(key.privateKey),
    publicJwk: key.jwk,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The issuer a template needs: with AuthMode oidc or cognito, a fresh one on a free port; otherwise none. */
export async function devIssuerFor(
  template: { parameter(name: string): string | string[]; region: string },
  host: string,
): Promise<DevIssuer | undefined> {
  let mode: string | string[];
  try {
    mode = template.parameter('AuthMode');
  } catch {
    return undefined;
  }
  if (mode !== 'oidc' && mode !== 'cognito') return undefined;
  return startDevIssuer({ flavour: mode, region: template.region, host });
}
