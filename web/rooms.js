// The room on screen: its header and invite, joining by code or link, leaving, creating a room, and what changes
// when the client moves to another room.
import { renderMe } from './account.js';
import { updateComposerState } from './composer.js';
import {
  bindDirectory,
  clearNewRoom,
  isPublicRoom,
  knowRoom,
  newRoomInfo,
  onRoomNamed,
  roomNameOf,
  roomTopicOf,
} from './directory.js';
import { knowDmPeer, onDmNamed, showDmHeader } from './dmHeader.js';
import { refreshMembers } from './members.js';
import { addSystemLine, updateEmpty, updateTitle } from './messageList.js';
import { inviteLink, isValidRoomCode, normalizeRoomInput, setHashRoom } from './names.js';
import { bindOwnerControls } from './owner.js';
import { cancelReply } from './replies.js';
import { LOBBY } from './roomcast.js';
import { showRoomSettingsOf } from './roomSettings.js';
import { readable, roomWords } from './roomWords.js';
import { memberActions, renderMembers, showInfo } from './sidebar.js';
import { inTurn, state } from './state.js';
import { closeSidebar, copyText, ERROR_TITLES, errorTitle, resetHues, toast, ui } from './ui.js';

const JOIN_HINT = '8 characters: letters (no I or O) and digits 2–9.';

export function joinRoom(code, { fromLink = false, key } = {}) {
  setRoomHeader(code, { pending: true });
  inTurn(() => state.chat.join(code, key)).then(
    // A direct message entered by its code (a reload, a link): the server's answer names whom it is with.
    (joined) => joined?.dm?.username && knowDmPeer(joined.roomId, joined.dm.username),
    (err) => {
      setRoomHeader(state.shownRoom ?? LOBBY);
      setHashRoom(state.chat.roomId);
      // One place for the error: under the code the user typed, else (a link) a notification.
      if (!fromLink && normalizeRoomInput(ui.joinInput.value) === code) {
        showJoinError(readable(err.message));
      } else {
        toast(readable(err.message), { title: ERROR_TITLES[err.code] || 'Could not join' });
      }
    },
  );
}

function showJoinError(message) {
  ui.joinInput.setAttribute('aria-invalid', 'true');
  ui.joinHint.classList.add('is-error');
  ui.joinHint.textContent = message;
}

export function onRoom(roomId) {
  setHashRoom(roomId);
  if (state.shownRoom === roomId) return;
  state.shownRoom = roomId;
  state.unread = 0;
  cancelReply();
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
  const name = isLobby ? undefined : roomNameOf(roomId);
  ui.roomKind.textContent = pending
    ? 'joining…'
    : isLobby
      ? 'public'
      : isPublicRoom(roomId)
        ? 'public room'
        : 'private room';
  ui.invite.hidden = isLobby || pending;
  ui.inviteCode.textContent = isLobby ? '' : roomId;
  ui.leaveButton.hidden = isLobby;
  ui.ownerControls.hidden = isLobby || pending || !state.owned.has(roomId);
  ui.roomHint.hidden = !isLobby;
  // A named room shows its name (and topic); one never named, its code (directory.js).
  ui.roomTitle.textContent = isLobby ? 'Lobby' : name ? `# ${name}` : `Room ${roomId}`;
  ui.roomSub.textContent = isLobby
    ? 'Everyone who connects starts here'
    : (roomTopicOf(roomId) ?? 'Share the code to invite people');
  ui.composerInput.placeholder = isLobby
    ? 'Message the lobby…'
    : `Message ${name ? `#${name}` : `room ${roomId}`}…`;
  ui.emptyTitle.textContent = isLobby ? 'Welcome to the lobby' : 'This room is quiet';
  ui.emptyText.textContent = isLobby
    ? 'Everyone who connects lands here. Say hello, create a private room, or join one with a code.'
    : `Invite people with the code ${roomId} — messages appear here instantly.`;
  if (!pending) showDmHeader(roomId);
  if (!pending) showRoomSettingsOf(roomId);
  updateTitle();
}

export function showUnconfigured(detail) {
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

function whenOnline(action) {
  if (state.conn !== 'online') {
    toast('Not connected yet — try again in a moment.', { kind: 'info' });
    return;
  }
  action();
}

function createRoom() {
  const info = newRoomInfo();
  if (!info) return;
  inTurn(() => state.chat.createRoom(info))
    .then((joined) => {
      const { roomId } = joined;
      clearNewRoom();
      state.owned.add(roomId);
      // The room is what was asked for: its settings form and header show the name at once.
      knowRoom(roomId, { ...info, ...joined });
      if (state.shownRoom === roomId) {
        setRoomHeader(roomId);
        renderMembers(state.chat.members);
      }
    })
    .catch((err) => toast(err.message, { title: errorTitle(err, 'Could not create the room') }));
}

/** The join form: codes are upper-cased as typed, checked before they are sent, and the hint says what is wrong. */
function bindJoinForm() {
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
      showJoinError(
        code ? `“${code.slice(0, 12)}” is not a room code. ${JOIN_HINT}` : 'Enter an 8-character room code.',
      );
      ui.joinInput.focus();
      return;
    }
    ui.joinInput.value = code;
    if (code === state.chat?.roomId) {
      toast(`You are already in ${roomWords(code)}.`, { kind: 'info', timeout: 2500 });
      return;
    }
    whenOnline(() => joinRoom(code));
  });
}

/** The sidebar's room controls: create, join, leave, the invite's copy buttons, the owner's and the details panel. */
export function bindRoomControls() {
  onDmNamed(updateTitle);
  // A room's name known or changed: its header and the tab's title, when it is the one on screen.
  onRoomNamed((roomId) => {
    if (roomId === state.shownRoom) setRoomHeader(roomId);
  });
  // A public room found by name is joined by its code alone.
  bindDirectory(
    () => (state.conn === 'online' ? state.chat : undefined),
    (roomId) => whenOnline(() => joinRoom(roomId)),
  );
  ui.createRoom.addEventListener('click', () => whenOnline(createRoom));
  memberActions.remove = bindOwnerControls(addSystemLine);
  bindJoinForm();
  ui.leaveButton.addEventListener('click', () => {
    inTurn(() => state.chat?.leave()).catch((err) => toast(err.message, { title: 'Could not leave' }));
    closeSidebar();
  });
  ui.copyCode.addEventListener('click', () => copyText(state.shownRoom, 'Room code'));
  ui.copyLink.addEventListener('click', () => copyText(inviteLink(state.shownRoom), 'Invite link'));
  ui.refreshMembers.addEventListener('click', () => state.chat?.who().catch(() => {}));
  ui.detailsPanel.addEventListener('toggle', () => {
    if (ui.detailsPanel.open) void showInfo();
  });
}
