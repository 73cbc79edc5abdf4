// roomcast admin broadcast page: POST {"message", "roomId"?}. Server text is shown with textContent only.
//
// Where it posts comes from /config.json on this origin and nowhere else: with sign-in (AuthMode cognito or oidc), the
// admin route `adminBroadcastUrl` with the signed-in user's token as `Authorization: Bearer` (signing in first, PKCE,
// web/signin.js); else `/broadcast` on this origin (the local cloud, where it is open). Nothing in the page's own URL
// can name another endpoint: a link could otherwise send an admin's token to any host. IAM signing never happens in
// the browser: automation uses the IAM route with awscurl or the SDK (docs/ACCESS.md).

import { LIMITS } from './roomcast.js';
import { claimsOf, displayName, signedInToken, signOut } from './signin.js';

const MAX_MESSAGE_BYTES = LIMITS.messageMaxBytes;
const encoder = new TextEncoder();
const byId = (id) => document.getElementById(id);

const form = byId('broadcast-form');
const message = byId('message');
const room = byId('room');
const send = byId('send');
const status = byId('status');
const counter = byId('counter');
const who = byId('who');
const signOutButton = byId('sign-out');

function show(text, kind) {
  status.textContent = text;
  status.dataset.kind = kind;
}

function updateCounter() {
  const bytes = encoder.encode(message.value.trim()).length;
  counter.textContent = `${bytes} / ${MAX_MESSAGE_BYTES} bytes`;
  counter.dataset.over = String(bytes > MAX_MESSAGE_BYTES);
}

async function loadConfig() {
  try {
    const res = await fetch('/config.json', { cache: 'no-store', headers: { accept: 'application/json' } });
    if (res.ok) return (await res.json()) ?? {};
  } catch {
    /* no config: the local cloud's open route */
  }
  return {};
}

/** The endpoint and, with sign-in, the token to send; may leave the page to sign in. */
async function target() {
  const config = await loadConfig();
  const auth = config.auth?.issuer && config.auth.clientId ? config.auth : undefined;
  if (!auth) return { endpoint: new URL('/broadcast', location.href).href };
  const token = await signedInToken(auth);
  const endpoint = new URL(config.adminBroadcastUrl || '/admin/broadcast', location.href).href;
  return { endpoint, token, auth };
}

/** What a refusal means for the person at the page. */
function explain(response, body, signedIn) {
  if (response.status === 401 && signedIn)
    return '401: the sign-in is no longer accepted (expired or revoked). Sign out and sign in again.';
  if (response.status === 403 && signedIn)
    return '403: you are signed in, but not a member of the admin group, so you may not broadcast.';
  if (response.status === 403)
    return '403: this endpoint needs a SigV4-signed request (use awscurl or the SDK, see docs/ACCESS.md).';
  return `${response.status} ${body.code ?? ''}: ${body.message ?? body.Message ?? 'request failed'}`;
}

async function start() {
  updateCounter();
  message.addEventListener('input', updateCounter);
  send.disabled = true;
  const { endpoint, token, auth } = await target();
  byId('endpoint').textContent = endpoint;
  if (token) {
    const claims = claimsOf(token);
    // Isolated (<bdi>): a name with bidi controls cannot reorder the text around it.
    who.replaceChildren(Object.assign(document.createElement('bdi'), { textContent: displayName(claims) }));
    byId('me').hidden = false;
    signOutButton.addEventListener('click', () => {
      signOutButton.disabled = true;
      signOut(auth).catch((error) => {
        signOutButton.disabled = false;
        show(`${error.message} Close the browser to end the sign-in.`, 'error');
      });
    });
  }
  send.disabled = false;
  form.dataset.ready = 'true';

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = message.value.trim();
    const roomId = room.value.trim();
    if (text === '') return show('Write a message first.', 'error');
    send.disabled = true;
    show('Sending…', 'pending');
    try {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(token && { Authorization: `Bearer ${token}` }) },
        body: JSON.stringify(roomId === '' ? { message: text } : { message: text, roomId }),
      });
      const body = await response.json().catch(() => ({}));
      if (response.status === 202) {
        show(
          `Queued for ${roomId === '' ? 'everyone' : `room ${roomId}`} (messageId ${body.messageId}).`,
          'ok',
        );
        message.value = '';
        updateCounter();
      } else {
        show(explain(response, body, Boolean(token)), 'error');
      }
    } catch (error) {
      show(`Could not reach ${endpoint}: ${error.message}`, 'error');
    } finally {
      send.disabled = false;
    }
  });
}

start().catch((error) => show(`Could not start: ${error.message}`, 'error'));
