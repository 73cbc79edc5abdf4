// roomcast browser chat: a view over the roomcast client library (client/, bundled into /roomcast.js), which
// owns the connection, reconnects, resume, seq order and the outbox. Plain ES module, no framework, no external
// requests. All user-provided text is rendered with textContent; display names inside `<bdi>` (ui.js nameNode).

import { bindAccount, renderMe, setIdentity } from './account.js';
import { bindMessageChanges } from './changes.js';
import { bindMyRooms } from './myrooms.js';
import {
  inviteLink,
  isValidRoomCode,
  keyFromHash,
  loadUsername,
  normalizeRoomInput,
  openUsernameDialog,
  roomFromHash,
  setHashRoom,
  tabResumeToken,
} from './names.js';
import { bindOwnerControls } from './owner.js';
import { createRoomcastClient, LIMITS, LOBBY, utf8Bytes } from './roomcast.js';
import { memberActions, renderMembers, showInfo } from './sidebar.js';
import { resolveTarget } from './signin.js';
import { state } from './state.js';
import { bindTyping } from './typing.js';
import {
  closeSidebar,
  copyText,
  ERROR_TITLES,
  h,
  isNearBottom,
  nameNode,
  openSidebar,
  placeDaySeparators,
  regroupAround,
  renderMessage,
  resetHues,
  scrollToBottom,
  setMessageStatus,
  toast,
  ui,
} from './ui.js';

const MAX_MESSAGE_BYTES = LIMITS.messageMaxBytes;
const JOIN_HINT = '8 characters: letters (no I or O) and digits 2–9.';

// ---------------------------------------------------------------- helpers

// ---------------------------------------------------------------- connection status

function setConn(conn) {
  state.conn = conn;
  ui.status.dataset.state = conn;
  renderStatusLabel();
  ui.retryNow.hidden = conn !== 'reconnecting' && conn !== 'offline';
  document.body.dataset.conn = conn;
  updateComposerState();
}

function renderStatusLabel() {
  const s = Math.ceil((state.reconnectAt - Date.now()) / 1000);
  const labels = {
    online: 'Online',
    connecting: 'Connecting…',
    reconnecting: s > 0 ? `Reconnecting in ${s}s…` : 'Reconnecting…',
    offline: 'Offline',
    unconfigured: 'Not configured',
  };
  ui.statusLabel.textContent = labels[state.conn] ?? state.conn;
}

/** The client's connection states, as the status pill shows them. */
function onState({ state: next, delayMs, error }) {
  clearInterval(state.countdownTimer);
  if (next === 'ready') {
    state.everOnline = true;
    setConn('online');
  } else if (next === 'connecting' || next === 'resuming') {
    setConn(state.everOnline ? 'reconnecting' : 'connecting');
  } else if (next === 'reconnecting') {
    state.reconnectAt = Date.now() + (delayMs ?? 0);
    state.countdownTimer = setInterval(renderStatusLabel, 500);
    setConn(navigator.onLine === false ? 'offline' : 'reconnecting');
  } else if (next === 'failed') {
    setConn('offline');
    toast(error?.message ?? 'Could not reach the server.', { title: 'Offline' });
  }
}

