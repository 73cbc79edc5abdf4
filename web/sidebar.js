// The sidebar's panels: the room's member list and the connection's details.

import { state } from './state.js';
import { fullFmt, h, makeAvatar, nameNode, toast, toDate, ui } from './ui.js';

/** What the owner's controls in the member list do; rooms.js sets it (it owns the room's actions). */
export const memberActions = { remove: null };

export function renderMembers(list, count) {
  const me = state.username;
  const names = [...new Set(list)].sort((a, b) => {
    if (a === me) return -1;
    if (b === me) return 1;
    return a.localeCompare(b, undefined, { sensitivity: 'base' });
  });
  const items = names.map((name) => {
    const li = h('li', 'member');
    li.dataset.testid = 'member-item';
    li.dataset.username = name;
    const label = h('span', 'member-name');
    label.append(nameNode(name));
    li.append(makeAvatar(name, 'avatar-sm'), label);
    if (name === me) {
      li.classList.add('is-me');
      li.append(h('span', 'member-you', 'you'));
    } else if (state.owned.has(state.shownRoom) && memberActions.remove) {
      const remove = h('button', 'link-button member-remove', 'Remove');
      remove.type = 'button';
      remove.dataset.testid = 'member-remove';
      remove.setAttribute('aria-label', `Remove ${name} from the room`);
      const onRemove = memberActions.remove;
      remove.addEventListener('click', () => onRemove(name));
      li.append(remove);
    }
    return li;
  });
  ui.memberList.replaceChildren(...items);
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
