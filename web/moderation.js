// Moderation in the web chat: the room's moderators marked in the member list (and, for the staff, its muted members),
// the owner's and moderators' menu on each member (make moderator, mute for a time, unmute, ban), Unban by name under
// the list (a banned member is no longer listed; modlog.js lists the banned with one-click Unban), the owner's slow mode, and the composer telling a muted member so, or the room's slow mode. The server holds every rule (FORBIDDEN, MUTED, SLOW_MODE otherwise).

import { confirmAction } from './confirm.js';
import { registerFeature } from './features.js';
import { mutedKind, noteModeration } from './modlog.js';
import { openRoom } from './myrooms.js';
import { setHashRoom } from './names.js';
import { readable, roomWords, whenInWords } from './roomWords.js';
import { state } from './state.js';
import { ERROR_TITLES, h, toast, ui } from './ui.js';

/**
 * The room on screen's moderation: our role, its moderators' names, our mute (ISO end, or 'forever'), slow mode, and
 * the name its owner created it under (no one but the owner is offered anything on that row: the server refuses it).
 */
export const moderation = {
  role: 'member',
  moderators: new Set(),
  mutedUntil: null,
  slowModeSeconds: 0,
  ownerName: null,
};

/** Mute lengths the menu offers, in minutes (undefined: until unmuted). */
const MUTE_CHOICES = [
  { label: 'Mute 10 min', minutes: 10, id: 'mute-10' },
  { label: 'Mute 1 h', minutes: 60, id: 'mute-60' },
  { label: 'Mute 24 h', minutes: 1440, id: 'mute-1440' },
  { label: 'Mute until unmuted', minutes: undefined, id: 'mute-forever' },
];

let rerender = () => {};
/** Draws the composer's state again (the page's, connection.js: handed in by `watch`). */
let updateComposer = () => {};
let unmuteTimer;

/** Whether we are muted in the room on screen now. */
export function mutedNow() {
  const until = moderation.mutedUntil;
  return until === 'forever' || (until !== null && Date.parse(until) > Date.now());
}

const canModerate = () => moderation.role === 'owner' || moderation.role === 'moderator';

/** The member's role mark in the list: "mod" for a moderator. */
export function roleBadge(name) {
  if (!moderation.moderators.has(name)) return null;
  const badge = h('span', 'member-role', 'mod');
  badge.dataset.testid = 'member-role';
  badge.dataset.role = 'moderator';
  badge.title = `${name} is a moderator of this room`;
  return badge;
}

/** The owner's mark in the list: "owner", on the name the room's owner created it under. */
export function ownerBadge(name) {
  if (!moderation.ownerName || name !== moderation.ownerName) return null;
  const badge = h('span', 'member-role member-owner', 'owner');
  badge.dataset.testid = 'member-role';
  badge.dataset.role = 'owner';
  badge.title = `${name} owns this room`;
  return badge;
}

/** What the list's row of `name` depends on here: it is drawn again when this changes. */
export const rowKind = (name) =>
  `${moderation.role}:${name === moderation.ownerName ? 'owner' : moderation.moderators.has(name) ? 'mod' : 'member'}${mutedKind(name)}`;

function act(promise, done, failed) {
  promise.then(done, (err) => toast(readable(err.message), { title: ERROR_TITLES[err.code] || failed }));
}

/** Asks first (a ban can't be taken back here, and it changes the invite link), then bans `name` from `roomId`. */
function askThenBan(name, roomId, told) {
  confirmAction({
    title: `Ban ${name}?`,
    text: `${name} leaves ${roomWords(roomId)} and can't join it again, under any name, until unbanned. The invite link changes too.`,
    confirm: 'Ban',
  }).then(
    (yes) =>
      yes &&
      act(
        state.chat.ban(name),
        () => {
          if (state.shownRoom === roomId) setHashRoom(roomId);
          noteModeration(roomId, { kind: 'banned', name });
          told(`You banned ${name} from ${roomWords(roomId)}. The invite link changed.`);
        },
        'Could not ban',
      ),
  );
}

/**
 * The Moderate menu, opened by `toggle`: a popover, drawn in the page's top layer, so the member list's scroll box
 * (a short window's) never clips it, however few members it holds; placed under the toggle's right edge, or above it
 * when the window has no room below. A click elsewhere or Escape closes it (the popover's light dismiss).
 */
