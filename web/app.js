// roomcast browser chat: a view over the roomcast client library (client/, bundled into /roomcast.js), which
// owns the connection, reconnects, resume, seq order and the outbox. Plain ES module, no framework, no external
// requests. All user-provided text is rendered with textContent; display names inside `<bdi>` (ui.js nameNode).
// This module starts the page; each concern is a module of its own: connection.js (the client and its frames),
// rooms.js (the room on screen, joining and leaving), messageList.js and messages.js (the message list), members.js,
// composer.js. The features register themselves (features.js; index.html loads their scripts: changes.js,
// myrooms.js, pins.js, search.js…) and are bound, and handed each client, without being named here.

import { bindAccount, renderMe } from './account.js';
import { bindComposer, updateComposerState } from './composer.js';
import { bindConnection, reconnectNow, setConn, startClient } from './connection.js';
import { bindFeatures } from './features.js';
import { updateTitle } from './messageList.js';
import { bindMessageList } from './messages.js';
import { loadUsername, openUsernameDialog } from './names.js';
import { bindRoomControls, showUnconfigured } from './rooms.js';
import { resolveTarget } from './signin.js';
import { state } from './state.js';
import { closeSidebar, openSidebar, ui } from './ui.js';

function bindSidebar() {
  ui.menuButton.addEventListener('click', openSidebar);
  ui.sidebarClose.addEventListener('click', closeSidebar);
  ui.scrim.addEventListener('click', closeSidebar);
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') closeSidebar();
  });
}

function bindEvents() {
  bindAccount({
    onNameChosen(changed) {
      updateComposerState();
      if (state.wsBaseUrl && (changed || !state.chat)) startClient();
      ui.composerInput.focus();
    },
  });
  bindRoomControls();
  bindComposer();
  bindMessageList();
  // The features that registered themselves (features.js), after the page's own controls.
  bindFeatures();
  bindSidebar();
  bindConnection();
}

/** Who we are: signed in, the token's name until the server confirms it (setIdentity), and no name dialog, ever. */
function takeIdentity(target) {
  if (target?.user) {
    state.signedIn = true;
    state.username = target.user.name;
    state.auth = target.auth;
    state.isAdmin = target.user.admin;
  } else {
    state.username = loadUsername();
  }
  renderMe();
}

async function main() {
  bindEvents();
  updateComposerState();
  updateTitle();
  // Where to connect and as whom; null when the page knows no server (signin.js).
  const target = await resolveTarget();
  takeIdentity(target);
  if (!target) {
    setConn('unconfigured');
    showUnconfigured();
  } else {
    state.wsBaseUrl = target.wsUrl;
    state.typingHeartbeatMs = target.typingHeartbeatMs;
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
