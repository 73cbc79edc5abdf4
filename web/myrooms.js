// "Your rooms" with unread badges, read positions and direct messages (client/members.ts, docs/CLIENT.md). The page
// marks what is on screen read, lists the member's rooms (direct messages with whom they are with) and puts a
// "Message" button on each other member when signed in: direct messages are between signed-in users.
//
// The badges are live: on each connect the client asks `myrooms` once and follows every listed room in one
// `subscribe`, so each room's messages reach this page as they are posted and its count rises at once; a direct
// message opened to us (`dmopened`) is followed at once too, and a room read on another device of ours (a pushed
// `read`) loses its badge at once, as a room's notices chosen there (a pushed `notices`) show here at once. The order
// is the server's, the same on every device: latest activity first (client/myRooms.ts). Nothing is polled.

import { knowRoom, roomNameOf } from './directory.js';
import { dmPeerName, knowDmPeer } from './dmHeader.js';
import { registerFeature } from './features.js';
import { updateTitle } from './messageList.js';
import { noticesOf } from './noticeSettings.js';
import { notify } from './notify.js';
import { LOBBY } from './roomcast.js';
import { inTurn, state } from './state.js';
import { byId, closeSidebar, ERROR_TITLES, h, placeRows, toast, ui } from './ui.js';

/** Room changes within this window ask `myrooms` once. */
const SETTLE_MS = 500;

let listEl = null;
let countEl = null;
let moreEl = null;

/** The sidebar section, built once. */
function section() {
  if (listEl) return;
  const wrap = h('section', 'members my-rooms');
  wrap.dataset.testid = 'my-rooms';
  wrap.setAttribute('aria-labelledby', 'my-rooms-heading');
  const header = h('div', 'members-header');
  const heading = h('h2', 'eyebrow', 'Your rooms ');
  heading.id = 'my-rooms-heading';
  countEl = h('span', 'count-badge', '');
  countEl.hidden = true;
  countEl.dataset.testid = 'my-rooms-unread';
  countEl.title = 'Unread messages from others in your other rooms';
  heading.append(countEl);
  header.append(heading);
  listEl = h('ul', 'member-list');
  listEl.dataset.testid = 'my-rooms-list';
  listEl.setAttribute('aria-labelledby', 'my-rooms-heading');
  // The pointer moved: the browser has set :hover on the row under it again (see `render`).
  listEl.addEventListener('pointermove', () => listEl.classList.remove('is-reordered'));
  // `myrooms` lists the most recently active rooms only: say so when it left some out, and how to reach them.
  moreEl = h('p', 'my-rooms-more');
  moreEl.dataset.testid = 'myrooms-more';
  moreEl.hidden = true;
  wrap.append(header, listEl, moreEl);
  // Below the member list, so the room on screen keeps its members in view; hidden until there is a room to list.
  wrap.hidden = true;
  byId('members-heading')?.closest('section')?.after(wrap);
}

/** An opened direct message's header names whom it is with; the sidebar closes on the conversation. */
function named(joined) {
  if (joined?.dm?.username) knowDmPeer(joined.roomId, joined.dm.username);
  closeSidebar();
}

function open(room) {
  const chat = state.chat;
  if (!chat || room.roomId === state.shownRoom) return;
  // Opened with unread messages: the list marks where they start and shows them from there (messages.js).
  state.firstUnread = room.unread > 0 ? { roomId: room.roomId, afterSeq: room.lastReadSeq ?? 0 } : null;
  const going = inTurn(() =>
    room.dm ? chat.rooms.openDirect({ userId: room.dm.userId }) : chat.join(room.roomId, room.inviteKey),
  );
  going.then(named, (err) =>
    toast(err.message, { title: ERROR_TITLES[err.code] || 'Could not open the room' }),
  );
}

/** Opens room `roomId` as its row in "Your rooms" would (a notice's click): a room not listed is joined by its code. */
export function openRoom(roomId) {
  const listed = state.chat?.rooms.list.find((room) => room.roomId === roomId);
  open(listed ?? { roomId });
}

/**
 * Each listed room's row, kept from one render to the next: a click is a press and a release on the same element,
 * and the list is drawn again whenever a count changes (a message in any listed room), so a row made anew between
 * the two would swallow the click. The row's button opens the room as last listed.
 */
const rows = new Map();

function rowOf(roomId) {
  let row = rows.get(roomId);
  if (row) return row;
  const li = h('li', 'member my-room');
  li.dataset.testid = 'my-room';
  li.dataset.roomId = roomId;
  const button = h('button', 'link-button member-name');
  button.type = 'button';
  // Set through the CSSOM, which the page's Content-Security-Policy allows (inline style attributes it does not).
  Object.assign(button.style, { flex: '1', textAlign: 'left' });
  li.append(button);
  row = { li, button, room: null };
  button.addEventListener('click', () => open(row.room));
  rows.set(roomId, row);
  return row;
}

