// The sidebar's panels: the room's member list and the connection's details.

import { state } from './state.js';
import { fullFmt, h, makeAvatar, toast, toDate, ui } from './ui.js';

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
    li.append(makeAvatar(name, 'avatar-sm'), h('span', 'member-name', name));
    if (name === me) {
      li.classList.add('is-me');
      li.append(h('span', 'member-you', 'you'));
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
