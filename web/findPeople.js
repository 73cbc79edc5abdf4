// "Find people", in the direct-message area under "Your rooms": as you type a name, the signed-in people you share a
// room with whose name starts with it (client.rooms.findPeople, docs/CLIENT.md; one request 300 ms after typing
// stops), each opening a direct message when clicked, from whatever room is on screen. The open chat (no sign-in)
// has no directory of people: the section says why direct messages need sign-in instead.

import { knowDmPeer } from './dmHeader.js';
import { registerFeature } from './features.js';
import { avatarImage } from './profiles.js';
import { inTurn, state } from './state.js';
import { byId, closeSidebar, ERROR_TITLES, h, toast } from './ui.js';

/** A request goes this long after the last keystroke: typing a name costs one or two, not one per letter. */
const DEBOUNCE_MS = 300;
/** As long as a name may be (docs/PROTOCOL.md, findpeople). */
const PREFIX_MAX = 32;

/** Why open mode finds nobody, as the server's refusal says it. */
export const SIGN_IN_NOTE =
  'Direct messages and finding people need sign-in: without it a name is not an identity anyone could find or ' +
  'message again. Sign in to find the people you share a room with.';

let wrap = null;
let input = null;
let listEl = null;
let hintEl = null;
let timer = null;
/** The latest search asked: an older answer arriving late is dropped. */
let asked = 0;

/** The section, built once, after "Your rooms" (or the member list before that exists). */
function section() {
  if (wrap) return;
  wrap = h('section', 'members find-people');
  wrap.dataset.testid = 'find-people';
  wrap.setAttribute('aria-labelledby', 'find-people-heading');
  const heading = h('h2', 'eyebrow', 'Find people');
  heading.id = 'find-people-heading';
  const header = h('div', 'members-header');
  header.append(heading);
  hintEl = h('p', 'field-hint');
  hintEl.dataset.testid = 'find-people-hint';
  hintEl.setAttribute('aria-live', 'polite');
  if (!state.signedIn) {
    hintEl.textContent = SIGN_IN_NOTE;
    hintEl.dataset.testid = 'find-people-signin';
    wrap.append(header, hintEl);
  } else {
    input = h('input', 'input');
    input.type = 'search';
    input.maxLength = PREFIX_MAX;
    input.placeholder = 'Name of someone in your rooms';
    input.autocomplete = 'off';
    input.dataset.testid = 'find-people-input';
    input.setAttribute('aria-label', 'Find people you share a room with, by name');
    listEl = h('ul', 'member-list');
    listEl.dataset.testid = 'find-people-list';
    listEl.setAttribute('aria-labelledby', 'find-people-heading');
    hintEl.hidden = true;
    input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(search, DEBOUNCE_MS);
    });
    wrap.append(header, input, listEl, hintEl);
  }
  const after = byId('my-rooms-heading')?.closest('section') ?? byId('members-heading')?.closest('section');
  after?.after(wrap);
}

function hint(text) {
  hintEl.textContent = text;
  hintEl.hidden = text === '';
}

function search() {
  const chat = state.chat;
  const prefix = input.value.trim();
  const id = ++asked;
  if (!chat || prefix === '') {
    listEl.replaceChildren();
    hint('');
    return;
  }
  chat.rooms.findPeople(prefix).then(
    (people) => {
      if (id !== asked) return;
      listEl.replaceChildren(...people.map(row));
      hint(people.length === 0 ? `Nobody in your rooms has a name starting with "${prefix}".` : '');
    },
    (err) => {
      if (id !== asked) return;
      listEl.replaceChildren();
      hint(err.code === 'FORBIDDEN' ? SIGN_IN_NOTE : err.message);
    },
  );
}

/** One person: a button that opens the direct message with them. */
function row(person) {
  const li = h('li', 'member');
  li.dataset.testid = 'find-people-result';
  li.dataset.userId = person.userId;
  const button = h('button', 'link-button member-name', `✉ ${person.username}`);
  button.type = 'button';
  button.setAttribute('aria-label', `Message ${person.username} privately`);
  Object.assign(button.style, { flex: '1', textAlign: 'left' });
  button.addEventListener('click', () => open(person));
  // The person's avatar (setprofile), a small round image before the name.
  const avatar = avatarImage(person.avatar, 'find-people-avatar');
  if (avatar) li.append(avatar);
  li.append(button);
  // The profile the person set (setprofile): display name and status beside the name.
  if (person.displayName || person.status) {
    const about = h(
      'span',
      'member-profile',
      [person.displayName, person.status].filter(Boolean).join(' · '),
    );
    about.dataset.testid = 'find-people-profile';
    li.append(about);
  }
  return li;
}

function open(person) {
  const chat = state.chat;
  if (!chat) return;
  inTurn(() => chat.rooms.openDirect({ userId: person.userId })).then(
    (joined) => {
      knowDmPeer(joined.roomId, joined.dm?.username || person.username);
      input.value = '';
      listEl.replaceChildren();
      hint('');
      closeSidebar();
    },
    (err) => toast(err.message, { title: ERROR_TITLES[err.code] || 'Could not open a direct message' }),
  );
}

// The section shows with the first client (none while the page knows no server).
registerFeature('findPeople', { watch: section });