/**
 * One row per room: its code, or whom a direct message is with, and its unread count; `more`: the answer left less
 * recently active rooms out.
 */
function render(rooms, more) {
  section();
  let unreadElsewhere = 0;
  let moreElsewhere = false;
  const items = rooms.map((room) => {
    const here = room.roomId === state.shownRoom;
    const unread = here ? 0 : room.unread;
    // Messages from others after the read position; "99+" (or "3+") when the count stopped at its bound.
    const atLeast = !here && room.unreadMore === true;
    // A muted room (noticeSettings.js) keeps its own badge, but only what names you counts in the tab's title and
    // the menu button: muting a busy room is how one stops it pulling at the tab.
    const muted = noticesOf(room.roomId) === 'mute';
    const naming = here ? 0 : Math.max(room.mentions ?? 0, state.mentionedRooms.has(room.roomId) ? 1 : 0);
    unreadElsewhere += muted ? Math.min(unread, naming) : unread;
    moreElsewhere ||= atLeast && !muted;
    const row = rowOf(room.roomId);
    row.room = room;
    const { li, button } = row;
    li.classList.toggle('is-me', here);
    if (room.dm) li.dataset.dm = room.dm.userId;
    else delete li.dataset.dm;
    if (room.dm?.username) knowDmPeer(room.roomId, room.dm.username);
    const peer = room.dm && (room.dm.username || dmPeerName(room.roomId));
    // A rename told since the list was read (`roomchanged`) wins over the list's older name.
    if (!room.dm) knowRoom(room.roomId, { ...room, ...renamed.get(room.roomId) });
    // A named room by its name (directory.js), one never named by its code.
    const label = room.dm ? `✉ ${peer || 'Direct message'}` : (roomNameOf(room.roomId) ?? room.roomId);
    if (button.textContent !== label) button.textContent = label;
    // The badges after the button are drawn anew: the button, the row's one target, stays.
    for (const badge of li.querySelectorAll('.count-badge')) badge.remove();
    // Unread messages that name you (the server's count), or a mention just told (mentions.js) the count lags.
    const mentions = here ? 0 : (room.mentions ?? 0);
    // Muted: the mark says why it raises no notice.
    if (muted) {
      const muted = h('span', 'count-badge muted-mark', '🔕');
      muted.dataset.testid = 'muted-mark';
      muted.setAttribute('aria-label', 'Muted');
      li.append(muted);
    }
    if (!here && (mentions > 0 || state.mentionedRooms.has(room.roomId))) {
      const at = h('span', 'count-badge mention-badge', mentions > 0 ? `@${mentions}` : '@');
      at.dataset.testid = 'mention-badge';
      at.setAttribute(
        'aria-label',
        mentions > 0 ? `${mentions} unread messages name you` : 'You were mentioned here',
      );
      li.append(at);
    }
    if (unread > 0 || atLeast) {
      const shown = `${unread}${atLeast ? '+' : ''}`;
      const badge = h('span', 'count-badge', shown);
      badge.dataset.testid = 'unread-badge';
      badge.setAttribute('aria-label', `${atLeast ? 'at least ' : ''}${unread} unread messages`);
      li.append(badge);
    }
    return li;
  });
  // Rows in the client's order, the server's on every device (client/myRooms.ts: latest activity first), moving only
  // those out of place (a row moved under a press loses its click, so when only counts changed nothing moves); rows
  // of rooms no longer listed go first, moving none of the others.
  // A row moved shifts the others under a pointer that stays still, and Chromium leaves :hover on the row the pointer
  // was over (it sets :hover again only at the pointer's next move, or when the hovered row itself is moved): the
  // highlight would mark a row the pointer is no longer on. So rows show no hover until the pointer moves.
  if (placeRows(listEl, items) > 0) listEl.classList.add('is-reordered');
  const listed = new Set(rooms.map((r) => r.roomId));
  for (const roomId of rows.keys()) if (!listed.has(roomId)) rows.delete(roomId);
  moreEl.textContent = `Showing your ${items.length} most recently active rooms. To open another, join it by its code.`;
  moreEl.hidden = !more;
  listEl.closest('section').hidden = items.length === 0;
  // Labelled, so the total reads as unread messages, not as a count of rooms; nothing unread shows nothing.
  countEl.textContent = `${unreadElsewhere}${moreElsewhere ? '+' : ''} unread`;
  countEl.hidden = unreadElsewhere === 0 && !moreElsewhere;
  // The tab's title and the menu button count them too (messageList.js).
  state.unreadElsewhere = unreadElsewhere;
  state.unreadMore = moreElsewhere;
  updateTitle();
}

