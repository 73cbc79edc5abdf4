// Who the chat page speaks as, and leaving: the name this tab chose (open mode) or the signed-in user, the name
// dialog, the admin's link to the broadcast page, and sign-out (web/signin.js ends the issuer's session too).

import { markOwn } from './messageView.js';
import { openUsernameDialog, saveUsername, validateUsername } from './names.js';
import { showProfileForm } from './profileForm.js';
import { renderMembers } from './sidebar.js';
import { signOut } from './signin.js';
import { isOwn, state } from './state.js';
import { hueOf, initialOf, nameNode, toast, ui } from './ui.js';

export function renderMe() {
  ui.meLabel.textContent = state.signedIn ? 'Signed in as' : 'Chatting as';
  ui.meName.replaceChildren(nameNode(state.username || ''));
  ui.meAvatar.textContent = initialOf(state.username || '?');
  ui.meAvatar.style.setProperty('--hue', String(hueOf(state.username || '?')));
  ui.changeName.hidden = state.signedIn;
  ui.signOut.hidden = !state.signedIn;
  showProfileForm();
  // A convenience, not a permission: the broadcast route checks the token's group itself.
  ui.broadcastLink.hidden = !state.isAdmin;
}

/** Who we are changed (the server named us): our messages, the member list and the sidebar follow. */
export function setIdentity(name) {
  if (name === state.username) return;
  state.username = name;
  renderMe();
  for (const row of ui.messageList.querySelectorAll('.msg'))
    markOwn(row, isOwn({ username: row.dataset.username, authorKey: row.dataset.authorKey }));
  if (state.chat) renderMembers(state.chat.members);
}

/**
 * The name dialog and sign-out. `onNameChosen(changed)` runs after a valid name is saved (the page then connects,
 * or reconnects under the new name).
 */
export function bindAccount({ onNameChosen }) {
  ui.usernameForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const { name, error } = validateUsername(ui.usernameInput.value);
    if (error) {
      ui.usernameHint.textContent = error;
      ui.usernameHint.classList.add('is-error');
      ui.usernameInput.setAttribute('aria-invalid', 'true');
      ui.usernameInput.focus();
      return;
    }
    ui.usernameInput.setAttribute('aria-invalid', 'false');
    const changed = name !== state.username;
    state.username = name;
    saveUsername(name);
    renderMe();
    ui.usernameDialog.close();
    onNameChosen(changed);
  });
  ui.usernameInput.addEventListener('input', () => {
    ui.usernameHint.classList.remove('is-error');
    ui.usernameInput.removeAttribute('aria-invalid');
  });
  ui.usernameCancel.addEventListener('click', () => ui.usernameDialog.close());
  ui.usernameDialog.addEventListener('cancel', (ev) => {
    if (!state.username) ev.preventDefault(); // a name is required on first visit
  });
  ui.changeName.addEventListener('click', () => {
    if (!state.signedIn) openUsernameDialog({ first: false });
  });
  ui.signOut.addEventListener('click', () => {
    ui.signOut.disabled = true;
    state.chat?.close();
    // The page leaves for the issuer's logout and comes back to sign in afresh; a failure leaves it here.
    signOut(state.auth).catch((err) => {
      ui.signOut.disabled = false;
      toast(`${err.message} Close the browser to end the sign-in.`, { title: 'Sign-out incomplete' });
    });
  });
}
