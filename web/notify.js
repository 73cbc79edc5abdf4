// Browser notifications: while the tab is hidden, a mention or a direct message opened to you shows as a system
// notification, once the member has allowed them. The page asks only when the member clicks "Turn on notifications"
// (browsers ignore or penalize prompts nobody asked for); a refusal is the member's and the button then says how to
// undo it in the browser.
import { byId, h } from './ui.js';

const supported = () => typeof window.Notification === 'function';

let button = null;

function label() {
  if (!button) return;
  const permission = supported() ? Notification.permission : 'unsupported';
  button.dataset.permission = permission;
  button.disabled = permission !== 'default';
  button.textContent =
    permission === 'granted'
      ? 'Notifications are on'
      : permission === 'denied'
        ? 'Notifications are blocked: allow them in the browser’s site settings'
        : permission === 'unsupported'
          ? 'This browser shows no notifications'
          : 'Turn on notifications';
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
export function bindNotifications() {
  if (button) return;
  button = h('button', 'link-button notifications-toggle');
  button.type = 'button';
  button.dataset.testid = 'notifications-toggle';
  button.addEventListener('click', async () => {
    if (!supported() || Notification.permission !== 'default') return;
    await Notification.requestPermission().catch(() => undefined);
    label();
  });
  label();
  const members = byId('members-heading')?.closest('section');
  members?.parentElement?.append(button);
}
