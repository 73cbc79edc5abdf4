import { createHash, randomBytes } from 'node:crypto';
import { type DevIssuer, type IssuerFlavour, startDevIssuer } from '../../tools/local/oidc';

/**
 * The development issuer keeps a sign-in session the way Cognito's hosted UI does (a cookie on its own origin): a
 * second authorization request from the same browser comes back with a code without asking, until the logout
 * endpoint ends the session. Cognito's logout is `GET /logout?client_id=…&logout_uri=…` on the hosted UI's domain
 * (its discovery document names no end_session_endpoint); an OIDC provider names an `end_session_endpoint`
 * (RP-Initiated Logout: `post_logout_redirect_uri`, `client_id` or `id_token_hint`, `state`).
 */

const RETURN_TO = 'http://127.0.0.1:3000/';

// biome-ignore lint/suspicious/noExplicitAny: the discovery document, checked by the assertions themselves
async function discovery(issuer: DevIssuer): Promise<any> {
  return (await fetch(`${issuer.discoveryBase}/.well-known/openid-configuration`)).json();
}

/** An authorization request as the chat page sends it (code flow, PKCE). */
function authorizeUrl(endpoint: string, extra: Record<string, string> = {}): string {
  const url = new URL(endpoint);
  const verifier = randomBytes(32).toString('base64url');
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: 'roomcastLocalClient',
    redirect_uri: RETURN_TO,
    state: 'xyz',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  }))
    url.searchParams.set(name, value);
  return url.href;
}

/** A browser's cookie jar of one cookie: what the issuer last set (or cleared). */
function cookieFrom(response: Response): string | undefined {
  const set = response.headers.get('set-cookie');
  return set ? set.split(';')[0] : undefined;
}

/** Signs in at the form (POST), as a browser does; returns the session cookie the issuer set. */
async function signInAtForm(endpoint: string, username: string): Promise<string> {
  const form = new URLSearchParams(new URL(authorizeUrl(endpoint)).searchParams);
  form.set('username', username);
  const response = await fetch(endpoint, { method: 'POST', body: form, redirect: 'manual' });
  expect(response.status).toBe(302);
  expect(new URL(response.headers.get('location') ?? '').searchParams.get('code')).toBeTruthy();
  const cookie = cookieFrom(response);
  expect(cookie).toMatch(/^roomcast-dev-session=.+/);
  expect(response.headers.get('set-cookie')).toMatch(/HttpOnly/);
  return cookie as string;
}

/** What a GET of the authorization endpoint does with this cookie: 'asks' (the form) or 'returns' (a code). */
async function authorizeWith(url: string, cookie?: string): Promise<'asks' | 'returns'> {
  const response = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  if (response.status === 200 && (await response.text()).includes('name="username"')) return 'asks';
  if (response.status === 302 && new URL(response.headers.get('location') ?? '').searchParams.get('code'))
    return 'returns';
  throw new Error(`the authorization endpoint answered ${response.status}`);
}

describe.each<IssuerFlavour>(['cognito', 'oidc'])('the %s flavour', (flavour) => {
  let issuer: DevIssuer;
  // biome-ignore lint/suspicious/noExplicitAny: the discovery document
  let doc: any;
  beforeAll(async () => {
    issuer = await startDevIssuer({ flavour, region: 'eu-west-1' });
    doc = await discovery(issuer);
  });
  afterAll(() => issuer?.close());

  /** The logout request the web page sends for this flavour (web/signin.js logoutUrl). */
  function logoutUrl(params: Record<string, string>): string {
    const url =
      flavour === 'cognito'
        ? new URL('/logout', doc.authorization_endpoint)
        : new URL(doc.end_session_endpoint);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.href;
  }

  const goodLogout = (): Record<string, string> =>
    flavour === 'cognito'
      ? { client_id: issuer.clientId, logout_uri: RETURN_TO }
      : { client_id: issuer.clientId, post_logout_redirect_uri: RETURN_TO, state: 's1' };

  it(`publishes ${flavour === 'cognito' ? 'no end_session_endpoint, as Cognito' : 'its end_session_endpoint'}`, () => {
    if (flavour === 'cognito') expect(doc.end_session_endpoint).toBeUndefined();
    else expect(doc.end_session_endpoint).toBe(`${issuer.url}/dev-oidc/logout`);
  });

  it('a signed-in browser is not asked again, until it logs out; then it is asked', async () => {
    const endpoint = doc.authorization_endpoint as string;
    expect(await authorizeWith(authorizeUrl(endpoint))).toBe('asks');
    const cookie = await signInAtForm(endpoint, 'yara');
    expect(await authorizeWith(authorizeUrl(endpoint), cookie)).toBe('returns');
    // prompt=login asks even with a session; another browser (no cookie) is asked.
    expect(await authorizeWith(authorizeUrl(endpoint, { prompt: 'login' }), cookie)).toBe('asks');
    expect(await authorizeWith(authorizeUrl(endpoint))).toBe('asks');

    const logout = await fetch(logoutUrl(goodLogout()), { redirect: 'manual', headers: { cookie } });
    expect(logout.status).toBe(302);
    const back = new URL(logout.headers.get('location') ?? '');
    expect(`${back.origin}${back.pathname}`).toBe(RETURN_TO);
    if (flavour === 'oidc') expect(back.searchParams.get('state')).toBe('s1');
    expect(logout.headers.get('set-cookie')).toMatch(/^roomcast-dev-session=;.*Max-Age=0/);
    // The session is gone on the issuer's side too: the old cookie no longer signs anyone in.
    expect(await authorizeWith(authorizeUrl(endpoint), cookie)).toBe('asks');
  });

  it('refuses a logout request without the client or with a return address that is not http(s)', async () => {
    const good = goodLogout();
    const returnParam = flavour === 'cognito' ? 'logout_uri' : 'post_logout_redirect_uri';
    const bad = [
      { ...good, client_id: 'someoneElse' },
      { ...good, [returnParam]: 'javascript:alert(1)' },
      ...(flavour === 'cognito' ? [{ client_id: issuer.clientId }] : []),
    ];
    for (const params of bad) {
      const response = await fetch(logoutUrl(params), { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(await response.text()).toMatch(/Bad logout request: /);
    }
  });

  if (flavour === 'oidc')
    it('takes the client from an id_token_hint when no client_id is given', async () => {
      const { idToken } = await issuer.mint('yara');
      const response = await fetch(
        logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: RETURN_TO }),
        { redirect: 'manual' },
      );
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(RETURN_TO);
    });
});
