// roomcast sign-in for AuthMode=cognito and AuthMode=oidc: the authorization code flow with PKCE (RFC 7636) against
// the issuer named in /config.json (`auth: { mode, issuer, clientId }`, written by the local cloud or by
// `npm run publish-web`). The chat page connects where `signedInTarget(config)` says, as the user it names.
//
// The ID token stays in sessionStorage (this tab only) until it expires, and travels as `?token=` on the WebSocket
// URL, the one place a browser can put it; the admin broadcast page (web/broadcast.js) sends it as
// `Authorization: Bearer`. Without `auth` in the config (AuthMode none or token) nothing happens.
//
// Sign-out ends the issuer's session as well as forgetting the token: the issuer keeps its own (a cookie), and
// without its logout the next "Sign in" would return the same user without asking. Cognito (`auth.mode` cognito)
// has its `/logout` on the hosted UI's domain, the origin of its discovery document's `authorization_endpoint`, and
// publishes no `end_session_endpoint`; other providers name an `end_session_endpoint` (OpenID Connect RP-Initiated
// Logout 1.0). Both send the browser back to the chat page, the address the app client registers for it.

const STORE = 'roomcast.signin';
/** Set by a sign-out the provider could not be asked to end: the next sign-in asks for the user (prompt=login). */
const ASK_AGAIN = `${STORE}.askAgain`;

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
  // The address the sign-in started from comes back with its room link (#room=…&key=…): the issuer returns to
  // redirect_uri, which has no fragment, so an invite opened signed out would otherwise be lost on the way.
  const hash = location.hash || (typeof pending?.hash === 'string' ? pending.hash : '');
  history.replaceState(null, '', redirectUri() + hash);
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
  sessionStorage.removeItem(ASK_AGAIN);
  return idToken;
}

