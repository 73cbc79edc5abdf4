// Notices in the web chat: a message that names you (`mentions`, resolved by the server), a message in a direct
// message, or a reply to one of yours, in any room this page follows, whichever room or direct message is on screen,
// signed in or not. Each shows a notice (a toast) and marks its room "@" under "Your rooms" until you open it, and,
// while the tab is hidden, a browser notification (notify.js); one on screen is there to read, highlighted when it
// names you, and only notifies while the tab is hidden. The page hears of them two ways, each told once: the
// message itself (every followed room's messages reach this connection, client/members.ts) and, signed in, the
// server's `mention` frame, which reaches devices that do not follow the room. Each room's notices can be muted (no
// notice, unread still counted) or kept to mentions only, a choice the server keeps for the person (noticeSettings.js),
// so every device of theirs applies it and shows it at once.
import { registerFeature } from './features.js';
import { openRoom, redrawMyRooms, refreshMyRooms } from './myrooms.js';
import { CHOICES, knowNotices, noticesOf, setNoticesOf } from './noticeSettings.js';
import { notify } from './notify.js';
import { LOBBY } from './roomcast.js';
import { roomWords } from './roomWords.js';
import { state } from './state.js';
import { followsThread } from './threads.js';
import { byId, ERROR_TITLES, h, toast } from './ui.js';

/** Whether message `m` names the reader, by the name it shows in the room. */
export const mentionsMe = (m) => Array.isArray(m.mentions) && m.mentions.includes(state.username);

// ---------------------------------------------------------------- per-room setting

let select = null;

/** The top bar's choice for the room on screen (none in the lobby). */
function showNoticesChoice(room) {
  if (!select) {
    select = h('select', 'room-notify');
    select.setAttribute('aria-label', 'Notices from this room');
    select.dataset.testid = 'room-notify-select';
    for (const [value, text] of CHOICES) {
      const option = h('option', null, text);
      option.value = value;
      select.append(option);
    }
    select.addEventListener('change', () => {
      const room = state.shownRoom;
      if (!room || room === LOBBY) return;
      // The list redraws when the server has kept it (`rooms`); refused, the choice shown goes back to the kept one.
      setNoticesOf(room, select.value).catch((err) => {
        if (state.shownRoom === room) select.value = noticesOf(room);
        toast(err.message, { title: ERROR_TITLES[err.code] || 'Could not change the room’s notices' });
      });
    });
    // In the top bar, first of the room's tools, beside the room's name: the room panel's height is the member list's.
    byId('topbar-tools')?.prepend(select);
  }
  select.hidden = !room || room === LOBBY;
  if (room && room !== LOBBY) select.value = noticesOf(room);
}

// ---------------------------------------------------------------- notices

/** `roomId:seq` of the messages a notice was shown for: a `mention` frame and the message itself make one. */
const told = new Set();
const TOLD_KEPT = 500;

/** Why message `m` is a notice for the reader: 'mention', 'dm', 'reply', or undefined. */
function reasonOf(m, chat) {
  if (m.username === state.username) return undefined; // your own, from this device or another
  if (mentionsMe(m)) return 'mention';
  if (chat.rooms.list.some((r) => r.roomId === m.roomId && r.dm)) return 'dm';
  if (m.replyTo?.username === state.username) return 'reply';
  if (m.threadOf !== undefined && followsThread(m.roomId, m.threadOf)) return 'thread';
  return undefined;
}

function titleOf(reason, m, dm) {
  // A `mention` frame names its room (`name`, the server's): a room this page has not heard of is named too.
  const named = m.type === 'mention' && typeof m.name === 'string' && m.name !== '';
  const where = dm ? 'a direct message' : named ? `#${m.name}` : roomWords(m.roomId);
  // A server's notice of a reply in a thread you follow comes as a mention with `threadOf`.
  if (reason === 'mention' && m.threadOf !== undefined && !m.mentions)
    return `${m.username} replied in a thread in ${where}`;
  if (reason === 'mention') return `${m.username} mentioned you in ${where}`;
  if (reason === 'reply') return `${m.username} replied to you in ${where}`;
  if (reason === 'thread') return `${m.username} replied in a thread you follow in ${where}`;
  return `${m.username} sent you a direct message`;
}

