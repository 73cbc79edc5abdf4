// Profiles beside messages: a member's display name and status, as its `profile` pushes give them (setprofile), per
// room and name shown there. Told live to the rooms the member belongs to; a page that loads later learns a profile
// at its next change.
import { state } from './state.js';

/** `${roomId}\n${username}` -> { displayName, status }. */
const profiles = new Map();
const keyOf = (roomId, username) => `${roomId}\n${username}`;

/** The element that shows a member's profile beside its name in a message row, or null when it has none. */
export function profileNode(roomId, username) {
  const profile = profiles.get(keyOf(roomId, username));
  if (!profile?.displayName) return null;
  const node = document.createElement('span');
  node.className = 'msg-profile';
  node.dataset.testid = 'message-profile';
  node.textContent = profile.displayName;
  node.dir = 'auto';
  if (profile.status) node.title = profile.status;
  return node;
}

/** Shows a profile on the message rows on screen of the member it names. */
function redraw(roomId, username) {
  if (roomId !== state.shownRoom) return;
  for (const row of document.querySelectorAll('[data-testid="message"]')) {
    if (row.dataset.username !== username) continue;
    row.querySelector('.msg-profile')?.remove();
    const node = profileNode(roomId, username);
    if (node) row.querySelector('.msg-author')?.after(node);
  }
}

/** Follows the `profile` pushes of every followed room. */
export function watchProfiles(chat) {
  chat.on('profile', (frame) => {
    if (!frame.roomId || !frame.username) return;
    profiles.set(keyOf(frame.roomId, frame.username), {
      displayName: frame.displayName,
      status: frame.status,
    });
    redraw(frame.roomId, frame.username);
  });
}
