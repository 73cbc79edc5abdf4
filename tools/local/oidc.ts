/**
 * A development OpenID Connect issuer, so that AuthMode=oidc and AuthMode=cognito run without AWS or an identity
 * provider: discovery, a JWKS (one RS256 key made at start), an authorization endpoint good enough for the
 * authorization-code flow with PKCE (it asks for a name, nothing else), a token endpoint, and a development shortcut
 * `GET /dev-oidc/token?username=alice[&groups=admins]` that returns tokens for any name.
 *
 * It keeps a sign-in session the way Cognito's hosted UI does: a cookie on its own origin, so a second authorization
 * request from the same browser returns with a code without asking (unless `prompt=login`). Only the logout endpoint
 * ends that session: Cognito's `GET /logout?client_id=…&logout_uri=…` (the cognito flavour; Cognito's discovery
 * document names no `end_session_endpoint`), or OpenID Connect RP-Initiated Logout 1.0's `end_session_endpoint`
 * with `post_logout_redirect_uri`, `id_token_hint`/`client_id` and `state` (the oidc flavour, named in discovery).
 *
 * For AuthMode=cognito it plays the user pool: tokens carry Cognito's claims (`token_use`, `cognito:username`,
 * `cognito:groups`, `client_id`) and Cognito's issuer `https://cognito-idp.<region>.amazonaws.com/<poolId>`; the
 * authorizer fetches that issuer's JWKS from here through AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER.
 * Everything here is for development: anyone who can reach the port can sign in as anyone.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { generateKeyPair, JWK, SignJWT } from 'jose';

export type IssuerFlavour = 'oidc' | 'cognito';

export interface DevIssuerOptions {
  flavour: IssuerFlavour;
  region: string;
  host?: string;
  /** 0 (default) = any free port. */
  port?: number;
  /** Lifetime of issued tokens, in seconds (default 3600). */
  ttlSeconds?: number;
  /** The stack's admin group, passed on to the page in `webConfig`. */
  adminGroup?: string;
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
  /**
   * What the web page needs to sign in and out (served in /config.json): mode, discovery base, client id, and the
   * group whose members the page offers the admin broadcast page (the stack's AdminGroupName).
   */
  webConfig: { mode: IssuerFlavour; issuer: string; clientId: string; adminGroup?: string };
  /**
   * What a page that signs in here fetches: the discovery document, the token endpoint, and the JWKS (whether the
   * issuer still publishes the key of the page's token, web/signin.js signInLapsed).
   */
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
/** The issuer's session cookie (Cognito's hosted UI calls its own `cognito`), on the issuer's origin only. */
const SESSION_COOKIE = 'roomcast-dev-session';
/** Cognito's hosted UI session lasts an hour; so does this one. */
const SESSION_TTL_MS = 3_600_000;
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

/**
 * The OpenID discovery document of an issuer served at `url`, its keys under `discoveryBase`. The cognito flavour's,
 * like Cognito's, names no `end_session_endpoint`: its logout endpoint is `/logout` on the authorization endpoint's
 * origin (the hosted UI's domain).
 */
