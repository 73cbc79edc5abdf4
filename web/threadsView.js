// The Threads view (docs/PROTOCOL.md, "Threads"): the sidebar's "Threads" entry opens the list of the threads you
// follow across your rooms (you wrote the root, replied, or chose Follow), newest activity first, as the server
// orders them (`mythreads`): each shows its room as the sidebar names it, the root's author and a line of its text,
// the reply count, who replied and how many replies you have not seen. A click shows its room (joining it, as a
// search hit does) and opens its thread pane (threads.js), whose page marks it read on the server; the count here
// clears at once (threads.js tells of each pane opened). While the list is open, a reply in a thread refreshes it.
// A thread marked read on this device or another of the person's (`threadread`: a pane left open while replies came)
// counts none of the replies it had then, even in a list fetched before the mark was written.
// All text goes in with textContent.

import { roomLabel } from './dmHeader.js';
import { registerFeature } from './features.js';
import { joinRoom } from './rooms.js';
import { state } from './state.js';
import { openThread, THREAD_OPENED } from './threads.js';
import { closeSidebar, ERROR_TITLES, h, nameNode, placeRows, timeFmt, toast } from './ui.js';

/** How long a click waits for the thread's room to be on screen. */
const ROOM_WAIT_MS = 10_000;
/** Replies within this window refresh the open list once. */
const SETTLE_MS = 500;

let wrap = null;
let toggle = null;
let listEl = null;
let statusEl = null;
/** The list as last fetched, with counts cleared here since. */
let threads = [];
let more = false;
const rows = new Map();
/** Per `roomId#seq`: the most replies a `threadread` said the person has seen. */
const readCounts = new Map();

const keyOf = (t) => `${t.roomId}#${t.seq}`;
/** `t` with the replies a `threadread` said were seen taken off its unread. */
function withReadMark(t) {
  const read = readCounts.get(keyOf(t));
  if (read === undefined) return t;
  const unread = Math.min(t.unread, Math.max(0, t.replyCount - read));
  return unread === t.unread ? t : { ...t, unread };
}

const repliesText = (n) => `${n} ${n === 1 ? 'reply' : 'replies'}`;

/** Shows the thread: its room first (joining it, which shows a room this tab follows), then its pane. */
async function show(thread) {
  if (state.shownRoom !== thread.roomId) {
    joinRoom(thread.roomId);
    const until = Date.now() + ROOM_WAIT_MS;
    while (state.shownRoom !== thread.roomId && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));
    if (state.shownRoom !== thread.roomId) return;
  }
  closeSidebar();
  openThread(thread.seq);
}

function rowOf(t) {
  const li = h('li', 'my-thread');
  li.dataset.testid = 'my-thread';
  li.dataset.roomId = t.roomId;
  li.dataset.seq = String(t.seq);
  const open = h('button', 'my-thread-open');
  open.type = 'button';
  open.title = 'Open this thread in its room';
  const head = h('span', 'my-thread-head');
  const room = h('span', 'my-thread-room', roomLabel(t.roomId));
  room.dataset.testid = 'my-thread-room';
  head.append(room);
  const at = new Date(t.lastReplyAt ?? t.sentAt);
  if (!Number.isNaN(at.getTime())) head.append(h('time', 'msg-time', timeFmt.format(at)));
  const root = h('span', 'my-thread-root');
  root.append(nameNode(t.username), ': ');
  const text = h('span', 'my-thread-text', t.deleted ? 'Message deleted' : t.text);
  text.dir = 'auto';
  root.append(text);
  const summary = h('span', 'my-thread-summary', repliesText(t.replyCount));
  if (t.participants.length > 0) summary.append(` · ${t.participants.join(', ')}`);
  open.append(head, root, summary);
  li.append(open);
  if (t.unread > 0) {
    const badge = h('span', 'count-badge', String(t.unread));
    badge.dataset.testid = 'my-thread-unread';
    badge.dataset.count = String(t.unread);
    badge.setAttribute('aria-label', `${t.unread} unread ${t.unread === 1 ? 'reply' : 'replies'}`);
    li.append(badge);
  }
  open.addEventListener('click', () => void show(t));
  return li;
}

