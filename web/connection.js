// The connection: one roomcast client at a time, its states in the status pill, its frames routed to the view, and
// the room link (the address's #room=…&key=…) opened once the client is online.
import { setIdentity } from './account.js';
import { updateComposerState } from './composer.js';
import { watchFeatures } from './features.js';
import { onPresence } from './members.js';
import { addSystemLine } from './messageList.js';
import { onBroadcast, onMessage } from './messages.js';
import { keyFromHash, roomFromHash, setHashRoom, tabResumeToken } from './names.js';
import { createRoomcastClient, LOBBY } from './roomcast.js';
import { joinRoom, onRoom, showUnconfigured } from './rooms.js';
import { readable } from './roomWords.js';
import { renderMembers } from './sidebar.js';
import { signInAgain, signInLapsed } from './signin.js';
import { inTurn, state } from './state.js';
import { errorTitle, h, toast, ui } from './ui.js';

/**
 * The page's connection state `conn`; `gaveUp` when the client has stopped reconnecting (its `failed` state): then
 * "Retry now" is the only way back short of a reload, so a phone's bar shows it too (`.gave-up`, responsive.css).
 */
export function setConn(conn, { gaveUp = false } = {}) {
  state.conn = conn;
  ui.status.dataset.state = conn;
  renderStatusLabel();
  ui.retryNow.hidden = conn !== 'reconnecting' && conn !== 'offline';
  ui.retryNow.classList.toggle('gave-up', gaveUp);
  if (signInButton) signInButton.hidden = conn !== 'signin';
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
    signin: 'Your sign-in has expired',
  };
  ui.statusLabel.textContent = labels[state.conn] ?? state.conn;
}

/** The client's connection states, as the status pill shows them. */
function onState({ state: next, attempt = 1, delayMs, error }) {
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
    checkSignIn(attempt - 1);
  } else if (next === 'failed') {
    setConn('offline', { gaveUp: true });
    toast(error?.message ?? 'Could not reach the server.', { title: 'Offline' });
    checkSignIn(Number.POSITIVE_INFINITY);
  }
}

let signInButton = null; // "Sign in again", beside the status once the sign-in has lapsed
let checking = false; // one look at the sign-in at a time

/**
 * Signed in and `failed` reconnects refused in a row: when the sign-in has lapsed (signin.js signInLapsed), stop
 * reconnecting and ask to sign in again; a refused handshake's 401 is otherwise an endless "Reconnecting…".
 */
async function checkSignIn(failed) {
  // Offline, a failed reconnect says nothing about the sign-in.
  if (!state.signedIn || checking || state.conn === 'signin' || navigator.onLine === false) return;
  const chat = state.chat;
  checking = true;
  try {
    const token = new URL(state.wsBaseUrl).searchParams.get('token');
    if (!(await signInLapsed(state.auth, token, failed))) return;
    if (state.chat !== chat || state.conn === 'online') return;
    chat.close();
    setConn('signin');
  } catch {
    /* no answer: reconnecting goes on */
  } finally {
    checking = false;
  }
}

let linkToOpen = null; // the room link to open once the client is first online (null once opened)

/** A new client (at start, or under a new name) in place of the old one, its frames routed to the view. */
export function startClient() {
  state.chat?.close();
  let chat;
  try {
    // Signed in, the URL carries the token and the server takes the name from it: no username to send.
    chat = createRoomcastClient({
      url: socketBase(state.wsBaseUrl),
      username: state.signedIn ? undefined : state.username,
      resumeToken: state.signedIn ? undefined : tabResumeToken(),
      trackRooms: true,
      // The deployment's TypingIntervalSeconds (config.json); the client's default matches the template's default.
      ...(state.typingHeartbeatMs && { typingHeartbeatMs: state.typingHeartbeatMs }),
    });
  } catch (err) {
    setConn('unconfigured');
    showUnconfigured(String(err.message || err));
    return;
  }
  state.chat = chat;
  // The features that registered themselves (features.js) handle its events around the page's own.
  watchFeatures(chat, PAGE_HANDLERS, PAGE_SERVICES);
  followLinkWhenReady(chat);
}

/** What the page offers its features' `watch` (features.js): moderation.js and modlog.js redraw with them. */
const PAGE_SERVICES = {
  redrawMembers: () => renderMembers(state.chat.members),
  updateComposer: updateComposerState,
};

/** The page's own handler of each client event: the features' run around it (features.js, watchFeatures). */
const PAGE_HANDLERS = {
  state: onState,
  room: ({ roomId, memberKey }) => {
    state.memberKey = memberKey ?? null;
    onRoom(roomId);
  },
  message: onMessage,
  members: ({ roomId, members, memberCount, counted }) => {
    if (roomId === state.shownRoom) renderMembers(members, memberCount, counted);
  },
  presence: onPresence,
  broadcast: onBroadcast,
  error: (err) => toast(readable(err.message), { title: errorTitle(err, 'Something went wrong') }),
  removed: (f) => {
    state.notice = readable(f.message);
    toast(state.notice, { title: 'Removed from the room' });
  },
  roomclosed: (f) => {
    state.notice = readable(f.message);
    toast(state.notice, { title: 'Room closed' });
  },
  keyrotated: ({ roomId }) => {
    if (roomId !== state.shownRoom) return;
    setHashRoom(roomId);
    // The fan-out tells every member, the owner's own connections too: the owner reads it as their own change.
    const who = state.owned.has(roomId) ? 'You' : 'The owner';
    addSystemLine(`${who} changed the invite link: links shared before no longer work.`, 'info');
  },
};

/** Once online: the server's word on who we are (signed in), and the room in the address. */
function followLinkWhenReady(chat) {
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

export function reconnectNow() {
  state.chat?.retry();
}

/** A room link followed while the page is open: join it, or back to the lobby when the link names no room. */
function onHashChange() {
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
    } else inTurn(() => state.chat.leave()).catch(() => {});
  }
}

export function bindConnection() {
  ui.retryNow.addEventListener('click', reconnectNow);
  // Not a retry-button: a phone's bar hides those while the page reconnects by itself (responsive.css), and nothing
  // else signs the person in again.
  signInButton = h('button', 'link-button sign-in-button', 'Sign in again');
  signInButton.type = 'button';
  signInButton.dataset.testid = 'sign-in-again';
  signInButton.hidden = true;
  signInButton.addEventListener('click', signInAgain);
  ui.retryNow.after(signInButton);
  window.addEventListener('hashchange', onHashChange);
  window.addEventListener('online', reconnectNow);
}
