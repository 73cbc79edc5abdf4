// What the owner and moderators of the room on screen see of its moderation: the header's "Moderation" button opens a
// panel with who is muted (until when; Unmute), who is banned (Unban) and the room's moderation log, newest first, a
// page at a time (Older). All from the server's `modlog` (client.modLog), read on entering the room and each time the
// panel opens, so another moderator's action shows then; this page's own mutes and bans show at once. The member list
// marks a muted member "muted" for them. The server decides who may read it (FORBIDDEN otherwise). Text goes in with
// textContent.

import { registerFeature } from './features.js';
import { readable, whenInWords } from './roomWords.js';
import { state } from './state.js';
import { ERROR_TITLES, fullFmt, h, toast, toDate, ui } from './ui.js';

/** The shown room's moderation as last read: muted name -> until (ISO, or null: until unmuted), banned names, log. */
const seen = { roomId: null, staff: false, muted: new Map(), banned: [], entries: [], next: undefined };

let redrawMembers = () => {};

const failed = (what) => (err) =>
  toast(readable(err.message), { title: ERROR_TITLES[err.code] || `Could not ${what}` });

/** Whether `name` is muted in the shown room, as this owner or moderator last read it (members are never told). */
export const mutedShown = (name) => seen.staff && seen.roomId === state.shownRoom && seen.muted.has(name);

/** What `name`'s row shows of its mute (rowKind): the row is drawn again when it changes. */
export const mutedKind = (name) => (mutedShown(name) ? `:muted:${seen.muted.get(name) ?? 'forever'}` : '');

/** The member list's "muted" mark on `name`'s row, for the room's staff. */
export function mutedBadge(name) {
  if (!mutedShown(name)) return null;
  const until = seen.muted.get(name);
  const badge = h('span', 'member-muted', until ? `muted until ${whenInWords(until)}` : 'muted');
  badge.dataset.testid = 'member-muted';
  badge.title = until ? `${name} is muted until ${whenInWords(until)}` : `${name} is muted until unmuted`;
  return badge;
}

/** A mute, unmute, ban or unban this page made: the lists and the member list follow at once. */
export function noteModeration(roomId, change) {
  if (roomId !== seen.roomId) return;
  const { kind, name } = change;
  if (kind === 'muted') seen.muted.set(name, change.until ?? null);
  else if (kind === 'unmuted') seen.muted.delete(name);
  else if (kind === 'banned') {
    seen.muted.delete(name);
    if (!seen.banned.includes(name)) seen.banned = [...seen.banned, name].sort((a, b) => a.localeCompare(b));
  } else if (kind === 'unbanned') seen.banned = seen.banned.filter((n) => n !== name);
  paint();
  redrawMembers();
  // The log gains the action's row: read again while it is open.
  if (!ui.modlogPanel.hidden) load(roomId);
}

/** One log row in words: "mod-l muted bob-l until 14:05 today". */
export function entryText(entry) {
  const who = entry.target ?? '';
  const detail = entry.detail ?? '';
  switch (entry.action) {
    case 'mute':
      return `muted ${who} ${detail === 'until unmuted' ? 'until unmuted' : `until ${whenInWords(detail)}`}`;
    case 'unmute':
      return `unmuted ${who}`;
    case 'ban':
      return `banned ${who}`;
    case 'unban':
      return `unbanned ${who}`;
    case 'removemember':
      return `removed ${who}`;
    case 'setrole':
      return detail === 'moderator' ? `made ${who} a moderator` : `made ${who} a member`;
    case 'slowmode':
      return detail === '0' ? 'turned slow mode off' : `set slow mode to ${detail} s`;
    case 'rotatekey':
      return 'made a new invite link';
    case 'setroom':
      return `changed the room's ${detail.split(',').join(', ') || 'settings'}`;
    case 'closeroom':
      return 'closed the room';
    case 'deletemessage':
      return `deleted ${who}'s message (${detail})`;
    case 'pinmessage':
      return `pinned ${who}'s message (${detail})`;
    case 'unpinmessage':
      return `unpinned ${who}'s message (${detail})`;
    case 'resolvereport':
      return `closed a report of ${who}'s message (${detail})`;
    default:
      return `${entry.action} ${who}`.trim();
  }
}

function row(name, text, button) {
  const item = h('li', 'modlog-person');
  const label = h('span', 'modlog-person-name', name);
  item.append(label);
  if (text) item.append(h('span', 'modlog-person-until', text));
  item.append(button);
  return item;
}