/** Shows the notice of `m` for `reason`, once per message, as its room's setting allows. */
function tell(m, reason, chat) {
  const key = `${m.roomId}:${m.seq}`;
  if (told.has(key)) return;
  const setting = noticesOf(m.roomId);
  // Being named is marked on the room's row ("@") and counted in the title whatever the room's notices: a muted
  // room raises no notice, but still says someone asked for you.
  if (reason === 'mention' && m.roomId !== state.shownRoom && !state.mentionedRooms.has(m.roomId)) {
    state.mentionedRooms.add(m.roomId);
    redrawMyRooms();
  }
  if (setting === 'mute' || (setting === 'mentions' && reason !== 'mention')) return;
  told.add(key);
  if (told.size > TOLD_KEPT) told.delete(told.values().next().value);
  const dm = chat.rooms.list.some((r) => r.roomId === m.roomId && r.dm);
  const title = titleOf(reason, m, dm);
  const text = String(m.text ?? '');
  const go = () => openRoom(m.roomId);
  notify(title, text, `${reason}-${m.roomId}-${m.seq}`, go);
  if (m.roomId === state.shownRoom) return; // on screen, highlighted when it names you
  state.mentionedRooms.add(m.roomId);
  toast(text, { title, kind: 'info', open: go });
  redrawMyRooms();
}

/**
 * Per client: each room's seq up to which its messages are history (they were there when the page entered it), and
 * the rooms whose room objects it listens to.
 */
const followed = new WeakMap();

/** Message `m` of a followed room, told when it is new and a notice for the reader. */
function consider(m, chat) {
  if (state.chat !== chat || !(m.seq > (followed.get(chat).since.get(m.roomId) ?? 0))) return;
  const reason = reasonOf(m, chat);
  if (reason) tell(m, reason, chat);
}

/** Every followed room's messages, through its room object: the room on screen's and the others'. */
function follow(roomId, chat) {
  const { bound } = followed.get(chat);
  if (roomId === LOBBY || bound.has(roomId)) return;
  bound.add(roomId);
  chat.rooms.get(roomId).on('message', (m) => consider(m, chat));
}

/** Each new client: the rooms it lists and opens followed, their notices' choice shown as it changes. */
function watchMentions(chat) {
  followed.set(chat, { since: new Map(), bound: new Set() });
  chat.rooms.on('rooms', (rooms) => {
    for (const room of rooms) follow(room.roomId, chat);
  });
  chat.rooms.on('dm', (room) => follow(room.roomId, chat));
  // The room's notices changed (here, or on another device of ours): the choice on screen follows.
  chat.rooms.on('notices', ({ roomId, notices }) => {
    knowNotices(roomId, notices);
    if (state.chat === chat && roomId === state.shownRoom) showNoticesChoice(roomId);
  });
}

registerFeature('mentions', {
  watch: watchMentions,
  before: {
    // The lobby has no room object: its messages are the client's own events.
    message: (m, chat) => m.roomId === LOBBY && consider(m, chat),
    room: ({ roomId, lastSeq }, chat) => {
      followed.get(chat).since.set(roomId, lastSeq ?? 0);
      follow(roomId, chat);
      state.mentionedRooms.delete(roomId);
      showNoticesChoice(roomId);
    },
    // Signed in: a mention in a room this connection does not follow (or not yet).
    mention: (f, chat) => {
      if (state.chat !== chat || f.roomId === state.shownRoom) return;
      tell(f, 'mention', chat);
      refreshMyRooms(); // the room may be new to the list; the mention count is the server's
    },
  },
});
