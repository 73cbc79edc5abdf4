// Each room's notices as this browser keeps them (localStorage): every mention, direct message and reply (the
// default), mentions only, or muted. mentions.js decides by them, myrooms.js marks a muted room.

const SETTINGS_KEY = 'roomcast.notices';
/** What a room's notices may be: every mention, direct message and reply (the default), mentions only, none. */
export const CHOICES = [
  ['all', '🔔 Mentions, DMs, replies'],
  ['mentions', '@ Mentions only'],
  ['mute', '🔕 Muted'],
];

/** The choices when the browser would not store them: kept for this page's life. */
let memory = null;

function settings() {
  if (memory) return memory;
  try {
    const stored = JSON.parse(localStorage.getItem(SETTINGS_KEY) ?? '{}');
    return stored && typeof stored === 'object' ? stored : {};
  } catch {
    return {}; // unreadable (storage off, or a value not ours): every room notifies
  }
}

/** Room `roomId`'s notices: 'all', 'mentions' or 'mute'. */
export function noticesOf(roomId) {
  const value = settings()[roomId];
  return CHOICES.some(([choice]) => choice === value) ? value : 'all';
}

/** Keeps room `roomId`'s choice in this browser; false when the browser keeps nothing (storage off or full). */
export function setNoticesOf(roomId, value) {
  const next = settings();
  if (value === 'all') delete next[roomId];
  else next[roomId] = value;
  try {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(next));
    return true;
  } catch {
    memory = next;
    return false;
  }
}