function render() {
  if (!listEl) return;
  const items = threads.map((t) => {
    const key = `${t.replyCount}:${t.unread}:${t.lastReplyAt ?? ''}:${roomLabel(t.roomId)}`;
    const kept = rows.get(keyOf(t));
    if (kept?.dataset.key === key) return kept;
    const li = rowOf(t);
    li.dataset.key = key;
    rows.set(keyOf(t), li);
    return li;
  });
  // Rows kept from one fetch to the next: a row made anew under a press loses its click (ui.js placeRows).
  placeRows(listEl, items);
  const listed = new Set(threads.map(keyOf));
  for (const key of rows.keys()) if (!listed.has(key)) rows.delete(key);
  statusEl.textContent =
    threads.length === 0
      ? 'No threads yet: reply in one, or choose Follow in its pane.'
      : more
        ? `Your ${threads.length} most recently active threads.`
        : '';
}

async function refresh() {
  const chat = state.chat;
  if (!chat || listEl.hidden) return;
  try {
    const frame = await chat.myThreads();
    if (state.chat !== chat) return;
    threads = frame.threads.map(withReadMark);
    more = frame.more === true;
    render();
  } catch (err) {
    toast(err.message, { title: ERROR_TITLES[err.code] || 'Could not list your threads' });
  }
}

let settleTimer = null;
function refreshSoon() {
  clearTimeout(settleTimer);
  settleTimer = setTimeout(() => void refresh(), SETTLE_MS);
}

/**
 * The sidebar's "Threads" entry and its list, built once, at the sidebar's end: "Your rooms" stays in view above it
 * at 1280×800 (tests/rooms/newcomer.browser.test.ts).
 */
function bindThreadsView() {
  wrap = h('section', 'members my-threads');
  wrap.dataset.testid = 'my-threads';
  toggle = h('button', 'button button-ghost button-block my-threads-toggle', 'Threads');
  toggle.type = 'button';
  toggle.dataset.testid = 'threads-view-button';
  toggle.setAttribute('aria-expanded', 'false');
  toggle.setAttribute('aria-controls', 'my-threads-list');
  listEl = h('ul', 'member-list my-threads-list');
  listEl.id = 'my-threads-list';
  listEl.dataset.testid = 'my-threads-list';
  listEl.setAttribute('aria-label', 'Threads you follow');
  listEl.hidden = true;
  statusEl = h('p', 'my-rooms-more');
  statusEl.dataset.testid = 'my-threads-status';
  statusEl.setAttribute('aria-live', 'polite');
  wrap.append(toggle, listEl, statusEl);
  document.querySelector('.sidebar')?.append(wrap);
  toggle.addEventListener('click', () => {
    listEl.hidden = !listEl.hidden;
    statusEl.hidden = listEl.hidden;
    toggle.setAttribute('aria-expanded', listEl.hidden ? 'false' : 'true');
    if (!listEl.hidden) void refresh();
  });
  statusEl.hidden = true;
  // A pane opened on a listed thread: its replies are read now (its page marked them on the server).
  document.addEventListener(THREAD_OPENED, (ev) => {
    const { roomId, seq } = ev.detail;
    const opened = threads.find((t) => t.roomId === roomId && t.seq === seq);
    if (!opened || opened.unread === 0) return;
    threads = threads.map((t) => (t === opened ? { ...t, unread: 0 } : t));
    render();
  });
}

/**
 * A `threadread` frame: this device's own mark answered, or one of another device of the person's. Any frame reaches
 * here unchecked: one without a room, a seq and a count changes nothing.
 */
function threadReadElsewhere(frame) {
  if (frame?.type !== 'threadread') return;
  const { roomId, seq, readCount } = frame;
  if (typeof roomId !== 'string' || !Number.isSafeInteger(seq) || !Number.isSafeInteger(readCount)) return;
  const key = `${roomId}#${seq}`;
  readCounts.set(key, Math.max(readCount, readCounts.get(key) ?? 0));
  threads = threads.map(withReadMark);
  render();
  // A reply this list has not fetched yet may be the one read: the open list asks again.
  if (listEl && !listEl.hidden) refreshSoon();
}

/** A reply in a thread reached this page: the open list may have moved. */
function threadActivity(message) {
  if (message?.threadOf !== undefined && listEl && !listEl.hidden) refreshSoon();
}

registerFeature('threadsView', {
  bind: bindThreadsView,
  watch(chat) {
    chat.on('message', threadActivity);
    chat.on('frame', ({ frame }) => threadReadElsewhere(frame));
  },
});