/** Off to the issuer's sign-in page; the promise never settles, the page is leaving. */
async function startSignIn(auth) {
  const { authorization_endpoint: authorize } = await discover(auth.issuer);
  const verifier = randomString();
  const state = randomString();
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  // The room link in the address (an invite opened signed out) is kept in this tab across the trip to the issuer
  // (sign-in or sign-up alike): the redirect_uri the issuer returns to is registered without it.
  sessionStorage.setItem(`${STORE}.pending`, JSON.stringify({ verifier, state, hash: location.hash }));
  const url = new URL(authorize);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: auth.clientId,
    redirect_uri: redirectUri(),
    scope: 'openid profile',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...(sessionStorage.getItem(ASK_AGAIN) && { prompt: 'login' }),
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

/**
 * Whether this tab's sign-in has lapsed, asked while reconnects fail: a browser never shows a script the status of a
 * refused WebSocket handshake, so the authorizer's 401 looks like any dropped connection. `failed` counts the
 * reconnects refused in a row. Lapsed when:
 * - the token's `exp` has passed and `EXPIRED_FAILURES` reconnects failed with it (no fetch; more than one, so a
 *   clock running ahead during a network outage does not ask at once);
 * - after one failed reconnect, /config.json names another issuer or client than the token came from (a restarted
 *   local cloud has a new issuer), or the issuer no longer publishes the token's signing key (`kid` absent from its
 *   `jwks_uri`, which the page's connect-src allows).
 * Anything that cannot be read (offline, the server still down) is no answer: false, and reconnecting goes on.
 */
export async function signInLapsed(auth, token, failed) {
  if (failed < 1 || !auth?.issuer || !token) return false;
  if (expiry(token) <= Date.now() / 1000) return failed >= EXPIRED_FAILURES;
  try {
    const res = await fetch('/config.json', { cache: 'no-store', headers: { accept: 'application/json' } });
    if (!res.ok) return false;
    const now = (await res.json())?.auth;
    if (now?.issuer !== auth.issuer || now?.clientId !== auth.clientId) return true;
    const kid = headerOf(token).kid;
    if (typeof kid !== 'string') return false;
    const { jwks_uri: jwksUri } = await discover(auth.issuer);
    const keys = await fetch(jwksUri, { cache: 'no-store' });
    if (!keys.ok) return false;
    const { keys: published } = await keys.json();
    return Array.isArray(published) && !published.some((key) => key?.kid === kid);
  } catch {
    return false;
  }
}

/** Reconnects refused in a row, with a token whose `exp` has passed, before the page asks to sign in again. */
const EXPIRED_FAILURES = 2;

/**
 * Signs in again after the sign-in lapsed: forgets this tab's token and loads the page anew, which starts the normal
 * sign-in with the room link in the address kept (startSignIn). A reload, not a fetch from here: the issuer may have
 * moved (a restarted local cloud), and only a fresh page has its endpoints in its Content-Security-Policy.
 */
export function signInAgain() {
  sessionStorage.removeItem(`${STORE}.token`);
  location.reload();
}

/** A token's JOSE header (its `kid`), or {} when it cannot be read. */
function headerOf(token) {
  try {
    const header = JSON.parse(atob(token.split('.')[0].replace(/-/g, '+').replace(/_/g, '/')));
    return header && typeof header === 'object' ? header : {};
  } catch {
    return {};
  }
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
  const claims = claimsOf(token);
  return { wsUrl: url.toString(), auth, user: { name: displayName(claims), admin: isAdmin(auth, claims) } };
}

/**
 * Whether the token names a member of the stack's admin group (`auth.adminGroup`): Cognito's `cognito:groups`, or
 * the provider's groups claim (`auth.groupsClaim`, `groups` by default as the template's OidcGroupsClaim). For
 * display only: the broadcast route checks the token itself.
 */
export function isAdmin(auth, claims) {
  const groups = claims[auth.mode === 'cognito' ? 'cognito:groups' : auth.groupsClaim || 'groups'];
  return Boolean(auth.adminGroup) && Array.isArray(groups) && groups.includes(auth.adminGroup);
}

/** Where the issuer ends its session and sends the browser `back`; null when the provider names no such place. */
async function logoutUrl(auth, idToken, back) {
  const doc = await discover(auth.issuer);
  let url;
  if (auth.mode === 'cognito') {
    url = new URL('/logout', doc.authorization_endpoint);
    url.searchParams.set('client_id', auth.clientId);
    url.searchParams.set('logout_uri', back);
    return url.href;
  }
  if (typeof doc.end_session_endpoint !== 'string') return null;
  url = new URL(doc.end_session_endpoint);
  url.searchParams.set('client_id', auth.clientId);
  url.searchParams.set('post_logout_redirect_uri', back);
  if (idToken) url.searchParams.set('id_token_hint', idToken);
  return url.href;
}

/**
 * Signs out: forgets this tab's token and sends the browser to the issuer's logout, which ends its session and
 * comes back to the chat page (`./`, registered in the app client's LogoutURLs), where "Sign in" asks anew. A
 * provider without a logout endpoint keeps its session: the next sign-in then asks with `prompt=login`. The promise
 * never settles when the page leaves; it rejects when the issuer cannot be reached (the token is forgotten anyway).
 */
export async function signOut(auth) {
  const idToken = sessionStorage.getItem(`${STORE}.token`);
  sessionStorage.removeItem(`${STORE}.token`);
  const back = new URL('./', location.href).href;
  let target;
  try {
    target = auth?.issuer ? await logoutUrl(auth, idToken, back) : null;
  } catch {
    throw new Error(
      'Signed out of this page, but the sign-in provider could not be reached to end its session.',
    );
  }
  if (!target) sessionStorage.setItem(ASK_AGAIN, '1');
  location.assign(target ?? back);
  return new Promise(() => {});
}

/** The deployment's TypingIntervalSeconds in ms, when config.json gives a sane one (1–60 s, as the template allows). */
function heartbeatOf(cfg) {
  const s = cfg.typingIntervalSeconds;
  return Number.isInteger(s) && s >= 1 && s <= 60 ? s * 1000 : undefined;
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
      if (cfg && typeof cfg.wsUrl === 'string' && cfg.wsUrl.trim())
        return { ...(await signedInTarget(cfg)), typingHeartbeatMs: heartbeatOf(cfg) };
    }
  } catch {
    /* fall through */
  }
  return null;
}
