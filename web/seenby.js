// "Seen by ana and ben" under the reader's own latest message, in rooms small enough for read positions
// (SeenByMaxMembers). The page asks `seenby` once when a room is shown (and again after a reconnect, when reads may
// have moved unseen); after that the server pushes each read that moves as a `seen` frame (docs/PROTOCOL.md), taken
// here from the client's generic `frame` event. A room too large for read positions answers `tooLarge` and gets no
// `seen` frames: the line stays empty there.

import { registerFeature } from './features.js';
import { LOBBY } from './roomcast.js';
import { isOwn, state } from './state.js';
import { h, ui } from './ui.js';

/** Names in the line; the rest are counted ("and 2 more") and all named in its tooltip. */
const NAMES_SHOWN = 3;

/** Who has seen it, for people: up to three names, then a count. */
export function seenLine(names) {
  if (names.length === 0) return '';
  if (names.length === 1) return `Seen by ${names[0]}`;
  if (names.length <= NAMES_SHOWN) return `Seen by ${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return `Seen by ${names.slice(0, NAMES_SHOWN).join(', ')} and ${names.length - NAMES_SHOWN} more`;
}

/** The shown room's read positions: username -> lastReadSeq, from the one ask and the pushed frames since. */
let positions = new Map();
/** The room the positions are of; null before its answer (pushed frames before it are kept all the same). */
let positionsRoom = null;
/** The shown room is over SeenByMaxMembers: nothing to show. */
let tooLarge = false;
/** Each ask's number: an answer to an ask for a room no longer shown, or superseded, is dropped. */
let asked = 0;

/** The reader's latest message the server has numbered, in the room on screen. */
function latestOwnRow() {
  const rows = ui.messageList.querySelectorAll('.msg.is-own[data-seq][data-status="sent"]');
  return rows[rows.length - 1] ?? null;
}

function clearLine() {
  for (const line of ui.messageList.querySelectorAll('[data-testid="seen-by"]')) line.remove();
}

/** Positions only move forward: a pushed read and the ask's answer may arrive in either order. */
function note(members) {
  for (const m of members) {
    if (typeof m?.username !== 'string' || typeof m.lastReadSeq !== 'number') continue;
    positions.set(m.username, Math.max(positions.get(m.username) ?? 0, m.lastReadSeq));
  }
}

/** Draws the line under the latest own message from the positions known now. */
function render() {
  const row = latestOwnRow();
  if (!row || tooLarge || positionsRoom !== state.shownRoom) return clearLine();
  const seq = Number(row.dataset.seq);
  // In name order: positions come in no fixed order, and a line that reshuffles reads as a change.
  const seers = [...positions]
    .filter(([name, read]) => name !== state.username && read >= seq)
    .map(([name]) => name)
    .sort((a, b) => a.localeCompare(b));
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

/** The one ask of a shown room: every member's position now; pushed frames keep it current from then on. */
async function askOnce(chat) {
  const roomId = state.shownRoom;
  const ask = ++asked;
  positions = new Map();
  positionsRoom = roomId;
  tooLarge = false;
  clearLine();
  if (!roomId || roomId === LOBBY || chat.state !== 'ready') return;
  let frame = null;
  try {
    frame = await chat.rooms.seenBy();
  } catch {
    // Advisory: without the answer the line fills as members read (their pushed reads).
    return;
  }
  if (ask !== asked || frame?.roomId !== roomId || roomId !== state.shownRoom) return;
  tooLarge = frame.tooLarge === true;
  note(frame.members ?? []);
  render();
}

/** Wires a new client (features.js hands each one connection.js creates). */
function bindSeenBy(chat) {
  chat.on('frame', ({ frame }) => {
    if (frame?.type !== 'seen' || frame.roomId !== state.shownRoom || !Array.isArray(frame.members)) return;
    if (positionsRoom !== frame.roomId) return;
    note(frame.members);
    render();
  });
  chat.on('message', (m) => {
    // A newer own message takes the line, with whoever has already read that far (once its row is drawn: the
    // message list's own listener may come after this one).
    if (m.roomId === state.shownRoom && isOwn(m)) setTimeout(render, 0);
  });
  chat.on('room', () => askOnce(chat));
  chat.on('state', ({ state: s }) => {
    // Reads made while the connection was down were pushed to nobody here: ask again.
    if (s === 'ready') askOnce(chat);
  });
}

registerFeature('seenBy', { watch: bindSeenBy });