function popoverMenu(toggle) {
  const menu = h('div', 'member-menu');
  menu.setAttribute('role', 'menu');
  menu.dataset.testid = 'member-menu';
  menu.popover = 'auto';
  // The button opens and closes it as a popover's own invoker: a click on it while open closes it, not reopens it.
  toggle.popoverTargetElement = menu;
  menu.addEventListener('beforetoggle', (ev) => {
    if (ev.newState !== 'open') return;
    const at = toggle.getBoundingClientRect();
    menu.style.top = `${at.bottom + 4}px`;
    menu.style.right = `${Math.max(4, window.innerWidth - at.right)}px`;
  });
  menu.addEventListener('toggle', (ev) => {
    toggle.setAttribute('aria-expanded', ev.newState === 'open' ? 'true' : 'false');
    if (ev.newState !== 'open') return;
    const at = toggle.getBoundingClientRect();
    const { height } = menu.getBoundingClientRect();
    if (at.bottom + 4 + height > window.innerHeight) menu.style.top = `${Math.max(4, at.top - 4 - height)}px`;
  });
  return menu;
}

/**
 * The owner's or a moderator's menu on member `name`: never on the owner's row, and on a moderator's only the owner's
 * "Make member" (the server refuses muting or banning the owner or a moderator, whoever asks).
 */
export function moderationMenu(name) {
  if (!canModerate()) return null;
  if (name === moderation.ownerName) return null;
  const targetIsMod = moderation.moderators.has(name);
  if (targetIsMod && moderation.role !== 'owner') return null;
  // The room the menu was drawn for: its notices name it and open it, whichever room is on screen by then.
  const roomId = state.shownRoom;
  const told = (text) => toast(text, { kind: 'info', open: () => openRoom(roomId) });
  const wrap = h('div', 'member-moderation');
  const toggle = h('button', 'link-button member-moderate', 'Moderate');
  toggle.type = 'button';
  toggle.dataset.testid = 'member-moderate';
  toggle.setAttribute('aria-haspopup', 'menu');
  toggle.setAttribute('aria-label', `Moderate ${name}`);
  const menu = popoverMenu(toggle);
  const item = (label, testid, run) => {
    const button = h('button', 'member-menu-item', label);
    button.type = 'button';
    button.dataset.testid = testid;
    button.setAttribute('role', 'menuitem');
    button.addEventListener('click', () => {
      menu.hidePopover();
      run();
    });
    menu.append(button);
  };
  if (moderation.role === 'owner')
    item(targetIsMod ? 'Make member' : 'Make moderator', 'member-set-role', () =>
      act(
        state.chat.setRole(name, targetIsMod ? 'member' : 'moderator'),
        (f) => applyRole(f.username, f.role),
        'Could not change the role',
      ),
    );
  if (!targetIsMod) {
    for (const choice of MUTE_CHOICES)
      item(choice.label, choice.id, () =>
        act(
          state.chat.mute(name, choice.minutes === undefined ? {} : { minutes: choice.minutes }),
          (f) => {
            noteModeration(roomId, { kind: 'muted', name, until: f.until });
            told(
              `${name} is muted in ${roomWords(roomId)} ${f.until ? `until ${whenInWords(f.until)}` : 'until unmuted'}.`,
            );
          },
          'Could not mute',
        ),
      );
    item('Unmute', 'member-unmute', () =>
      act(
        state.chat.unmute(name),
        () => {
          noteModeration(roomId, { kind: 'unmuted', name });
          told(`${name} may post in ${roomWords(roomId)} again.`);
        },
        'Could not unmute',
      ),
    );
    item('Ban', 'member-ban', () => askThenBan(name, roomId, told));
  }
  wrap.append(toggle, menu);
  return wrap;
}

function applyRole(name, role) {
  if (role === 'moderator') moderation.moderators.add(name);
  else moderation.moderators.delete(name);
  if (name === state.username && moderation.role !== 'owner') moderation.role = role;
  rerender();
  updateModerationStatus();
}

