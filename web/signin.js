// roomcast sign-in for AuthMode=cognito and AuthMode=oidc: the authorization code flow with PKCE (RFC 7636) against
// the issuer named in /config.json (`auth: { mode, issuer, clientId }`, written by the local cloud or by
// `npm run publish-web`). The chat page connects where `signedInTarget(config)` says, as the user it names.
//
// The ID token stays in sessionStorage (this tab only) until it expires, and travels as `?token=` on the WebSocket
// URL, the one place a browser can put it; the admin broadcast page (web/broadcast.js) sends it as
// `Authorization: Bearer`. Without `auth` in the config (AuthMode none or token) nothing happens.

const STORE = 'roomcast.signin';

const base64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

const randomString = () => base64url(crypto.getRandomValues(new Uint8Array(32)));

async function discover(issuer) {
  const res = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`sign-in: discovery answered ${res.status}`);
  return res.json();
}

/** The token's `exp` (seconds), or 0 when it cannot be read. */
function expiry(token) {
  const { exp } = claimsOf(token);
  return typeof exp === 'number' ? exp : 0;
}

const redirectUri = () => `${location.origin}${location.pathname}`;

/** Back from the issuer with ?code=&state=: trade the code (and our verifier) for tokens. */
async function finishSignIn(auth, params) {
  const pending = JSON.parse(sessionStorage.getItem(`${STORE}.pending`) || 'null');
  sessionStorage.removeItem(`${STORE}.pending`);
  history.replaceState(null, '', redirectUri() + location.hash);
  if (!pending || pending.state !== params.get('state'))
    throw new Error('sign-in: the answer does not match our request');
  const { token_endpoint: tokenEndpoint } = await discover(auth.issuer);
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code') || '',
      code_verifier: pending.verifier,
      client_id: auth.clientId,
      redirect_uri: redirectUri(),
    }),
  });
  if (!res.ok) throw new Error(`sign-in: the token endpoint answered ${res.status}`);
  const { id_token: idToken } = await res.json();
  sessionStorage.setItem(`${STORE}.token`, idToken);
  return idToken;
}

/** Off to the issuer's sign-in page; the promise never settles, the page is leaving. */
async function startSignIn(auth) {
  const { authorization_endpoint: authorize } = await discover(auth.issuer);
  const verifier = randomString();
  const state = randomString();
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(`${STORE}.pending`, JSON.stringify({ verifier, state }));
  const url = new URL(authorize);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: auth.clientId,
    redirect_uri: redirectUri(),
    scope: 'openid profile',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }))
    url.searchParams.set(name, value);
  location.assign(url.toString());
  return new Promise(() => {});
}

/**
 * The signed-in user's ID token for `auth` ({ issuer, clientId } of /config.json): the one this tab holds while it
 * has 30 s left, else the one the issuer just sent back, else off to sign in (the promise then never settles).
 */
export async function signedInToken(auth) {
  const params = new URLSearchParams(location.search);
  let token = sessionStorage.getItem(`${STORE}.token`);
  if (params.has('code') && params.has('state')) token = await finishSignIn(auth, params);
  if (!token || expiry(token) < Date.now() / 1000 + 30) return startSignIn(auth);
  return token;
}

/** The name and groups a token states (for display only: the server checks the token itself). */
export function claimsOf(token) {
  try {
    const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return payload && typeof payload === 'object' ? payload : {};
  } catch {
    return {};
  }
}

/** The name a token states, for display until the server says it (the server checks the token itself). */
export function displayName(claims) {
  return claims['cognito:username'] ?? claims.preferred_username ?? claims.username ?? claims.sub ?? '?';
}

/**
 * Where to connect and as whom: without `config.auth`, `config.wsUrl` as it is; with it, the URL with `?token=` of
 * the signed-in user and the name the token states (signing in first when there is no unexpired token; the promise
 * then never settles, the page is leaving).
 */
export async function signedInTarget(config) {
  const auth = config.auth;
  if (!auth?.issuer || !auth.clientId) return { wsUrl: config.wsUrl };
  const token = await signedInToken(auth);
  const url = new URL(config.wsUrl);
  url.searchParams.set('token', token);
  return { wsUrl: url.toString(), user: { name: displayName(claimsOf(token)) } };
}

/** Forgets the token (sign out of this page; the issuer's own session is not ended). */
export function signOut() {
  sessionStorage.removeItem(`${STORE}.token`);
}

/**
 * Where the chat connects: only this origin's own configuration (`config.js`, then `/config.json`), never the page's
 * address, so a link cannot send a sign-in token or an invite key to another host.
 */
export async function resolveTarget() {
  const fromConfig = window.ROOMCAST_WS_URL;
  if (typeof fromConfig === 'string' && fromConfig.trim()) return { wsUrl: fromConfig.trim() };
  try {
    const res = await fetch('/config.json', { cache: 'no-store', headers: { accept: 'application/json' } });
    if (res.ok) {
      const cfg = await res.json();
      // AuthMode=cognito/oidc: signin.js signs in first and gives the URL with ?token= (a no-op without `auth`).
      if (cfg && typeof cfg.wsUrl === 'string' && cfg.wsUrl.trim()) return signedInTarget(cfg);
    }
  } catch {
    /* fall through */
  }
  return null;
}