function liftButton(label, testid, run) {
  const button = h('button', 'link-button', label);
  button.type = 'button';
  button.dataset.testid = testid;
  button.addEventListener('click', run);
  return button;
}

function paint() {
  const shown = seen.staff && seen.roomId === state.shownRoom;
  ui.modlogButton.hidden = !shown;
  if (!shown) ui.modlogPanel.hidden = true;
  ui.modlogButton.setAttribute('aria-expanded', ui.modlogPanel.hidden ? 'false' : 'true');
  const roomId = seen.roomId;
  ui.modlogMuted.replaceChildren(
    ...[...seen.muted].map(([name, until]) => {
      const item = row(
        name,
        until ? `until ${whenInWords(until)}` : 'until unmuted',
        liftButton('Unmute', 'modlog-unmute', () =>
          state.chat
            .unmute(name)
            .then(() => noteModeration(roomId, { kind: 'unmuted', name }), failed('unmute')),
        ),
      );
      item.dataset.testid = 'modlog-muted-item';
      return item;
    }),
  );
  ui.modlogMutedEmpty.hidden = seen.muted.size > 0;
  ui.modlogBanned.replaceChildren(
    ...seen.banned.map((name) => {
      const item = row(
        name,
        '',
        liftButton('Unban', 'modlog-unban', () =>
          state.chat.unban(name).then(() => {
            noteModeration(roomId, { kind: 'unbanned', name });
            toast(`${name} may join again with the room's current link.`, { kind: 'info' });
          }, failed('unban')),
        ),
      );
      item.dataset.testid = 'modlog-banned-item';
      return item;
    }),
  );
  ui.modlogBannedEmpty.hidden = seen.banned.length > 0;
  ui.modlogEntries.replaceChildren(
    ...seen.entries.map((entry) => {
      const item = h('li', 'modlog-entry');
      item.dataset.testid = 'modlog-entry';
      item.dataset.action = entry.action;
      const at = toDate(entry.at);
      const text = h('span', 'modlog-entry-text');
      text.dataset.testid = 'modlog-entry-text';
      text.append(h('strong', null, entry.actor), ` ${entryText(entry)}`);
      const when = h('time', 'modlog-when', at ? fullFmt.format(at) : entry.at);
      when.dateTime = entry.at;
      item.append(text, ' ', when);
      return item;
    }),
  );
  ui.modlogEntriesEmpty.hidden = seen.entries.length > 0;
  ui.modlogOlder.hidden = seen.next === undefined;
}

/** Reads the first page: the log's newest rows, who is muted and who is banned. */
function load(roomId) {
  state.chat
    .modLog({ roomId })
    .then((f) => {
      if (seen.roomId !== roomId) return;
      seen.muted = new Map((f.muted ?? []).map((m) => [m.username, m.until ?? null]));
      seen.banned = f.banned ?? [];
      seen.entries = f.entries;
      seen.next = f.next;
      paint();
      redrawMembers();
    })
    .catch(() => undefined);
}

function enter(roomId, role) {
  seen.roomId = roomId;
  seen.staff = role === 'owner' || role === 'moderator';
  seen.muted = new Map();
  seen.banned = [];
  seen.entries = [];
  seen.next = undefined;
  paint();
  if (seen.staff) load(roomId);
}

/** The header's Moderation button and the panel's Older, wired once. */
function bindModLogHeader() {
  ui.modlogButton.addEventListener('click', () => {
    ui.modlogPanel.hidden = !ui.modlogPanel.hidden;
    paint();
    if (!ui.modlogPanel.hidden && seen.staff) load(seen.roomId);
  });
  ui.modlogOlder.addEventListener('click', () => {
    const { roomId, next } = seen;
    if (next === undefined) return;
    state.chat.modLog({ roomId, before: next }).then((f) => {
      if (seen.roomId !== roomId) return;
      seen.entries = [...seen.entries, ...f.entries];
      seen.next = f.next;
      paint();
    }, failed('read older rows'));
  });
}

/**
 * Reads the shown room's moderation when this user is its owner or a moderator; hides the button otherwise. Before the
 * page's own `room` handler (features.js): the member list the page draws then marks no mute of the room left.
 */
registerFeature('modLog', {
  bind: bindModLogHeader,
  watch: (_chat, page) => {
    redrawMembers = page.redrawMembers;
  },
  before: {
    room: ({ roomId, moderation }) => enter(roomId, moderation?.role),
    // Made a moderator, or a member again, while in the room.
    moderation: (f) => {
      if (f.type === 'rolechanged' && f.roomId === seen.roomId && f.username === state.username)
        enter(f.roomId, f.role);
    },
  },
});
