// The roomcast page's DOM kit: element lookup, avatars, dates, toasts and their titles, scrolling, the sidebar and the
// clipboard. Nothing here talks to the server or the client library or draws a message (messageView.js does);
// web/app.js is the chat view over the roomcast client.

const TOAST_MS = 6000;

export const byId = (id) => document.getElementById(id);

/** Elements by id: `ui.composerInput` is #composer-input. */
export const ui = new Proxy(
  {},
  { get: (found, key) => (found[key] ??= byId(key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`))) },
);

export function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/**
 * Puts `rows` (elements) into `list` in that order, removing the list's other rows first and then moving only rows out
 * of place. A click is a press and a release on one element: a row made anew, or moved (even to where it was),
 * between the two loses the click, so a list drawn again on live updates keeps its rows and calls this rather than
 * `replaceChildren`: a row joining or leaving moves none of the others. Returns how many rows it moved or added.
 */
export function placeRows(list, rows) {
  const keep = new Set(rows);
  for (const child of [...list.children]) if (!keep.has(child)) child.remove();
  let moved = 0;
  rows.forEach((row, i) => {
    const at = list.children[i] ?? null;
    if (at === row) return;
    list.insertBefore(row, at);
    moved += 1;
  });
  return moved;
}

/** Avatar hues 30° apart: neighbours on the wheel stay easy to tell apart. */
const HUES = Array.from({ length: 12 }, (_, i) => i * 30 + 5);
/** The hue slot each name on screen holds; names in one room hold different slots while there are enough. */
const hueSlots = new Map();

function hashOf(name) {
  let x = 0;
  for (const ch of String(name)) x = (x * 31 + ch.codePointAt(0)) >>> 0;
  return x;
}

/**
 * The avatar hue of `name`: its hash picks a slot, and a slot another name holds already passes to the next free
 * one, so two names on screen get the same colour only when more than 12 names are.
 */
export function hueOf(name) {
  const key = String(name);
  if (!hueSlots.has(key)) {
    const taken = new Set(hueSlots.values());
    let slot = hashOf(key) % HUES.length;
    for (let i = 0; i < HUES.length && taken.has(slot); i++) slot = (slot + 1) % HUES.length;
    hueSlots.set(key, slot);
  }
  return HUES[hueSlots.get(key)];
}

/** Frees every hue slot (a new room: its names get theirs afresh), keeping `keep`'s. */
export function resetHues(keep) {
  const kept = hueSlots.get(keep);
  hueSlots.clear();
  if (kept !== undefined) hueSlots.set(keep, kept);
}

/**
 * A display name as a node of its own: `<bdi>` isolates it, so bidi controls or right-to-left letters in a name
 * cannot reorder the text around it ("… (you)", "… joined").
 */
export function nameNode(name) {
  return h('bdi', null, String(name));
}

/** The first visible character of a name (a letter, digit, symbol or mark of punctuation), upper-cased. */
export function initialOf(name) {
  const first = [...String(name)].find((ch) => /[\p{L}\p{N}\p{S}\p{P}]/u.test(ch));
  return first ? first.toUpperCase() : '?';
}

export function makeAvatar(name, extraClass = '') {
  const a = h('span', `avatar ${extraClass}`.trim(), initialOf(name));
  a.setAttribute('aria-hidden', 'true');
  a.style.setProperty('--hue', String(hueOf(name)));
  return a;
}

export function toDate(sentAt) {
  if (sentAt === undefined || sentAt === null || sentAt === '') return null;
  let d;
  if (typeof sentAt === 'number') d = new Date(sentAt < 1e12 ? sentAt * 1000 : sentAt);
  else if (/^\d+$/.test(String(sentAt))) return toDate(Number(sentAt));
  else d = new Date(String(sentAt));
  return Number.isNaN(d.getTime()) ? null : d;
}

export const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
export const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/**
 * Shows a notice; with `open` (a notice about a room: its opener), a click on the notice's text opens that room and
 * dismisses it.
 */
export function toast(message, { title, kind = 'error', timeout = TOAST_MS, open } = {}) {
  const t = h('div', `toast toast-${kind}`);
  t.dataset.testid = 'toast';
  t.dataset.kind = kind;
  t.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  const body = h('div', 'toast-body');
  if (title) body.append(h('strong', 'toast-title', title));
  body.append(h('span', 'toast-text', message));
  const close = h('button', 'toast-close', '×');
  close.type = 'button';
  close.setAttribute('aria-label', 'Dismiss notification');
  const dismiss = () => {
    t.classList.add('leaving');
    setTimeout(() => t.remove(), 180);
  };
  close.addEventListener('click', dismiss);
  if (open) {
    body.classList.add('toast-opens');
    body.setAttribute('role', 'button');
    body.tabIndex = 0;
    body.dataset.testid = 'toast-open';
    const go = () => {
      open();
      dismiss();
    };
    body.addEventListener('click', go);
    body.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        go();
      }
    });
  }
  t.append(body, close);
  ui.toasts.append(t);
  while (ui.toasts.children.length > 4) ui.toasts.firstElementChild.remove();
  if (timeout) setTimeout(dismiss, timeout);
  return t;
}

export function isNearBottom() {
  const s = ui.messagesScroll;
  return s.scrollHeight - s.scrollTop - s.clientHeight < 120;
}

export function scrollToBottom() {
  requestAnimationFrame(() => {
    ui.messagesScroll.scrollTop = ui.messagesScroll.scrollHeight;
    ui.jumpButton.hidden = true;
  });
}

export function openSidebar() {
  ui.app.classList.add('sidebar-open');
  ui.scrim.hidden = false;
  ui.menuButton.setAttribute('aria-expanded', 'true');
  ui.sidebar.querySelector('button, input')?.focus({ preventScroll: true });
}

export function closeSidebar() {
  if (!ui.app.classList.contains('sidebar-open')) return;
  ui.app.classList.remove('sidebar-open');
  ui.scrim.hidden = true;
  ui.menuButton.setAttribute('aria-expanded', 'false');
}

export async function copyText(text, what) {
  try {
    await navigator.clipboard.writeText(text);
    toast(`${what} copied to the clipboard.`, { kind: 'success', timeout: 2500 });
  } catch {
    // Clipboard API unavailable (insecure context): select the code so the user can copy it.
    const range = document.createRange();
    range.selectNodeContents(ui.inviteCode);
    const sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    toast(`Copy failed — press Ctrl+C to copy the ${what.toLowerCase()}.`, { kind: 'info' });
  }
}

/** The title of an error toast, by the error frame's code. */
export const ERROR_TITLES = {
  BAD_REQUEST: 'Request rejected',
  ROOM_NOT_FOUND: 'Room not found',
  MESSAGE_TOO_LARGE: 'Message too long',
  RATE_LIMITED: 'Slow down',
  INTERNAL: 'Server error',
  BUSY: 'Busy, try again',
  ROOM_CLOSED: 'Room closed',
  FORBIDDEN: 'Not allowed',
  MESSAGE_NOT_FOUND: 'Message not found',
  MESSAGE_DELETED: 'Message deleted',
  NOT_AUTHOR: 'Not your message',
  EDIT_WINDOW_PASSED: 'Too late to change',
  NOT_SUBSCRIBED: 'Not in that room',
  MUTED: 'You are muted',
  BANNED: 'Banned from the room',
  SLOW_MODE: 'Slow mode',
  NAME_TAKEN: 'Name taken',
  TOO_MANY_ROOMS: 'Too many rooms',
  KEY_REPLACED: 'Invite link replaced',
  FILTERED: 'Message not sent',
  INVALID_ARGUMENT: 'Not accepted',
  TIMEOUT: 'No answer in time',
  DISCONNECTED: 'Not connected',
  CLOSED: 'Connection closed',
  OUTBOX_FULL: 'Too many unsent messages',
};

/** An error toast's title in words: its code's title, else `fallback` (what was being done), never the raw code. */
export const errorTitle = (err, fallback) => ERROR_TITLES[err?.code] || fallback;