let linkToOpen = null; // the room link to open once the client is first online (null once opened)
function startClient() {
  state.chat?.close();
  let chat;
  try {
    // Signed in, the URL carries the token and the server takes the name from it: no username to send.
    chat = createRoomcastClient({
      url: socketBase(state.wsBaseUrl),
      username: state.signedIn ? undefined : state.username,
      resumeToken: state.signedIn ? undefined : tabResumeToken(),
      trackRooms: true,
    });
  } catch (err) {
    setConn('unconfigured');
    showUnconfigured(String(err.message || err));
    return;
  }
  state.chat = chat;
  bindMyRooms(chat);
  chat.on('state', onState);
  chat.on('room', ({ roomId }) => onRoom(roomId));
  chat.on('message', onMessage);
  bindMessageChanges(chat);
  chat.on('members', ({ roomId, members, memberCount }) => {
    if (roomId === state.shownRoom) renderMembers(members, memberCount);
  });
  chat.on('presence', onPresence);
  bindTyping(chat);
  chat.on('broadcast', onBroadcast);
  chat.on('error', (err) => toast(err.message, { title: ERROR_TITLES[err.code] || err.code }));
  chat.on('removed', (f) => {
    state.notice = f.message;
    toast(f.message, { title: 'Removed from the room' });
  });
  chat.on('roomclosed', (f) => {
    state.notice = f.message;
    toast(f.message, { title: 'Room closed' });
  });
  chat.on('keyrotated', ({ roomId }) => {
    if (roomId !== state.shownRoom) return;
    setHashRoom(roomId);
    addSystemLine('The owner changed the invite link: links shared before no longer work.', 'info');
  });
  // First online: the room in the address (read now, the lobby rewrites it; hashchange updates it until then).
  linkToOpen = { room: roomFromHash(), key: keyFromHash() };
  let identified = !state.signedIn;
  chat.on('state', ({ state: s }) => {
    if (s === 'ready' && !identified) {
      identified = true;
      // The server's word on who we are (the name it stamps on our messages), in place of the token's claims.
      chat
        .info()
        .then((f) => f.username && setIdentity(f.username))
        .catch(() => {});
    }
    const wanted = s === 'ready' ? linkToOpen : null;
    if (!wanted?.room) return;
    linkToOpen = null;
    if (wanted.room !== chat.roomId) joinRoom(wanted.room, { fromLink: true, key: wanted.key });
  });
}

/** Keeps the stage URL's own parameters (e.g. ?token=) and lets the client add the username. */
function socketBase(base) {
  const url = new URL(base, location.href);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  return url.toString();
}

function reconnectNow() {
  state.chat?.retry();
}

// ---------------------------------------------------------------- rooms

function joinRoom(code, { fromLink = false, key } = {}) {
  setRoomHeader(code, { pending: true });
  state.chat.join(code, key).catch((err) => {
    setRoomHeader(state.shownRoom ?? LOBBY);
    setHashRoom(state.chat.roomId);
    // One place for the error: under the code the user typed, else (a link) a notification.
    if (!fromLink && normalizeRoomInput(ui.joinInput.value) === code) {
      ui.joinInput.setAttribute('aria-invalid', 'true');
      ui.joinHint.classList.add('is-error');
      ui.joinHint.textContent = err.message;
    } else {
      toast(err.message, { title: ERROR_TITLES[err.code] || 'Could not join' });
    }
  });
}

function onRoom(roomId) {
  setHashRoom(roomId);
  if (state.shownRoom === roomId) return;
  state.shownRoom = roomId;
  state.unread = 0;
  ui.messageList.replaceChildren();
  resetHues(state.username);
  renderMe();
  setRoomHeader(roomId);
  renderMembers(state.chat.members);
  if (state.notice) addSystemLine(state.notice, 'leave');
  state.notice = null;
  // The lobby is quiet (no presence frames): ask who is there.
  if (roomId === LOBBY) refreshMembers();
  updateEmpty();
  updateComposerState();
  if (normalizeRoomInput(ui.joinInput.value) === roomId) ui.joinInput.value = '';
  closeSidebar();
}

function setRoomHeader(roomId, { pending = false } = {}) {
  const isLobby = roomId === LOBBY;
  ui.roomCode.textContent = isLobby ? LOBBY : roomId;
  ui.roomCode.dataset.roomId = pending ? '' : roomId;
  ui.roomCode.classList.toggle('is-lobby', isLobby);
  ui.roomKind.textContent = pending ? 'joining…' : isLobby ? 'public' : 'private room';
  ui.invite.hidden = isLobby || pending;
  ui.inviteCode.textContent = isLobby ? '' : roomId;
  ui.leaveButton.hidden = isLobby;
  ui.ownerControls.hidden = isLobby || pending || !state.owned.has(roomId);
  ui.roomHint.hidden = !isLobby;
  ui.roomTitle.textContent = isLobby ? 'Lobby' : `Room ${roomId}`;
  ui.roomSub.textContent = isLobby ? 'Everyone who connects starts here' : 'Share the code to invite people';
  ui.composerInput.placeholder = isLobby ? 'Message the lobby…' : `Message room ${roomId}…`;
  ui.emptyTitle.textContent = isLobby ? 'Welcome to the lobby' : 'This room is quiet';
  ui.emptyText.textContent = isLobby
    ? 'Everyone who connects lands here. Say hello, create a private room, or join one with a code.'
    : `Invite people with the code ${roomId} — messages appear here instantly.`;
  updateTitle();
}

