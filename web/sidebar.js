// The sidebar's panels: the room's member list and the connection's details.

import { moderationMenu, ownerBadge, roleBadge, rowKind } from './moderation.js';
import { mutedBadge } from './modlog.js';
import { onNameProfiles, profileOfName, showAvatar } from './profiles.js';
import { state } from './state.js';
import { fullFmt, h, makeAvatar, nameNode, placeRows, toast, toDate, ui } from './ui.js';

/** What the owner's controls in the member list do; rooms.js sets it (it owns the room's actions). */
export const memberActions = { remove: null };

/**
 * Each member's row, by name, kept from one render to the next: the list is drawn again on every presence change (a
 * member joining or leaving), and a row made anew between a press and a release on its "Message" or "Remove" button
 * would swallow the click. `kind` is what the row was made for: a row is made anew only when that changes (another
 * room, whose avatar hues and buttons differ; our own name; the owner's Remove), never on someone else's presence.
 */
const memberRows = new Map();

/** What a row shows of the member's profile: it is drawn again when this changes. */
function profileKind(name) {
  const p = profileOfName(state.shownRoom, name);
  return p ? `${p.authorKey}|${p.displayName ?? ''}|${p.status ?? ''}|${p.avatar?.url ?? ''}` : '';
}

/**
 * The name part of a row: the profile's display name when the member set one (its name in the room beside it, as
 * mentions and moderation use it), its status on a line under it, and, for the room's staff, "muted".
 */
function memberLabel(name, profile) {
  const label = h('span', 'member-name');
  if (profile?.displayName) {
    const display = h('span', 'member-display', profile.displayName);
    display.dataset.testid = 'member-display-name';
    display.dir = 'auto';
    label.append(display, ' ', h('span', 'member-handle'));
    label.lastChild.append(nameNode(name));
    label.title = `${profile.displayName} (${name})`;
  } else label.append(nameNode(name));
  if (profile?.status) {
    const status = h('span', 'member-status', profile.status);
    status.dataset.testid = 'member-status';
    status.dir = 'auto';
    label.append(status);
  }
  // Muted, as the room's owner and moderators see it (modlog.js; members are not told who is): a line under the
  // name, so the row's buttons leave the name its width.
  const muted = mutedBadge(name);
  if (muted) label.append(muted);
  return label;
}

function memberRow(name, kind, { isMe, canRemove }) {
  const kept = memberRows.get(name);
  if (kept?.kind === kind) return kept.li;
  const li = h('li', 'member');
  li.dataset.testid = 'member-item';
  li.dataset.username = name;
  const profile = profileOfName(state.shownRoom, name);
  // The avatar as message rows draw it (profiles.js): the profile's image over the initial.
  const avatar = makeAvatar(name, 'avatar-sm');
  showAvatar(avatar, state.shownRoom, profile?.authorKey, 'member-avatar');
  li.append(avatar, memberLabel(name, profile));
  // The owner is marked "owner", a moderator "mod" (moderation.js); the staff's menu sits on the others' rows.
  const badge = ownerBadge(name) ?? roleBadge(name);
  if (badge) li.append(badge);
  const menu = isMe ? null : moderationMenu(name);
  if (menu) li.append(menu);
  if (isMe) {
    li.classList.add('is-me');
    li.append(h('span', 'member-you', 'you'));
  } else if (canRemove) {
    const remove = h('button', 'link-button member-remove', 'Remove');
    remove.type = 'button';
    remove.dataset.testid = 'member-remove';
    remove.setAttribute('aria-label', `Remove ${name} from the room`);
    const onRemove = memberActions.remove;
    remove.addEventListener('click', () => onRemove(name));
    li.append(remove);
  }
  memberRows.set(name, { kind, li });
  return li;
}

/** The count the list was last drawn with: a profile arriving draws the list again with it. */
let lastCount = { count: undefined, counted: false };

// A profile learnt, or whom a name is: the shown room's rows follow (each drawn again only if what it shows changed).
onNameProfiles((roomId) => {
  if (roomId === state.shownRoom && state.chat)
    renderMembers(state.chat.members, lastCount.count, lastCount.counted);
});

/**
 * `counted`: the count moved by joins and leaves the server counted without names (a room that has held more than
 * 100 members): the count shown is the server's, the list the names last asked for.
 */
export function renderMembers(list, count, counted = false) {
  lastCount = { count, counted };
  const me = state.username;
  const names = [...new Set(list)].sort((a, b) => {
    if (a === me) return -1;
    if (b === me) return 1;
    return a.localeCompare(b, undefined, { sensitivity: 'base' });
  });
  const canRemove = state.owned.has(state.shownRoom) && Boolean(memberActions.remove);
  // A row drawn again (its profile, role or mute learnt) while its Moderate menu is open keeps the menu open: the
  // owner was choosing from it, and a click on the old one would land on nothing.
  const openMenu = [...memberRows.keys()].find((name) =>
    memberRows.get(name)?.li.querySelector('[data-testid="member-menu"]')?.matches(':popover-open'),
  );
  const items = names.map((name) => {
    const isMe = name === me;
    const kind = `${state.shownRoom} ${isMe ? 'me' : canRemove ? 'owner' : 'member'} ${rowKind(name)} ${profileKind(name)}`;
    return memberRow(name, kind, { isMe, canRemove });
  });
  const listed = new Set(names);
  for (const name of memberRows.keys()) if (!listed.has(name)) memberRows.delete(name);
  // Rows joining or leaving move none of the others (web/myrooms.js adds each new row's "Message" button).
  placeRows(ui.memberList, items);
  const menu = openMenu && memberRows.get(openMenu)?.li.querySelector('[data-testid="member-menu"]');
  if (menu && !menu.matches(':popover-open')) menu.showPopover();
  if (counted && count !== undefined) {
    ui.memberCount.textContent = String(count);
    ui.memberCount.title = `${count} in the room`;
    return;
  }
  ui.memberCount.textContent = String(names.length);
  // memberCount (when the server sends it) counts connections: one person may have several tabs open.
  ui.memberCount.title = (count ?? 0) > names.length ? `${names.length} people, ${count} connections` : '';
}

export async function showInfo() {
  let f;
  try {
    f = await state.chat.info();
  } catch (err) {
    toast(err.message, { title: 'No details' });
    return;
  }
  const rows = [];
  const add = (k, v) => {
    if (v === undefined || v === null || v === '') return;
    const div = h('div');
    div.append(h('dt', null, k), h('dd', null, typeof v === 'object' ? JSON.stringify(v) : String(v)));
    rows.push(div);
  };
  add('Connection', f.connectionId);
  const connectedAt = toDate(f.connectedAt);
  add('Connected', connectedAt ? fullFmt.format(connectedAt) : f.connectedAt);
  const last = toDate(f.lastActiveAt);
  add('Last active', last ? fullFmt.format(last) : f.lastActiveAt);
  add('Source IP', f.sourceIp);
  add('User agent', f.userAgent);
  add('Usage', f.usage);
  add('Room', state.chat.roomId);
  add('Endpoint', state.wsBaseUrl);
  ui.infoList.replaceChildren(...rows);
}
