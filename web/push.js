// Push notifications while this chat is closed (docs/PROTOCOL.md, "Push notifications"): a signed-in member is
// offered them once, after the first connection; "Not now" and a browser refusal are remembered in this browser
// (localStorage), so the page never asks again; turning them on later is the browser's site settings. Once allowed,
// every sign-in renews the stored subscription (the server forgets one nobody renewed in 60 days).
import { registerFeature } from './features.js';
import { state } from './state.js';
import { byId, h, toast } from './ui.js';

/**
 * What this browser decided: 'on', 'declined' (Not now), 'denied' (the browser's permission refused) or 'failed'
 * (allowed, but the subscription did not complete: the sidebar's button offers to try again).
 */
const CHOICE = 'roomcast.push';

const supported = () =>
  'serviceWorker' in navigator && 'PushManager' in window && typeof window.Notification === 'function';

/** The page's notification controls (notify.js's button) relabel on this event. */
export const PUSH_CHANGED = 'roomcast-push-changed';

const remember = (choice) => {
  try {
    localStorage.setItem(CHOICE, choice);
  } catch {
    // Storage off: the offer comes back on the next visit, nothing else breaks.
  }
  window.dispatchEvent(new Event(PUSH_CHANGED));
};
const remembered = () => {
  try {
    return localStorage.getItem(CHOICE);
  } catch {
    return null;
  }
};

const base64url = (buffer) =>
  btoa(String.fromCharCode(...new Uint8Array(buffer)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/**
 * How long subscribing may take before the member is told it failed: a browser whose push service is unreachable
 * (offline, or a Chromium without one) can leave PushManager.subscribe unanswered for good, and a click must get an
 * answer.
 */
export const SUBSCRIBE_TIMEOUT_MS = 10_000;

/** Push can work here: a browser with push, a signed-in member (the server stores subscriptions per user). */
export const pushAvailable = () => state.signedIn && supported();

/** Push is on in this browser: it was allowed and the last subscription was stored. */
export const pushIsOn = () => remembered() === 'on';

/** Registers web/sw.js, subscribes with the server's VAPID key (again if it changed) and stores the subscription. */
async function subscribeAndStore(chat) {
  const registration = await navigator.serviceWorker.register('./sw.js');
  await navigator.serviceWorker.ready;
  const { publicKey } = await chat.pushSubscribe();
  let subscription = await registration.pushManager.getSubscription();
  const key = subscription?.options?.applicationServerKey;
  if (subscription && (!key || base64url(key) !== publicKey)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: publicKey,
  });
  await chat.pushSubscribe(subscription.toJSON());
  remember('on');
}

let offered = false;
let banner = null;

function closeBanner() {
  banner?.remove();
  banner = null;
}

function showOffer(chat) {
  banner = h('div', 'push-offer');
  banner.dataset.testid = 'push-offer';
  banner.setAttribute('role', 'region');
  banner.setAttribute('aria-label', 'Push notifications');
  const text = h('p', '', 'Get a notification for mentions and direct messages while this chat is closed?');
  const yes = h('button', 'link-button', 'Turn on');
  yes.type = 'button';
  yes.dataset.testid = 'push-on';
  const no = h('button', 'link-button', 'Not now');
  no.type = 'button';
  no.dataset.testid = 'push-not-now';
  no.addEventListener('click', () => {
    remember('declined');
    closeBanner();
  });
  yes.addEventListener('click', () => {
    closeBanner();
    void turnOnPush(chat);
  });
  banner.append(text, yes, no);
  const place = byId('members-heading')?.closest('section')?.parentElement ?? document.body;
  place.append(banner);
}

/**
 * Called when the client is ready: once per page, for a signed-in member, in a browser with push. Allowed already:
 * the subscription is renewed quietly; never decided: the offer; refused or "Not now": nothing.
 */
function offerPush(chat) {
  if (offered || !state.signedIn || !supported()) return;
  offered = true;
  const permission = Notification.permission;
  if (permission === 'denied') return remember('denied');
  if (permission === 'granted') {
    withTimeout(subscribeAndStore(chat)).catch((error) => {
      remember('failed');
      console.warn('push subscription not renewed', error);
    });
    return;
  }
  if (remembered() === null) showOffer(chat);
}

/** `work`, or a clear error once SUBSCRIBE_TIMEOUT_MS passed without its answer. */
function withTimeout(work) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `The browser’s push service did not answer within ${SUBSCRIBE_TIMEOUT_MS / 1000} s: try again later.`,
          ),
        ),
      SUBSCRIBE_TIMEOUT_MS,
    );
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * "Turn on" (the offer's and the sidebar's): asks the browser's permission, then subscribes and stores the
 * subscription, and tells the member how it ended within SUBSCRIBE_TIMEOUT_MS of the permission's answer: a toast
 * for "on", for a refusal, for a dismissed prompt and for an error or no answer. Resolves with 'on', 'denied',
 * 'dismissed' or 'failed'.
 */
export async function turnOnPush(chat) {
  const permission = await Notification.requestPermission().catch(() => 'default');
  if (permission === 'denied') {
    remember('denied');
    toast('Notifications are blocked for this site: allow them in the browser’s site settings to get them.', {
      title: 'Notifications blocked',
      kind: 'info',
    });
    return 'denied';
  }
  if (permission !== 'granted') {
    remember('declined');
    toast('The browser’s prompt was closed without an answer: click Turn on again to allow them.', {
      title: 'Notifications not turned on',
      kind: 'info',
    });
    return 'dismissed';
  }
  try {
    await withTimeout(subscribeAndStore(chat));
    toast('You will get a notification for mentions and direct messages while this chat is closed.', {
      title: 'Notifications on',
      kind: 'info',
    });
    return 'on';
  } catch (error) {
    remember('failed');
    toast(error?.message ?? String(error), { title: 'Notifications not turned on' });
    return 'failed';
  }
}

// Each client's first `ready`: push offered, or the stored subscription renewed (offerPush acts once per page).
registerFeature('push', {
  watch: (chat) => chat.on('state', ({ state: now }) => now === 'ready' && offerPush(chat)),
});
