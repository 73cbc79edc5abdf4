// Profiles beside messages: a member's display name, status and avatar, per room and member key there (`authorKey`,
// as its messages carry it: a name can be shown by someone else, a key names one person). Learnt from a join's and a
// `history` page's `profiles` (the authors of the messages they carry) and from `profile` pushes, which tell every
// room of the member each change live.
import { state } from './state.js';

/** `${roomId}\n${authorKey}` -> { displayName, status, avatar }. */
const profiles = new Map();
const keyOf = (roomId, authorKey) => `${roomId}\n${authorKey}`;

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
export function profileNode(roomId, authorKey) {
  if (!authorKey) return null;
  const profile = profiles.get(keyOf(roomId, authorKey));
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
export function showAvatar(el, roomId, authorKey) {
  if (!el) return;
  el.querySelector('.profile-avatar')?.remove();
  const img = authorKey
    ? avatarImage(profiles.get(keyOf(roomId, authorKey))?.avatar, 'message-avatar')
    : null;
  el.classList.toggle('has-image', img !== null);
  if (img) el.append(img);
}

/** Shows a profile on the message rows on screen of the member it names (by key, whatever name they show). */
function redraw(roomId, authorKey) {
  if (roomId !== state.shownRoom) return;
  for (const row of document.querySelectorAll('[data-testid="message"]')) {
    if (row.dataset.authorKey !== authorKey) continue;
    row.querySelector('.msg-profile')?.remove();
    const node = profileNode(roomId, authorKey);
    if (node) row.querySelector('.msg-author')?.after(node);
    showAvatar(row.querySelector('.avatar'), roomId, authorKey);
  }
}

function know(roomId, profile) {
  if (!roomId || !profile?.authorKey) return;
  profiles.set(keyOf(roomId, profile.authorKey), {
    displayName: profile.displayName,
    status: profile.status,
    avatar: profile.avatar,
  });
  redraw(roomId, profile.authorKey);
}

/** Follows the `profile` pushes of every followed room, and the profiles joins and history pages carry. */
export function watchProfiles(chat) {
  chat.on('profile', (frame) => know(frame.roomId, frame));
  chat.on('frame', ({ frame }) => {
    if ((frame?.type === 'joined' || frame?.type === 'history') && Array.isArray(frame.profiles))
      for (const profile of frame.profiles) know(frame.roomId, profile);
  });
}
