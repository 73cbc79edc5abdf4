// Named rooms and the directory of public rooms: what each room is called (its name, else its code), the search box
// that lists public rooms by the start of their name and joins one without a code, and the new room's name and
// visibility. Names come from `joined` answers, "Your rooms" (`myrooms`) and `roomchanged` pushes; nothing is polled.
import { registerFeature } from './features.js';
import { h, placeRows, toast, ui } from './ui.js';

/** Room id -> { name, topic, public, membersPin }, as far as this page knows. */
const rooms = new Map();
let changed = () => {};

/** What else shows a room's name (the header, the tab title, "Your rooms"): rooms.js sets it. */
export function onRoomNamed(listener) {
  changed = listener;
}

/** Remembers a room's name, topic and visibility from a frame that carries them (joined, roomchanged, myrooms). */
export function knowRoom(roomId, info) {
  if (!roomId || !info || info.dm) return;
  const before = rooms.get(roomId);
  const next = {
    name: info.name ?? before?.name,
    topic: 'topic' in info || info.type === 'roomchanged' ? info.topic : before?.topic,
    public: info.public ?? before?.public ?? false,
    membersPin:
      'membersPin' in info || info.type === 'joined' ? info.membersPin === true : before?.membersPin === true,
  };
  if (
    before &&
    before.name === next.name &&
    before.topic === next.topic &&
    before.public === next.public &&
    before.membersPin === next.membersPin
  )
    return;
  rooms.set(roomId, next);
  changed(roomId);
}

/** A room's name, or undefined for one never named (shown by its code). */
export const roomNameOf = (roomId) => rooms.get(roomId)?.name;
export const roomTopicOf = (roomId) => rooms.get(roomId)?.topic;
export const isPublicRoom = (roomId) => rooms.get(roomId)?.public === true;
/** Whether the room's owner lets members pin (setroom `membersPin`). */
export const membersPinIn = (roomId) => rooms.get(roomId)?.membersPin === true;

/** Why the create card can't make a room, shown under its name field, or nothing. */
function showNewRoomProblem(message) {
  ui.newRoomHint.textContent = message;
  if (message) ui.newRoomName.setAttribute('aria-invalid', 'true');
  else ui.newRoomName.removeAttribute('aria-invalid');
}

/**
 * The new room's name and visibility, from the create card's fields; null, with the reason under the name field, when
 * "Public" is ticked without a name: a public room is found by its name in the directory, so it needs one (the
 * server refuses it too), and making a private room instead would not be what was asked.
 */
export function newRoomInfo() {
  const name = ui.newRoomName.value.trim();
  const isPublic = ui.newRoomPublic.checked;
  if (isPublic && !name) {
    showNewRoomProblem('A public room needs a name: people find it by its name in the directory.');
    ui.newRoomName.focus();
    return null;
  }
  showNewRoomProblem('');
  return name ? { name, ...(isPublic && { public: true }) } : {};
}

export function clearNewRoom() {
  ui.newRoomName.value = '';
  ui.newRoomPublic.checked = false;
  showNewRoomProblem('');
}

/** The create card's fields: a change to either clears the reason shown for the last refusal. */
function bindNewRoom() {
  ui.newRoomName.addEventListener('input', () => showNewRoomProblem(''));
  ui.newRoomPublic.addEventListener('change', () => showNewRoomProblem(''));
}

let searchTimer;
let asked = 0;

/** Lists the public rooms whose name starts with what is typed (300 ms after typing stops); a click joins one. */
async function search(chat, join) {
  const prefix = ui.directoryInput.value.trim();
  const mine = ++asked;
  try {
    const page = await chat.listRooms(prefix);
    if (mine !== asked) return;
    const rows = page.rooms.map((room) => {
      knowRoom(room.roomId, { ...room, public: true });
      const li = h('li', 'directory-row');
      const button = h('button', 'link-button directory-room');
      button.type = 'button';
      button.dataset.testid = 'directory-room';
      button.dataset.roomId = room.roomId;
      button.append(h('span', 'directory-name', `# ${room.name}`));
      if (room.topic) button.append(h('span', 'directory-topic', room.topic));
      button.addEventListener('click', () => join(room.roomId));
      li.append(button);
      return li;
    });
    placeRows(ui.directoryResults, rows);
    ui.directoryHint.textContent =
      rows.length === 0 ? (prefix ? `No public room starts with “${prefix}”.` : 'No public rooms yet.') : '';
  } catch (err) {
    if (mine === asked) ui.directoryHint.textContent = err.message;
  }
}

/** The directory's search box; `getChat` gives the client once connected, `join(roomId)` enters a room. */
export function bindDirectory(getChat, join) {
  bindNewRoom();
  ui.directoryInput.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      const chat = getChat();
      if (chat) void search(chat, join);
    }, 300);
  });
  ui.directoryForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearTimeout(searchTimer);
    const chat = getChat();
    if (chat) void search(chat, join);
    else toast('Not connected yet — try again in a moment.', { kind: 'info' });
  });
}

// Follows names as they change, a `joined` answer, a `roomchanged` push: known before the page draws the room.
registerFeature('directory', {
  before: {
    frame: ({ frame }) => {
      if (frame?.type === 'joined' || frame?.type === 'roomchanged') knowRoom(frame.roomId, frame);
    },
  },
});