// ---------------------------------------------------------------- members

let membersAsked = 0;

/** Asks the server who is in the room, at most every 2 s (the lobby sends no presence frames to keep it current). */
function refreshMembers() {
  if (Date.now() - membersAsked < 2000) return;
  membersAsked = Date.now();
  state.chat?.who().catch(() => {});
}

function onPresence(f) {
  if (f.username === state.username) return;
  addSystemLine([nameNode(f.username), f.event === 'join' ? ' joined' : ' left'], f.event);
  // The same name may still be connected from another tab: confirm with the server.
  if (f.event === 'leave') setTimeout(() => state.chat?.who().catch(() => {}), 400);
}

// ---------------------------------------------------------------- messages

/** A line from the system; `content` is text or a list of text and nodes (a name goes in as `nameNode`). */
function addSystemLine(content, kind = 'info') {
  const line = h('div', `sys sys-${kind}`);
  line.dataset.testid = kind === 'broadcast' ? 'broadcast-line' : 'system-line';
  const text = h('span', 'sys-text');
  text.append(...(Array.isArray(content) ? content : [content]));
  line.append(text);
  const near = isNearBottom();
  insertBeforePending(line);
  updateEmpty();
  if (near) scrollToBottom();
  return line;
}

/** Confirmed rows go above the messages still being sent. */
function insertBeforePending(el) {
  const firstPending = ui.messageList.querySelector('[data-status="pending"],[data-status="failed"]');
  ui.messageList.insertBefore(el, firstPending);
  regroupAround(el);
  if (el.classList.contains('msg')) placeDaySeparators(ui.messageList);
}

/** The client hands messages over once each, in seq order: the view only appends them. */
function onMessage(m) {
  if (m.roomId !== state.shownRoom) return;
  // Someone the member list does not know spoke (the lobby has no presence frames): the list is stale.
  if (!state.chat.members.includes(m.username)) refreshMembers();
  const own = m.username === state.username;
  const near = isNearBottom();
  if (own) {
    // Our own message can come back before its ack: the pending copy goes.
    const pending = [...ui.messageList.querySelectorAll('[data-status="pending"]')].find(
      (row) => row.querySelector('.msg-text')?.textContent === m.text,
    );
    pending?.remove();
  }
  insertBeforePending(renderMessage(m, { own }));
  updateEmpty();
  if (near || own) scrollToBottom();
  else ui.jumpButton.hidden = false;
  if (document.hidden && !own) {
    state.unread += 1;
    updateTitle();
  }
}

// ---------------------------------------------------------------- sending

function composerText() {
  return ui.composerInput.value.trim();
}

function updateComposerState() {
  const bytes = utf8Bytes(composerText());
  const over = bytes > MAX_MESSAGE_BYTES;
  ui.composerCounter.textContent =
    bytes >= MAX_MESSAGE_BYTES - 512 || over ? `${bytes} / ${MAX_MESSAGE_BYTES}` : '';
  ui.composerCounter.title = `${bytes} of ${MAX_MESSAGE_BYTES} bytes`;
  ui.composerCounter.classList.toggle('is-over', over);
  ui.composer.classList.toggle('is-over', over);
  ui.composerInput.setAttribute('aria-invalid', over ? 'true' : 'false');
  ui.sendButton.disabled = !(bytes >= 1 && !over && state.shownRoom !== null && state.username !== null);
}

function autosize() {
  const ta = ui.composerInput;
  ta.style.height = 'auto';
  ta.style.height = `${Math.min(ta.scrollHeight, 200)}px`;
}