/** Draws the list again as the client last had it (a notice marked a room "@", a room's notices changed). */
export function redrawMyRooms() {
  const chat = state.chat;
  if (chat && listEl) render(chat.rooms.list, chat.rooms.more);
}

function refresh() {
  state.chat?.rooms.myRooms().catch(() => {});
}

/** Asks `myrooms` again soon (a mention elsewhere, mentions.js: the mention count is the server's). */
export function refreshMyRooms() {
  refreshSoon();
}

let settleTimer = null;
function refreshSoon() {
  clearTimeout(settleTimer);
  settleTimer = setTimeout(refresh, SETTLE_MS);
}

/** A "Message" button on each other member (signed in only); the server refuses one who is not signed in. */
function decorateMembers() {
  if (!state.signedIn || state.shownRoom === LOBBY) return;
  for (const li of ui.memberList.querySelectorAll('li[data-username]:not(.is-me)')) {
    if (li.querySelector('[data-testid="member-message"]')) continue;
    const name = li.dataset.username;
    const button = h('button', 'link-button member-remove', 'Message');
    button.type = 'button';
    button.dataset.testid = 'member-message';
    button.setAttribute('aria-label', `Message ${name} privately`);
    button.addEventListener('click', () =>
      inTurn(() => state.chat?.rooms.openDirect({ username: name }))
        .then((joined) => {
          if (!joined) return;
          named(joined);
          refreshSoon();
        })
        .catch((err) =>
          toast(err.message, { title: ERROR_TITLES[err.code] || 'Could not open a direct message' }),
        ),
    );
    li.append(button);
  }
}

/** The read position follows what is on screen: each message shown while the page is visible, and each room entered. */
function markShown(chat, seq) {
  if (document.visibilityState === 'visible' && seq > 0) chat.rooms.markRead(seq).catch(() => {});
}

/** Someone opened a direct message with us: it is in the list already and followed (the client does both); say so. */
function onDmOpened(room) {
  const name = room.dm.username || 'Someone';
  const go = () => openRoom(room.roomId);
  toast(`${name} opened a direct conversation with you. Find it under "Your rooms".`, {
    title: 'New direct message',
    kind: 'info',
    open: go,
  });
  notify('New direct message', `${name} opened a direct conversation with you.`, `dm-${room.roomId}`, go);
}

/** Room id -> its name, topic and visibility as the latest `roomchanged` told them. */
const renamed = new Map();

/** A room renamed by its owner is relabelled at once, not at the list's next read. */
function onRoomChanged(frame, chat) {
  if (!frame?.roomId) return;
  const { type: _t, requestId: _r, roomId: _id, ...info } = frame;
  renamed.set(frame.roomId, { topic: undefined, public: false, ...info });
  if (state.chat === chat) render(chat.rooms.list, chat.rooms.more);
}

/** A room entered: read up to its last message, listed, and its row drawn without a badge. */
function onRoomEntered({ roomId, lastSeq }, chat) {
  // The room on screen shows no badge: drawn again once the page has taken the new room (connection.js).
  queueMicrotask(() => state.chat === chat && render(chat.rooms.list, chat.rooms.more));
  if (roomId === LOBBY) return;
  markShown(chat, lastSeq);
  // A room new to the list (just created or joined by its code) is asked for once; switching between listed
  // rooms asks nothing: their counts are live.
  if (!chat.rooms.list.some((r) => r.roomId === roomId)) refreshSoon();
}

/** Each new client: its list of rooms, direct messages opened to us, reads on our other devices. */
function watchMyRooms(chat) {
  section();
  chat.rooms.on('rooms', (rooms) => render(rooms, chat.rooms.more));
  chat.rooms.on('dm', onDmOpened);
  // Another device of ours read a room: its badge is lowered by the `rooms` that follows; the room on screen's
  // messages counted while this tab was hidden keep only those still unread after that read, in the title too.
  chat.rooms.on('read', ({ roomId }) => {
    if (state.chat !== chat || roomId !== state.shownRoom) return;
    state.unread = Math.min(state.unread, chat.rooms.get(roomId).unread);
    updateTitle();
  });
  new MutationObserver(decorateMembers).observe(ui.memberList, { childList: true });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible' || state.chat !== chat) return;
    if (chat.lastSeq) markShown(chat, chat.lastSeq);
  });
}

registerFeature('myRooms', {
  watch: watchMyRooms,
  before: {
    roomchanged: onRoomChanged,
    message: (m, chat) => m.roomId === state.shownRoom && markShown(chat, m.seq),
    room: onRoomEntered,
  },
});
