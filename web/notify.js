// Browser notifications: while the tab is hidden, a mention or a direct message opened to you shows as a system
// notification, once the member has allowed them. The page asks only when the member clicks "Turn on notifications"
// (browsers ignore or penalize prompts nobody asked for); a refusal is the member's and the button then says how to
// undo it in the browser. Signed in, the same click turns on push (push.js) for while the chat is closed, and the
// button says how that ended.
import { registerFeature } from './features.js';
import { PUSH_CHANGED, pushAvailable, pushIsOn, turnOnPush } from './push.js';
import { state } from './state.js';
import { byId, h } from './ui.js';

const supported = () => typeof window.Notification === 'function';

let button = null;
let working = false;

/**
 * The button's state: 'working' while a click is being answered; 'on' once allowed (and, where push works, once
 * the subscription is stored: it stays so on reload, as the permission and the stored choice do); 'tab-only' when
 * allowed but the push subscription failed (a click tries again); 'blocked', 'unsupported', or 'off'.
 */
function current() {
  if (working) return 'working';
  if (!supported()) return 'unsupported';
  const permission = Notification.permission;
  if (permission === 'denied') return 'blocked';
  if (permission !== 'granted') return 'off';
  return pushAvailable() && !pushIsOn() ? 'tab-only' : 'on';
}

const LABELS = {
  working: 'Turning on notifications…',
  on: 'Notifications are on',
  'tab-only': 'Notifications show while this tab is open: turn on push for when it is closed',
  blocked: 'Notifications are blocked: allow them in the browser’s site settings',
  unsupported: 'This browser shows no notifications',
  off: 'Turn on notifications',
};

function label() {
  if (!button) return;
  const now = current();
  button.dataset.state = now;
  button.dataset.permission = supported() ? Notification.permission : 'unsupported';
  button.disabled = now !== 'off' && now !== 'tab-only';
  button.textContent = LABELS[now];
}

/**
 * Shows a notification if the tab is hidden and the member allowed them; a click brings the tab forward and, with
 * `open` (a notice about a room), opens that room.
 */
export function notify(title, body, tag, open) {
  if (!document.hidden || !supported() || Notification.permission !== 'granted') return;
  const shown = new Notification(title, { body, tag });
  shown.addEventListener('click', () => {
    window.focus();
    open?.();
    shown.close();
  });
}

/** The sidebar's button, built once. */
function bindNotifications() {
  if (button) return;
  button = h('button', 'link-button notifications-toggle');
  button.type = 'button';
  button.dataset.testid = 'notifications-toggle';
  button.addEventListener('click', async () => {
    const now = current();
    if (now !== 'off' && now !== 'tab-only') return;
    working = true;
    label();
    try {
      // Signed in with push: the permission and the subscription, answered within push.js's timeout; otherwise
      // the permission alone (notifications while the tab is open).
      if (pushAvailable() && state.chat) await turnOnPush(state.chat);
      else await Notification.requestPermission().catch(() => undefined);
    } finally {
      working = false;
      label();
    }
  });
  window.addEventListener(PUSH_CHANGED, label);
  label();
  const members = byId('members-heading')?.closest('section');
  members?.parentElement?.append(button);
}

registerFeature('notifications', { bind: bindNotifications });