/** The composer's line: muted (and until when), or the room's slow mode for a member bound by it. */
export function updateModerationStatus() {
  const line = ui.composerStatus;
  if (!line) return;
  clearTimeout(unmuteTimer);
  let text = '';
  if (mutedNow()) {
    text =
      moderation.mutedUntil === 'forever'
        ? 'You are muted in this room until a moderator unmutes you. You can still read.'
        : `You are muted in this room until ${whenInWords(moderation.mutedUntil)}. You can still read.`;
    line.dataset.state = 'muted';
    if (moderation.mutedUntil !== 'forever') {
      const left = Date.parse(moderation.mutedUntil) - Date.now();
      unmuteTimer = setTimeout(updateModerationStatus, Math.min(left + 250, 2 ** 31 - 1));
    }
  } else if (moderation.slowModeSeconds > 0 && moderation.role === 'member') {
    text = `Slow mode: one message every ${moderation.slowModeSeconds} s.`;
    line.dataset.state = 'slow';
  }
  line.textContent = text;
  line.hidden = text === '';
  if (ui.slowModeSelect) ui.slowModeSelect.value = String(moderation.slowModeSeconds);
  // "Unban…" sits in the members' header (no line of its own: the sidebar fits 1280×800); it opens the form.
  if (ui.unbanToggle) ui.unbanToggle.hidden = !canModerate();
  if (ui.unbanForm && !canModerate()) ui.unbanForm.hidden = true;
  ui.composerInput.disabled = mutedNow();
  ui.composerInput.placeholder = mutedNow() ? 'You are muted in this room' : 'Write a message…';
}

/** The room's moderation as joined, known before the page draws the room (features.js: a `before` handler). */
function onRoomModeration({ roomId, moderation: found }) {
  moderation.role = found?.role ?? 'member';
  // The server says who owns the room (a reloaded page, another device): its owner's controls show there too.
  if (moderation.role === 'owner') state.owned.add(roomId);
  moderation.moderators = new Set(found?.moderators ?? []);
  moderation.mutedUntil = found?.mutedUntil === null ? 'forever' : (found?.mutedUntil ?? null);
  moderation.slowModeSeconds = found?.slowModeSeconds ?? 0;
  moderation.ownerName = found?.ownerName ?? null;
  updateModerationStatus();
}

/** The server's moderation notices about the room on screen. */
function onModerationNotice(f) {
  if (f.roomId !== state.shownRoom) return;
  if (f.type === 'rolechanged') applyRole(f.username, f.role);
  else if (f.type === 'muted') moderation.mutedUntil = f.until ?? 'forever';
  else if (f.type === 'unmuted') moderation.mutedUntil = null;
  else if (f.type === 'slowmode') moderation.slowModeSeconds = f.seconds;
  updateModerationStatus();
  updateComposer();
}

/** Each new client: the page's redraws, the Unban form and slow mode acting through it. */
function watchModeration(chat, page) {
  rerender = page.redrawMembers;
  updateComposer = page.updateComposer;
  // Handlers assigned, not added: each new client (a reconnect) takes them over, so one submit unbans once.
  if (ui.unbanToggle)
    ui.unbanToggle.onclick = () => {
      ui.unbanForm.hidden = !ui.unbanForm.hidden;
      if (!ui.unbanForm.hidden) ui.unbanName.focus();
    };
  if (ui.unbanForm)
    ui.unbanForm.onsubmit = (ev) => {
      ev.preventDefault();
      const name = ui.unbanName.value.trim();
      if (!name) return;
      act(
        chat.unban(name),
        () => {
          noteModeration(state.shownRoom, { kind: 'unbanned', name });
          ui.unbanName.value = '';
          ui.unbanForm.hidden = true;
          toast(`${name} may join again with the room's current link.`, { kind: 'info' });
        },
        'Could not unban',
      );
    };
  if (ui.slowModeSelect)
    ui.slowModeSelect.onchange = () => {
      const seconds = Number(ui.slowModeSelect.value);
      act(
        chat.setSlowMode(seconds),
        (f) => {
          moderation.slowModeSeconds = f.seconds;
          toast(f.seconds > 0 ? `Slow mode: one message every ${f.seconds} s.` : 'Slow mode is off.', {
            kind: 'info',
          });
        },
        'Could not set slow mode',
      );
    };
}

// Before the page's own `room` handler: the room's moderation is known when the room is drawn (features.js).
registerFeature('moderation', {
  watch: watchModeration,
  before: { room: onRoomModeration, moderation: onModerationNotice },
});
