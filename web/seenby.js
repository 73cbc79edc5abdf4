// "Seen by ana and ben" under the reader's own latest message, in rooms small enough for read positions
// (client.rooms.seenBy, the `seenby` action; SeenByMaxMembers). Read positions move without a frame to the others,
// so the page asks, but only while the line can still change: an ask comes soon after something that may have moved
// them (its own message, another member's message, a member joining, the page shown again, a reconnect), at most
// one per MIN_GAP_MS, then ever more rarely (up to one a minute) while someone has not seen the message yet. Once
// every other member has seen it, or the room is too large, nothing is asked until the next such event.

import { LOBBY } from './roomcast.js';
import { isOwn, state } from './state.js';
import { h, ui } from './ui.js';

/** After an event: long enough for the readers' own markread (sent at once when their last was 5 s ago) to land. */
const FIRST_ASK_MS = 1500;
/** One ask per this at most: a reader's markread goes out at most once per 5 s (client/members.ts). */
const MIN_GAP_MS = 5000;
/** The wait doubles while nothing happens, up to this: a reader away costs one request a minute while shown. */
const MAX_WAIT_MS = 60_000;
/** Names in the line; the rest are counted ("and 2 more") and all named in its tooltip. */
const NAMES_SHOWN = 3;

/** Who has seen it, for people: up to three names, then a count. */
export function seenLine(names) {
  if (names.length === 0) return '';
  if (names.length === 1) return `Seen by ${names[0]}`;
  if (names.length <= NAMES_SHOWN) return `Seen by ${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return `Seen by ${names.slice(0, NAMES_SHOWN).join(', ')} and ${names.length - NAMES_SHOWN} more`;
}

let timer = null;
let dueAt = 0;
let lastAskAt = Number.NEGATIVE_INFINITY;
let idleWait = MIN_GAP_MS;
/** Every other member has seen the latest own message, or the room is too large: nothing to ask until an event. */
let settled = false;
let asking = false;
/** An event came while an ask was out: its answer may predate it, so another ask follows. */
let askAgain = false;

/** The reader's latest message the server has numbered, in the room on screen. */
function latestOwnRow() {
  const rows = ui.messageList.querySelectorAll('.msg.is-own[data-seq][data-status="sent"]');
  return rows[rows.length - 1] ?? null;
}

function clearLine() {
  for (const line of ui.messageList.querySelectorAll('[data-testid="seen-by"]')) line.remove();
}

function render(row, seers) {
  const text = seenLine(seers);
  let line = row.querySelector('[data-testid="seen-by"]');
  // One line in the list: under the latest own message only.
  for (const other of ui.messageList.querySelectorAll('[data-testid="seen-by"]'))
    if (other !== line) other.remove();
  if (!text) {
    line?.remove();
    return;
  }
  if (!line) {
    line = h('div', 'msg-seen');
    line.dataset.testid = 'seen-by';
    row.querySelector('.msg-body')?.append(line);
  }
  line.textContent = text;
  line.title = seers.join(', ');
}

function worthAsking(chat) {
  return (
    !settled &&
    state.chat === chat &&
    chat.state === 'ready' &&
    state.shownRoom &&
    state.shownRoom !== LOBBY &&
    document.visibilityState === 'visible' &&
    latestOwnRow() !== null
  );
}

function askAt(chat, at) {
  clearTimeout(timer);
  dueAt = at;
  timer = setTimeout(() => ask(chat), Math.max(0, at - Date.now()));
}

/**
 * Something may have moved read positions: ask soon (never sooner than MIN_GAP_MS after the last ask). `reopen`: it
 * may also have changed who should see the message (a new own message, a joiner, another room, a reconnect); another
 * member's message changes nothing once everyone has seen it.
 */
function soon(chat, reopen = false) {
  if (reopen) settled = false;
  idleWait = MIN_GAP_MS;
  if (asking) askAgain = true;
  if (!worthAsking(chat) || asking) return;
  const at = Math.max(Date.now() + FIRST_ASK_MS, lastAskAt + MIN_GAP_MS);
  // A busy room does not postpone an ask already due sooner.
  if (timer && dueAt <= at) return;
  askAt(chat, at);
}

async function ask(chat) {
  timer = null;
  if (!worthAsking(chat)) return;
  asking = true;
  lastAskAt = Date.now();
  const roomId = state.shownRoom;
  let frame = null;
  try {
    frame = await chat.rooms.seenBy();
  } catch {
    // Advisory: a refused or lost ask waits its turn like an unseen message.
  } finally {
    asking = false;
  }
  const again = askAgain;
  askAgain = false;
  const row = latestOwnRow();
  if (frame && frame.roomId === roomId && roomId === state.shownRoom && row) {
    if (frame.tooLarge) {
      clearLine();
      settled = true;
      return;
    }
    const seq = Number(row.dataset.seq);
    const others = frame.members.filter((m) => m.username !== state.username);
    // In name order: the server lists members in no fixed order, and a line that reshuffles reads as a change.
    const seers = others
      .filter((m) => m.lastReadSeq >= seq)
      .map((m) => m.username)
      .sort((a, b) => a.localeCompare(b));
    render(row, seers);
    settled = seers.length === others.length;
  }
  if (!worthAsking(chat)) return;
  if (again) return askAt(chat, Math.max(Date.now() + FIRST_ASK_MS, lastAskAt + MIN_GAP_MS));
  idleWait = Math.min(idleWait * 2, MAX_WAIT_MS);
  askAt(chat, Date.now() + idleWait);
}

let visibilityBound = false;

/** Wires a new client (connection.js calls it for each one it creates). */
export function bindSeenBy(chat) {
  chat.on('message', (m) => {
    if (m.roomId !== state.shownRoom) return;
    // A newer own message takes the line; until its first answer it shows none.
    const own = isOwn(m);
    if (own) clearLine();
    soon(chat, own);
  });
  chat.on('room', () => {
    clearTimeout(timer);
    timer = null;
    soon(chat, true);
  });
  chat.on('presence', (p) => {
    if (p.roomId === state.shownRoom && p.event === 'join') soon(chat, true);
  });
  chat.on('state', ({ state: s }) => {
    if (s === 'ready') soon(chat, true);
  });
  if (visibilityBound) return;
  visibilityBound = true;
  document.addEventListener('visibilitychange', () => {
    if (state.chat) soon(state.chat);
  });
}
