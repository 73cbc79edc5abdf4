// The sidebar's "Your profile" form: a signed-in member's display name and status (setprofile), which each of its
// rooms is told of live (profiles.js shows them beside messages).
import { state } from './state.js';
import { toast, ui } from './ui.js';

/** The sidebar's "Your profile" form (signed in only): display name and status, told to every room of yours. */
export function bindProfileForm() {
  ui.profileForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const chat = state.chat;
    if (!chat) return;
    const displayName = ui.profileDisplayName.value.trim();
    chat.setProfile({ ...(displayName && { displayName }), status: ui.profileStatus.value.trim() }).then(
      () => toast('Your rooms see your profile now.', { kind: 'info', timeout: 2500 }),
      (err) => toast(err.message, { title: 'Could not save your profile' }),
    );
  });
}

/** Shown to signed-in people only: without sign-in there is no identity a profile could belong to. */
export function showProfileForm() {
  ui.profilePanel.hidden = !state.signedIn;
}
