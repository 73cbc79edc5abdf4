// Profiles beside messages: a member's display name, status and avatar, per room and member key there (`authorKey`,
// as its messages carry it: a name can be shown by someone else, a key names one person). Learnt from a join's and a
// `history` page's `profiles` (the authors of the messages they carry) and from `profile` pushes, which tell every
// room of the member each change live.
import { registerFeature } from './features.js';
import { state } from './state.js';

/** `${roomId}\n${authorKey}` -> { displayName, status, avatar }. */
const profiles = new Map();
const keyOf = (roomId, authorKey) => `${roomId}\n${authorKey}`;
/**
 * `${roomId}\n${username}` -> { authorKey, rank }: whom a name in the member list (names only: the `members` frame
 * carries no keys) is, as the latest message under that name (`rank`: its seq) or profile push (the room's latest
 * seq seen: it names the person's current name) said. An older history page read later never overrides a newer one.
 */
const nameKeys = new Map();
const latestSeq = new Map();
/** What runs when a name's profile may show differently (sidebar.js draws the member list again). */
const nameListeners = new Set();

/** Remembers that `username` is `authorKey` in `roomId`, as of `rank`. */
function bindName(roomId, username, authorKey, rank) {
  if (!roomId || !username || !authorKey) return;
  const key = keyOf(roomId, username);
  const held = nameKeys.get(key);
  if (held && held.rank > rank) return;
  nameKeys.set(key, { authorKey, rank });
  if (held?.authorKey !== authorKey) for (const run of nameListeners) run(roomId);
}

function seeMessage(m) {
  if (!m?.roomId || !Number.isInteger(m.seq)) return;
  latestSeq.set(m.roomId, Math.max(latestSeq.get(m.roomId) ?? 0, m.seq));
  bindName(m.roomId, m.username, m.authorKey, m.seq);
}

/** The profile of the member shown as `username` in `roomId` ({ authorKey, displayName, status, avatar }), if known. */
export function profileOfName(roomId, username) {
  const bound = nameKeys.get(keyOf(roomId, username));
  if (!bound) return undefined;
  return { authorKey: bound.authorKey, ...profiles.get(keyOf(roomId, bound.authorKey)) };
}

/** Runs `run(roomId)` whenever a profile or whom a name is changes there. */
export function onNameProfiles(run) {
  nameListeners.add(run);
}

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

/**
 * Puts the member's avatar image in a row's initial-letter avatar (`el`), or takes it out when it has none; `testid`
 * names the image (a message row's, a member list row's).
 */
export function showAvatar(el, roomId, authorKey, testid = 'message-avatar') {
  if (!el) return;
  el.querySelector('.profile-avatar')?.remove();
  const img = authorKey ? avatarImage(profiles.get(keyOf(roomId, authorKey))?.avatar, testid) : null;
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
  for (const run of nameListeners) run(roomId);
}

/**
 * The person's own profile (signed in): read with each `myrooms` answer, so a reloaded page shows it beside its own
 * messages at once, and kept by its own changes and its other devices' (profileForm.js). Shown on the rows of the room
 * on screen by the person's key there (joined's `memberKey`), whoever else wrote there.
 */
let own = null;

function showOwn(roomId, memberKey) {
  if (own && roomId && memberKey) know(roomId, { ...own, authorKey: memberKey });
}

/** The person's own profile as the server keeps it now: the room on screen shows it on the person's messages. */
export function knowOwnProfile(profile) {
  if (!profile?.userId) return;
  own = { displayName: profile.displayName, status: profile.status, avatar: profile.avatar };
  showOwn(state.shownRoom, state.memberKey);
}

// Follows the `profile` pushes of every followed room, and the profiles joins and history pages carry: known before
// the page draws the message rows that show them.
registerFeature('profiles', {
  before: {
    profile: (frame) => {
      // A push names the person's current name in the room: as of the latest seq seen there.
      bindName(frame.roomId, frame.username, frame.authorKey, latestSeq.get(frame.roomId) ?? 0);
      know(frame.roomId, frame);
    },
    message: seeMessage,
    frame: ({ frame }) => {
      if (frame?.type !== 'joined' && frame?.type !== 'history') return;
      const messages = frame.type === 'joined' ? frame.history : frame.messages;
      if (Array.isArray(messages)) for (const m of messages) seeMessage({ roomId: frame.roomId, ...m });
      if (Array.isArray(frame.profiles)) for (const profile of frame.profiles) know(frame.roomId, profile);
      // The room entered: the person's own rows there show its profile, whether or not the page's authors carry it.
      if (frame.type === 'joined') showOwn(frame.roomId, frame.memberKey);
    },
  },
});