function submitComposer() {
  const text = composerText();
  if (!text || state.shownRoom === null || !state.chat) return;
  const row = renderMessage(
    { username: state.username, text, sentAt: new Date().toISOString() },
    { pending: true },
  );
  ui.messageList.append(row);
  placeDaySeparators(ui.messageList);
  ui.composerInput.value = '';
  autosize();
  updateComposerState();
  updateEmpty();
  scrollToBottom();
  deliver(row, text);
}

/** The client retries with the same clientMsgId and keeps the message while offline; a failure is final. */
function deliver(row, text) {
  setMessageStatus(row, 'pending');
  state.chat.send(text).then(
    () => row.remove(),
    (err) => {
      if (err.code === 'ROOM_CHANGED') {
        row.remove();
        toast('An unsent message was discarded: you changed rooms.', { kind: 'info' });
        return;
      }
      if (!row.isConnected) ui.messageList.append(row);
      // The reason shows on the message itself, beside its Retry, and nowhere else.
      setMessageStatus(row, 'failed', err.message);
      row.retry = () => deliver(row, text);
    },
  );
}

// ---------------------------------------------------------------- other frames

function onBroadcast(f) {
  const text = String(f.text ?? '');
  ui.announcementText.textContent = text;
  ui.announcement.hidden = false;
  const line = addSystemLine(['📣 ', h('bdi', null, text)], 'broadcast');
  if (f.messageId) line.dataset.messageId = f.messageId;
}

// ---------------------------------------------------------------- view helpers

function updateEmpty() {
  ui.messagesWrap.classList.toggle('is-empty', ui.messageList.childElementCount === 0);
}

function updateTitle() {
  const room = state.shownRoom === LOBBY || !state.shownRoom ? 'Lobby' : state.shownRoom;
  document.title = `${state.unread ? `(${state.unread}) ` : ''}${room} · roomcast`;
}

function showUnconfigured(detail) {
  ui.emptyTitle.textContent = 'No server configured';
  ui.emptyText.textContent =
    detail ||
    'Set window.ROOMCAST_WS_URL in config.js to wss://<api>.execute-api.<region>.amazonaws.com/<stage>, or serve /config.json.';
  ui.roomTitle.textContent = 'roomcast';
  ui.roomSub.textContent = '';
  ui.roomCode.textContent = '—';
  ui.roomKind.textContent = 'not connected';
  ui.roomHint.textContent = 'This page does not know which server to talk to yet.';
  ui.messagesWrap.classList.add('is-empty');
}

// ---------------------------------------------------------------- wiring

function whenOnline(action) {
  if (state.conn !== 'online') {
    toast('Not connected yet — try again in a moment.', { kind: 'info' });
    return;
  }
  action();
}

