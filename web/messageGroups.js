// The message list's groups: a separator before the first message of each of the reader's days, and a message
// from the author of the one just above it within GROUP_WINDOW_MS drawn as its continuation (no avatar or name).

import { h } from './ui.js';

const GROUP_WINDOW_MS = 5 * 60 * 1000;

const dayFmt = new Intl.DateTimeFormat(undefined, {
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});

function dayKey(date) {
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

function dayLabel(date) {
  const today = new Date();
  const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
  if (dayKey(date) === dayKey(today)) return 'Today';
  if (dayKey(date) === dayKey(yesterday)) return 'Yesterday';
  return dayFmt.format(date);
}

/**
 * Puts a day separator before the first message of each day (the reader's local day) and removes stale ones;
 * then regroups, since a separator starts a new group.
 */
export function placeDaySeparators(list) {
  for (const old of list.querySelectorAll('.day-sep')) old.remove();
  let last = '';
  for (const row of [...list.querySelectorAll('.msg')]) {
    const time = Number(row.dataset.time);
    if (!time) continue;
    const date = new Date(time);
    const key = dayKey(date);
    if (key !== last) {
      const sep = h('div', 'day-sep');
      sep.dataset.testid = 'day-separator';
      sep.dataset.day = key;
      sep.setAttribute('role', 'separator');
      sep.append(h('span', 'day-sep-label', dayLabel(date)));
      row.before(sep);
      last = key;
    }
    regroup(row);
  }
}

export function regroupAround(el) {
  regroup(el);
  if (el.nextElementSibling) regroup(el.nextElementSibling);
}

export function regroup(el) {
  if (!el.classList.contains('msg')) return;
  const prev = el.previousElementSibling;
  let cont = false;
  if (prev?.classList.contains('msg') && prev.dataset.username === el.dataset.username) {
    const a = Number(prev.dataset.time);
    const b = Number(el.dataset.time);
    cont = !a || !b || Math.abs(b - a) < GROUP_WINDOW_MS;
  }
  el.classList.toggle('is-cont', cont);
}
