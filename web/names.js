// Room codes, usernames and room links as the page reads and writes them (location hash, sessionStorage).
import { checkRoomId, LIMITS, LOBBY, PATTERNS } from './roomcast.js';
import { state } from './state.js';
import { ui } from './ui.js';

export const MAX_USERNAME_CHARS = LIMITS.usernameMaxChars;
// Per tab (sessionStorage, kept across a reload): each tab is its own member, so two tabs of one browser chat as two
// people, and one tab never shows another's messages as its own.
const STORAGE_KEY = 'roomcast.username';

export function normalizeRoomInput(raw) {
  let s = String(raw || '').trim();
  // Accept a pasted invite link (…#room=ABC234) as well as a bare code.
  const m = s.match(/[#&?]room=([^&#\s]+)/i);
  if (m) s = decodeURIComponent(m[1]);
  return s.replace(/[\s-]/g, '').toUpperCase();
}

// The server's allowlist for a name (protocol PATTERNS.usernameChar), checked here so a refused name is said at once
// instead of as a refused connection.
const NAME_CHAR = new RegExp(PATTERNS.usernameChar, 'u');

export function validateUsername(raw) {
  const name = String(raw || '')
    .normalize('NFKC')
    .replace(/ {2,}/g, ' ')
    .trim();
  if (!name) return { error: 'Enter a name.' };
  if ([...name].length > MAX_USERNAME_CHARS) return { error: `At most ${MAX_USERNAME_CHARS} characters.` };
  if (![...name].every((char) => NAME_CHAR.test(char)) || !/[\p{L}\p{Nd}]/u.test(name))
    return { error: "Letters, digits, spaces and ' - _ . @ only." };
  return { name };
}

export function loadUsername() {
  try {
    const v = sessionStorage.getItem(STORAGE_KEY);
    return v && !validateUsername(v).error ? v.trim() : null;
  } catch {
    return null;
  }
}

export function saveUsername(name) {
  try {
    sessionStorage.setItem(STORAGE_KEY, name);
  } catch {
    /* storage refused: the name lasts until the page reloads */
  }
}

// The resume token (docs/PROTOCOL.md): 128 random bits per tab, kept across a reload, so a reloaded tab's sends stay
// in its own clientMsgId scope and no other tab's, whatever name either chose.
const RESUME_KEY = 'roomcast.resume';

export function tabResumeToken() {
  try {
    const kept = sessionStorage.getItem(RESUME_KEY);
    if (kept && /^[A-Za-z0-9_-]{22}$/.test(kept)) return kept;
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const made = btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
    sessionStorage.setItem(RESUME_KEY, made);
    return made;
  } catch {
    return undefined; // storage refused: the client library makes one for this page's life
  }
}

export function roomFromHash() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const room = (params.get('room') || '').trim().toUpperCase();
  return isValidRoomCode(room) ? room : null;
}

/** The room's invite key from the link, if it has a well-formed one: a join with it takes no guess. */
export function keyFromHash() {
  const key = new URLSearchParams(location.hash.replace(/^#/, '')).get('key');
  return key && /^[A-Za-z0-9_-]{16}$/.test(key) ? key : undefined;
}

/** `room=<code>`, with `&key=<invite key>` when the client knows the key of that room. */
export function roomHash(roomId) {
  const key = state.chat?.roomId === roomId ? state.chat.inviteKey : undefined;
  return key ? `room=${roomId}&key=${key}` : `room=${roomId}`;
}

export function isValidRoomCode(code) {
  try {
    return checkRoomId(code) !== LOBBY;
  } catch {
    return false;
  }
}

export function setHashRoom(roomId) {
  const url = new URL(location.href);
  url.hash = roomId && roomId !== LOBBY ? roomHash(roomId) : '';
  const next = url.toString().replace(/#$/, '');
  if (next !== location.href) history.replaceState(history.state, '', next);
}

export function inviteLink(roomId) {
  const url = new URL(location.href);
  url.hash = roomHash(roomId);
  return url.toString();
}

/** The name dialog: on a first visit a name is required; later it changes the name (the client reconnects). */
export function openUsernameDialog({ first }) {
  ui.usernameTitle.textContent = first ? 'Welcome to roomcast' : 'Change your name';
  ui.usernameText.textContent = first
    ? 'Pick a name people will see next to your messages.'
    : 'Your new name is used from the next message on (you will reconnect).';
  ui.usernameInput.value = state.username || '';
  ui.usernameCancel.hidden = first;
  ui.usernameHint.textContent = `1–${MAX_USERNAME_CHARS} characters.`;
  ui.usernameHint.classList.remove('is-error');
  ui.usernameDialog.dataset.first = first ? 'true' : 'false';
  if (!ui.usernameDialog.open) ui.usernameDialog.showModal();
  ui.usernameInput.focus();
  ui.usernameInput.select();
}