function bindEvents() {
  bindAccount({
    onNameChosen(changed) {
      updateComposerState();
      if (state.wsBaseUrl && (changed || !state.chat)) startClient();
      ui.composerInput.focus();
    },
  });

  ui.createRoom.addEventListener('click', () =>
    whenOnline(() =>
      state.chat
        .createRoom()
        .then(({ roomId }) => {
          state.owned.add(roomId);
          if (state.shownRoom === roomId) {
            setRoomHeader(roomId);
            renderMembers(state.chat.members);
          }
        })
        .catch((err) => toast(err.message, { title: ERROR_TITLES[err.code] || err.code })),
    ),
  );
  memberActions.remove = bindOwnerControls(addSystemLine);
  ui.joinInput.addEventListener('input', () => {
    const pos = ui.joinInput.selectionStart;
    ui.joinInput.value = ui.joinInput.value.toUpperCase();
    ui.joinInput.setSelectionRange(pos, pos);
    ui.joinInput.removeAttribute('aria-invalid');
    ui.joinHint.classList.remove('is-error');
    ui.joinHint.textContent = JOIN_HINT;
  });
  ui.joinForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const code = normalizeRoomInput(ui.joinInput.value);
    if (!isValidRoomCode(code)) {
      ui.joinInput.setAttribute('aria-invalid', 'true');
      ui.joinHint.classList.add('is-error');
      ui.joinHint.textContent = code
        ? `“${code.slice(0, 12)}” is not a room code. ${JOIN_HINT}`
        : 'Enter an 8-character room code.';
      ui.joinInput.focus();
      return;
    }
    ui.joinInput.value = code;
    if (code === state.chat?.roomId) {
      toast(`You are already in room ${code}.`, { kind: 'info', timeout: 2500 });
      return;
    }
    whenOnline(() => joinRoom(code));
  });

  ui.leaveButton.addEventListener('click', () => {
    state.chat?.leave().catch((err) => toast(err.message, { title: 'Could not leave' }));
    closeSidebar();
  });
  ui.copyCode.addEventListener('click', () => copyText(state.shownRoom, 'Room code'));
  ui.copyLink.addEventListener('click', () => copyText(inviteLink(state.shownRoom), 'Invite link'));
  ui.refreshMembers.addEventListener('click', () => state.chat?.who().catch(() => {}));
  ui.detailsPanel.addEventListener('toggle', () => {
    if (ui.detailsPanel.open) void showInfo();
  });

  ui.composer.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitComposer();
  });
  ui.composerInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      submitComposer();
    }
  });
  ui.composerInput.addEventListener('input', () => {
    autosize();
    updateComposerState();
  });
  ui.messageList.addEventListener('click', (ev) => {
    ev.target.closest('[data-testid="retry-message"]')?.closest('.msg')?.retry?.();
  });

  ui.messagesScroll.addEventListener('scroll', () => {
    if (isNearBottom()) ui.jumpButton.hidden = true;
  });
  ui.jumpButton.addEventListener('click', () => scrollToBottom());
  ui.announcementClose.addEventListener('click', () => {
    ui.announcement.hidden = true;
  });
  ui.retryNow.addEventListener('click', reconnectNow);

  ui.menuButton.addEventListener('click', openSidebar);
  ui.sidebarClose.addEventListener('click', closeSidebar);
  ui.scrim.addEventListener('click', closeSidebar);
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') closeSidebar();
  });

  window.addEventListener('hashchange', () => {
    if (state.conn !== 'online') {
      if (linkToOpen) linkToOpen = { room: roomFromHash(), key: keyFromHash() };
      return;
    }
    const wanted = roomFromHash();
    if (wanted && wanted !== state.chat.roomId) joinRoom(wanted, { fromLink: true, key: keyFromHash() });
    else if (!wanted && state.chat.roomId !== LOBBY) {
      if (/room=/.test(location.hash)) {
        toast('That link does not contain a valid room code.', { title: 'Bad link' });
        setHashRoom(state.chat.roomId);
      } else state.chat.leave().catch(() => {});
    }
  });
  window.addEventListener('online', reconnectNow);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) {
      state.unread = 0;
      updateTitle();
    }
  });
}

async function main() {
  bindEvents();
  updateComposerState();
  updateTitle();
  const target = await resolveTarget();
  if (target?.user) {
    // Signed in: the token's name until the server confirms it (setIdentity); no name dialog, ever.
    state.signedIn = true;
    state.username = target.user.name;
    state.auth = target.auth;
    state.isAdmin = target.user.admin;
  } else {
    state.username = loadUsername();
  }
  renderMe();
  if (!target) {
    setConn('unconfigured');
    showUnconfigured();
  } else {
    state.wsBaseUrl = target.wsUrl;
  }
  if (!state.username) {
    openUsernameDialog({ first: true });
    return;
  }
  if (state.wsBaseUrl) startClient();
}

// A small debugging/testing handle; it exposes no secrets (there are none in the page).
window.roomcast = {
  get client() {
    return state.chat;
  },
  reconnectNow,
};

main();

/**
 * Where to connect (`wsUrl`) and, when signed in, as whom (`user`); null when the page knows no server. Only this
 * origin's own files name the server (config.js, /config.json), never the page's address: a link could otherwise
 * point the page, its sign-in token and the invite key in `#room=…&key=…` at any host.
 */
