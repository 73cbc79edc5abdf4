// The roomcast page's DOM kit: element lookup, avatars, dates, toasts, scrolling, the sidebar and the clipboard.
// Nothing here talks to the server or the client library; web/app.js is the chat view over the roomcast client.

import { drawText } from './format.js';
import { profileNode, showAvatar } from './profiles.js';
import { state } from './state.js';

const TOAST_MS = 6000;
const GROUP_WINDOW_MS = 5 * 60 * 1000;

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
 * `replaceChildren`: a row joining or leaving moves none of the others.
 */
export function placeRows(list, rows) {
  const keep = new Set(rows);
  for (const child of [...list.children]) if (!keep.has(child)) child.remove();
  rows.forEach((row, i) => {
    const at = list.children[i] ?? null;
    if (at !== row) list.insertBefore(row, at);
  });
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

// ---------------------------------------------------------------- message rows

export /** A message row; `own` marks the reader's own messages. */
function renderMessage(msg, { own = false, pending = false } = {}) {
  own = own || pending;
  const row = h('div', 'msg');
  row.dataset.testid = 'message';
  row.dataset.username = msg.username;
  if (Number.isInteger(msg.seq)) row.dataset.seq = String(msg.seq);
  if (msg.messageId) row.dataset.messageId = msg.messageId;
  if (msg.authorKey) row.dataset.authorKey = msg.authorKey;
  row.dataset.status = pending ? 'pending' : 'sent';
  const date = toDate(msg.sentAt);
  row.dataset.time = date ? String(date.getTime()) : '';

  const avatar = makeAvatar(msg.username);
  // The author's avatar image from its profile (profiles.js), over its initial.
  showAvatar(avatar, state.shownRoom, msg.authorKey);
  const body = h('div', 'msg-body');
  const meta = h('div', 'msg-meta');
  meta.append(h('span', 'msg-author'));
  // The author's display name from its profile (profiles.js), when it set one.
  const profile = profileNode(state.shownRoom, msg.authorKey);
  if (profile) meta.append(profile);
  const time = h('time', 'msg-time', date ? timeFmt.format(date) : '');
  if (date) {
    time.dateTime = date.toISOString();
    time.title = fullFmt.format(date);
  }
  meta.append(time);
  const bubble = h('div', 'msg-bubble');
  // Isolated, its direction from its own first strong letter (as <bdi> does for names): bidi controls or
  // right-to-left letters in one message reorder nothing outside it.
  // Its Markdown drawn (format.js); the text as sent kept for matching the stored copy to the pending one.
  const text = h('div', 'msg-text');
  text.dir = 'auto';
  drawText(text, msg.text);
  row.sentText = String(msg.text ?? '');
  if (msg.replyTo && Number.isInteger(msg.replyTo.seq)) bubble.append(replyQuote(msg.replyTo));
  // A message that names the reader (the server resolved `@name` to the name it shows in the room) stands out.
  if (Array.isArray(msg.mentions) && msg.mentions.includes(state.username)) {
    row.classList.add('is-mention');
    row.dataset.mentionsMe = 'true';
  }
  bubble.append(text);
  // Images (attachments.js): thumbnails whose presigned GETs are asked for once they are on the page.
  if (Array.isArray(msg.attachments) && msg.attachments.length > 0 && !msg.deleted)
    bubble.append(thumbnails(msg.attachments));
  const status = h('div', 'msg-status');
  status.setAttribute('aria-live', 'polite');
  body.append(meta, bubble, status);
  row.append(avatar, body);
  markOwn(row, own);
  return row;
}

/** Characters of the original a reply's quote shows. */
const QUOTE_CHARS = 120;

/**
 * The quote above a reply: the original's author and the start of its text, a button that jumps to it (replies.js).
 * It starts from what the frame says (`history` quotes the original as it reads now; a live frame names only its
 * author) and replies.js redraws it from the original the page holds.
 */
function replyQuote(ref) {
  const quote = h('button', 'reply-quote');
  quote.type = 'button';
  quote.dataset.testid = 'reply-quote';
  quote.dataset.replySeq = String(ref.seq);
  quote.append(h('span', 'reply-author'), h('span', 'reply-text'));
  quote.querySelector('.reply-text').dir = 'auto';
  setQuote(quote, ref);
  return quote;
}

/** Draws a quote from how its original reads: `deleted`, its text, or (unknown here) just its author. */
export function setQuote(quote, { username, text, deleted }) {
  quote.querySelector('.reply-author')?.replaceChildren(nameNode(String(username ?? '')));
  const line = quote.querySelector('.reply-text');
  if (line)
    line.textContent = deleted
      ? 'Original message deleted'
      : text !== undefined
        ? [...String(text)].slice(0, QUOTE_CHARS).join('')
        : 'an earlier message';
  quote.classList.toggle('is-deleted', Boolean(deleted));
  quote.title = deleted ? 'The original message was deleted' : 'Show the original message';
}

/** Shows a row as the reader's own (right side, "(you)") or someone else's. */
export function markOwn(row, own) {
  row.classList.toggle('is-own', own);
  const author = row.querySelector('.msg-author');
  author?.replaceChildren(nameNode(row.dataset.username), ...(own ? [' (you)'] : []));
}

const dayFmt = new Intl.DateTimeFormat(undefined, {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});

function dayKey(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

function dayLabel(date) {
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(date) === dayKey(today)) return 'Today';
  if (dayKey(date) === dayKey(yesterday)) return 'Yesterday';
  return dayFmt.format(date);
}

/**
 * Puts a day separator before the first message of each day (the reader's local day) and removes stale ones;
 * then regroups, since a separator starts a new group.
 */
export function placeDaySeparators(list) {
  for (const old of list.querySelectorAll('.day-sep')) old.remove();
  let last = '';
  for (const row of [...list.querySelectorAll('.msg')]) {
    const time = Number(row.dataset.time);
    if (!time) continue;
    const date = new Date(time);
    const key = dayKey(date);
    if (key !== last) {
      const sep = h('div', 'day-sep');
      sep.dataset.testid = 'day-separator';
      sep.dataset.day = key;
      sep.setAttribute('role', 'separator');
      sep.append(h('span', 'day-sep-label', dayLabel(date)));
      row.before(sep);
      last = key;
    }
    regroup(row);
  }
}

export function regroupAround(el) {
  regroup(el);
  if (el.nextElementSibling) regroup(el.nextElementSibling);
}

export function regroup(el) {
  if (!el.classList.contains('msg')) return;
  const prev = el.previousElementSibling;
  let cont = false;
  if (prev?.classList.contains('msg') && prev.dataset.username === el.dataset.username) {
    const a = Number(prev.dataset.time);
    const b = Number(el.dataset.time);
    cont = !a || !b || Math.abs(b - a) < GROUP_WINDOW_MS;
  }
  el.classList.toggle('is-cont', cont);
}

export function setMessageStatus(row, status, reason) {
  row.dataset.status = status;
  row.classList.toggle('is-pending', status === 'pending');
  row.classList.toggle('is-failed', status === 'failed');
  const box = row.querySelector('.msg-status');
  box.replaceChildren();
  if (status === 'pending') {
    box.append(h('span', 'spinner'), h('span', null, 'Sending…'));
  } else if (status === 'failed') {
    box.append(h('span', 'msg-failure', reason ? `Not delivered: ${reason} ` : 'Not delivered. '));
    const retry = h('button', 'link-button', 'Retry');
    retry.type = 'button';
    retry.dataset.testid = 'retry-message';
    box.append(retry);
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

/** A size as people read it: bytes, KB or MB (powers of 1,024). */
function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * A file a message carries, as a chip: an icon, its name and size, itself the link that downloads it (its href, a
 * presigned GET, set by attachments.js; the bucket serves a file as `attachment`, never as a page).
 */
function fileChip(a) {
  const link = h('a', 'msg-file');
  link.dataset.testid = 'file-chip';
  link.dataset.attachmentKey = a.key;
  link.dataset.attachmentVersion = a.versionId ?? '';
  link.rel = 'noopener noreferrer';
  const name = typeof a.name === 'string' ? a.name : 'file';
  link.download = name;
  const icon = h('span', 'msg-file-icon', a.contentType === 'application/zip' ? '🗜️' : '📄');
  icon.setAttribute('aria-hidden', 'true');
  const label = h('span', 'msg-file-name', name);
  label.dataset.testid = 'file-name';
  const size = h('span', 'msg-file-size', Number.isInteger(a.size) ? humanSize(a.size) : '');
  size.dataset.testid = 'file-size';
  link.append(icon, label, size);
  link.setAttribute('aria-label', `Download ${name}, ${size.textContent}`);
  return link;
}

/**
 * The thumbnails of a message's images, without sources yet: attachments.js watches the list and fills each with
 * a presigned GET once it is on the page.
 */
function thumbnails(attachments) {
  const box = h('div', 'msg-attachments');
  for (const a of attachments) {
    if (typeof a?.key !== 'string') continue;
    if (typeof a.contentType !== 'string' || !a.contentType.startsWith('image/')) {
      box.append(fileChip(a));
      continue;
    }
    const img = document.createElement('img');
    img.className = 'msg-thumb';
    img.dataset.testid = 'attachment-thumb';
    img.dataset.attachmentKey = a.key;
    img.dataset.attachmentVersion = a.versionId ?? '';
    img.alt = 'Image';
    img.decoding = 'async';
    if (Number.isInteger(a.width) && Number.isInteger(a.height)) {
      img.width = Math.min(240, a.width);
      img.height = Math.round((img.width * a.height) / a.width);
    }
    box.append(img);
  }
  return box;
}