function discoveryDocument(address: IssuerAddress) {
  const { issuer, url, discoveryBase, cognito } = address;
  return {
    issuer,
    authorization_endpoint: `${url}${PREFIX}/authorize`,
    token_endpoint: `${url}${PREFIX}/token`,
    ...(!cognito && { end_session_endpoint: `${url}${PREFIX}/logout` }),
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

/** A plain card in the system font, light or dark as the browser prefers. */
const SIGN_IN_STYLE = `:root{color-scheme:light dark;--fg:#1d2330;--muted:#5b6475;--bg:#f3f5f9;--card:#fff;--line:#d5dae3;--accent:#3d5afe}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--muted:#9aa3b2;--bg:#14171d;--card:#1d2129;--line:#343a46;--accent:#8c9eff}}
*{box-sizing:border-box}body{margin:0;min-height:100vh;display:grid;place-items:center;padding:1.5rem;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,sans-serif}
main{width:100%;max-width:24rem;background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1.75rem;box-shadow:0 8px 24px rgb(0 0 0/.08)}
h1{margin:0 0 .25rem;font-size:1.35rem}.note{margin:0 0 1.25rem;color:var(--muted);font-size:.9rem}
form{display:grid;gap:1rem}label{display:grid;gap:.35rem;font-weight:600;font-size:.9rem}small{font-weight:400;color:var(--muted)}
input{font:inherit;font-weight:400;padding:.55rem .7rem;border:1px solid var(--line);border-radius:8px;background:transparent;color:inherit}
input:focus-visible,button:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
button{font:inherit;font-weight:600;padding:.6rem;border:0;border-radius:8px;background:var(--accent);color:#fff;cursor:pointer}`;

function signInPage(q: URLSearchParams): string {
  const hidden = [...q.entries()]
    .filter(([name]) => name !== 'username')
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return `<!doctype html><meta charset="utf-8"><title>roomcast development sign-in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${SIGN_IN_STYLE}</style>
<main><h1>Development sign-in</h1><p class="note">Local cloud only: any name signs in, no password.</p>
<form method="post" action="${PREFIX}/authorize">${hidden}
<label>Username <input name="username" required maxlength="32" autocomplete="username" autofocus></label>
<label>Groups <input name="groups" placeholder="admins"><small>Comma-separated, optional.</small></label>
<button type="submit">Sign in</button></form></main>`;
}

/** The signing key an issuer makes at start: a private key and its public JWK under a random kid. */
interface SigningKey {
  kid: string;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  jwk: JWK;
  /** jose's token builder, loaded with the key. */
  SignJWT: typeof SignJWT;
}

/**
 * jose is loaded when an issuer starts, not with the local cloud: most clouds (AuthMode none or token) never start
 * one, and every start of the local cloud would pay for loading it.
 */
async function newSigningKey(): Promise<SigningKey> {
  const jose = await import('jose');
  const { publicKey, privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const kid = randomBytes(8).toString('hex');
  const jwk = { ...(await jose.exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, jwk, SignJWT: jose.SignJWT };
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
      new key.SignJWT(claims)
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

/** A browser signed in at the issuer (its session cookie's value is the key). */
interface Session {
  username: string;
  groups: string[];
  expires: number;
}

/**
 * What the request handlers share: the issuer's address and key, its pending codes, its browsers' sessions, and
 * its token answer.
 */
interface IssuerState {
  address: IssuerAddress;
  jwk: JWK;
  codes: Map<string, PendingCode>;
  sessions: Map<string, Session>;
  tokenResponse(username: string, groups: string[]): Promise<Record<string, unknown>>;
}

const groupsOf = (value: string | null) => (value ?? '').split(',').filter((g) => g !== '');

/** Remembers a one-time code for a signed-in user and sends the browser back to the client with it. */
function redirectWithCode(
  state: IssuerState,
  res: ServerResponse,
  q: URLSearchParams,
  user: { username: string; groups: string[] },
  headers: Record<string, string> = {},
) {
  const code = randomBytes(24).toString('base64url');
  state.codes.set(code, {
    username: user.username,
    groups: user.groups,
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
  res.writeHead(302, { Location: target.href, 'Cache-Control': 'no-store', ...headers });
  res.end();
}

/** The session the request's cookie names, while it lasts. */
function sessionOf(state: IssuerState, req: IncomingMessage): { id: string; session: Session } | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [name, value] = part.trim().split('=');
    if (name !== SESSION_COOKIE || !value) continue;
    const session = state.sessions.get(value);
    if (session && session.expires > Date.now()) return { id: value, session };
    state.sessions.delete(value);
  }
  return undefined;
}

const sessionCookie = (id: string, maxAgeSeconds: number) =>
  `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}`;

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
  // A browser that signed in here before comes straight back, as from Cognito's hosted UI (prompt=login asks anew).
  const signedIn = sessionOf(state, req);
  if (req.method === 'GET' && signedIn && q.get('prompt') !== 'login')
    return redirectWithCode(state, res, q, signedIn.session);
  const username = q.get('username') ?? q.get('login_hint');
  if (!username || !USERNAME.test(username)) return send(res, 200, signInPage(q));
  const user = { username, groups: groupsOf(q.get('groups')) };
  const id = randomBytes(24).toString('base64url');
  state.sessions.set(id, { ...user, expires: Date.now() + SESSION_TTL_MS });
  return redirectWithCode(state, res, q, user, {
    'Set-Cookie': sessionCookie(id, SESSION_TTL_MS / 1000),
  });
}

/**
 * The logout endpoints: end the browser's session, then send it to the address the client gave. Cognito's
 * `/logout` needs `client_id` and a `logout_uri` (Cognito also checks it against the app client's LogoutURLs; this
 * issuer knows no registration and takes any http(s) address). RP-Initiated Logout's end_session_endpoint takes
 * `post_logout_redirect_uri` with `client_id` or an `id_token_hint`, and hands `state` back.
 */
function serveLogout(state: IssuerState, req: IncomingMessage, res: ServerResponse, requestUrl: URL) {
  const q = requestUrl.searchParams;
  const cognito = state.address.cognito;
  const target = q.get(cognito ? 'logout_uri' : 'post_logout_redirect_uri');
  const clientId = q.get('client_id') ?? audienceOf(q.get('id_token_hint'));
  let problem: string | undefined;
  if (clientId !== CLIENT_ID) problem = `client_id must be ${CLIENT_ID}`;
  else if (target !== null && !/^https?:\/\//.test(target))
    problem = 'the return address must be an http(s) URL';
  else if (cognito && target === null) problem = 'logout_uri is required';
  if (problem) return send(res, 400, `<!doctype html><p>Bad logout request: ${escapeHtml(problem)}</p>`);
  const signedIn = sessionOf(state, req);
  if (signedIn) state.sessions.delete(signedIn.id);
  const cleared = { 'Set-Cookie': sessionCookie('', 0), 'Cache-Control': 'no-store' };
  if (target === null)
    return send(res, 200, '<!doctype html><p>You are signed out.</p>', {
      'Set-Cookie': cleared['Set-Cookie'],
    });
  const back = new URL(target);
  const clientState = q.get('state');
  if (!cognito && clientState !== null) back.searchParams.set('state', clientState);
  res.writeHead(302, { Location: back.href, ...cleared });
  res.end();
}

/** The `aud` of an ID token given as a hint (read, not verified: it only names the client). */
function audienceOf(token: string | null): string | null {
  try {
    const payload = JSON.parse(Buffer.from(token?.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof payload?.aud === 'string' ? payload.aud : null;
  } catch {
    return null;
  }
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
  const { url, discoveryBase } = state.address;
  const requestUrl = new URL(req.url ?? '/', url);
  const path = requestUrl.pathname;
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { ...CORS, 'Access-Control-Allow-Methods': 'GET,POST,OPTIONS' });
    return res.end();
  }
  if (path === `${discoveryBase.slice(url.length)}/.well-known/openid-configuration`)
    return send(res, 200, discoveryDocument(state.address));
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
  if (req.method === 'GET' && path === (state.address.cognito ? '/logout' : `${PREFIX}/logout`))
    return serveLogout(state, req, res, requestUrl);
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
    sessions: new Map(),
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
    webConfig: {
      mode: options.flavour,
      issuer: discoveryBase,
      clientId: CLIENT_ID,
      ...(options.adminGroup && { adminGroup: options.adminGroup }),
    },
    signInEndpoints: [
      `${discoveryBase}/.well-known/openid-configuration`,
      discoveryDocument(address).token_endpoint,
      discoveryDocument(address).jwks_uri,
    ],
    mint,
    sign: (claims, header = {}) =>
      new key.SignJWT(claims)
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
  const adminGroup = template.parameter('AdminGroupName');
  return startDevIssuer({
    flavour: mode,
    region: template.region,
    host,
    ...(typeof adminGroup === 'string' && { adminGroup }),
  });
}
