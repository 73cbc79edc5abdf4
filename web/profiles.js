// Profiles beside messages: a member's display name, status and avatar, per room and name shown there. Learnt from
// a join's and a `history` page's `profiles` (the authors of the messages they carry) and from `profile` pushes,
// which tell every room of the member each change live.
import { state } from './state.js';

/** `${roomId}\n${username}` -> { displayName, status, avatar }. */
const profiles = new Map();
const keyOf = (roomId, username) => `${roomId}\n${username}`;

/** A small round image of an avatar (its presigned `url`), or null without one. */
export function avatarImage(avatar, testid) {
  if (!avatar?.url) return null;
  const img = document.createElement('img');
  img.className = 'profile-avatar';
  img.dataset.testid = testid;
  img.alt = '';
  img.src = avatar.url;
  return img;
}

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

/** Puts the member's avatar image in a row's initial-letter avatar (`el`), or takes it out when it has none. */
export function showAvatar(el, roomId, username) {
  if (!el) return;
  el.querySelector('.profile-avatar')?.remove();
  const img = avatarImage(profiles.get(keyOf(roomId, username))?.avatar, 'message-avatar');
  el.classList.toggle('has-image', img !== null);
  if (img) el.append(img);
}

/** Shows a profile on the message rows on screen of the member it names. */
function redraw(roomId, username) {
  if (roomId !== state.shownRoom) return;
  for (const row of document.querySelectorAll('[data-testid="message"]')) {
    if (row.dataset.username !== username) continue;
    row.querySelector('.msg-profile')?.remove();
    const node = profileNode(roomId, username);
    if (node) row.querySelector('.msg-author')?.after(node);
    showAvatar(row.querySelector('.avatar'), roomId, username);
  }
}

function know(roomId, profile) {
  if (!roomId || !profile?.username) return;
  profiles.set(keyOf(roomId, profile.username), {
    displayName: profile.displayName,
    status: profile.status,
    avatar: profile.avatar,
  });
  redraw(roomId, profile.username);
}

/** Follows the `profile` pushes of every followed room, and the profiles joins and history pages carry. */
export function watchProfiles(chat) {
  chat.on('profile', (frame) => know(frame.roomId, frame));
  chat.on('frame', ({ frame }) => {
    if ((frame?.type === 'joined' || frame?.type === 'history') && Array.isArray(frame.profiles))
      for (const profile of frame.profiles) know(frame.roomId, profile);
  });
}
