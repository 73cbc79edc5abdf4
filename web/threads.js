// Threads in the web chat. A reply in a thread (a message with `threadOf`) is kept out of the room's flow (messages.js
// and scrollBack.js skip it, unless it was also sent to the room) and shown in the thread pane, which opens from a
// message's "Thread" action or from the summary under a root: its reply count, last reply time and who replied, and
// how many replies you have not read in a thread you follow (you wrote its root, replied, or chose Follow). The
// counts are the client library's store (RoomMessages: thread(), threadUnread(), follows()), kept live by the replies
// every member receives. The pane's composer sends with `threadOf`, and "Also send to the room" as Slack offers it.
// All text goes in with textContent.

import { registerFeature } from './features.js';
import { drawText } from './format.js';
import { state } from './state.js';
import { ERROR_TITLES, h, nameNode, placeRows, timeFmt, toast, ui } from './ui.js';

let store = null;
/** The root seq of the thread the pane shows, or null when it is closed; and the room it is of. */
let open = null;
let paneRoom = null;
/** The reply the pane marks (a search hit, search.js), with the class it keeps until the pane opens another thread. */
let marked = null;

/**
 * A followed thread's replies read while its pane stays open are marked read on the server (`threadread`) at most
 * once per thread per this window; the last of a burst is marked when it ends (docs/DECISIONS.md, "Threads view").
 */
const READ_MARK_EVERY_MS = 5000;
/** Per `roomId#seq`: when its last mark was sent, and the mark waiting for the window to end. */
const readMarks = new Map();

/**
 * Tells the server the pane's thread is read, coalesced per thread. Advisory: a mark lost (a reconnect, a thread
 * unfollowed meanwhile) leaves its replies unread in the Threads view until the thread's page is read again.
 */
function markReadOnServer(roomId, seq) {
  const chat = state.chat;
  if (!chat) return;
  const key = `${roomId}#${seq}`;
  const mark = readMarks.get(key) ?? { at: Number.NEGATIVE_INFINITY, timer: null };
  readMarks.set(key, mark);
  if (mark.timer !== null) return;
  const send = () => {
    mark.timer = null;
    mark.at = Date.now();
    if (state.chat === chat) chat.threadRead(seq, roomId).catch(() => {});
  };
  const wait = mark.at + READ_MARK_EVERY_MS - Date.now();
  if (wait <= 0) send();
  else mark.timer = setTimeout(send, wait);
}

/** The document event each pane opened sends (`detail: { roomId, seq }`): the Threads view clears its count. */
export const THREAD_OPENED = 'roomcast:threadopened';

/** Whether `m` belongs in the room's flow: not a reply in a thread, or one also sent to the room. */
export const inRoomFlow = (m) => m.threadOf === undefined || m.alsoToRoom === true;

/** Whether the reader follows the thread of `rootSeq` in the room on screen (mentions.js tells of its replies). */
export const followsThread = (roomId, rootSeq) =>
  roomId === state.shownRoom && store?.follows(rootSeq) === true;

const repliesText = (n) => `${n} ${n === 1 ? 'reply' : 'replies'}`;

/** The summary under a root in the room's flow: replies, last reply time, participants, your unread there. */
function summaryOf(m) {
  const t = m.thread;
  const unread = store.threadUnread(m.seq);
  const button = h('button', 'thread-summary');
  button.type = 'button';
  button.dataset.testid = 'thread-summary';
  button.dataset.replies = String(t.replyCount);
  button.append(h('span', 'thread-count', repliesText(t.replyCount)));
  const at = new Date(t.lastReplyAt);
  if (!Number.isNaN(at.getTime()))
    button.append(h('span', 'thread-last', `last reply ${timeFmt.format(at)}`));
  const who = h('span', 'thread-people');
  t.participants.forEach((name, i) => {
    if (i > 0) who.append(', ');
    who.append(nameNode(name));
  });
  button.append(who);
  if (unread > 0) {
    const badge = h('span', 'thread-unread', `${unread} new`);
    badge.dataset.testid = 'thread-unread';
    badge.dataset.count = String(unread);
    button.append(badge);
  }
  button.addEventListener('click', () => openThread(m.seq));
  return button;
}

/** Draws every root's summary in the room's flow, and the pane when it is open; called after each store change. */
export function paintThreads(s) {
  store = s;
  if (!store) return;
  // Another room on screen: the pane's thread is not of it.
  if (open !== null && paneRoom !== state.shownRoom) closeThread();
  for (const row of ui.messageList.querySelectorAll('[data-testid="message"][data-seq]')) {
    const m = store.get(Number(row.dataset.seq));
    const old = row.querySelector('.thread-summary');
    if (!m?.thread) {
      old?.remove();
      continue;
    }
    const key = `${m.thread.replyCount}:${m.thread.lastReplySeq}:${store.threadUnread(m.seq)}`;
    if (old?.dataset.key === key) continue;
    const next = summaryOf(m);
    next.dataset.key = key;
    if (old) old.replaceWith(next);
    else row.querySelector('.msg-body')?.append(next);
  }
  if (open !== null) paintPane();
}

function rowOf(m) {
  const row = h('div', 'thread-row');
  row.dataset.testid = m.seq === open ? 'thread-root' : 'thread-reply';
  row.dataset.seq = String(m.seq);
  const meta = h('div', 'thread-meta');
  meta.append(nameNode(m.username));
  const at = new Date(m.sentAt);
  if (!Number.isNaN(at.getTime())) meta.append(h('time', 'msg-time', timeFmt.format(at)));
  if (m.editedAt && !m.deleted) meta.append(h('span', 'msg-edited', '(edited)'));
  if (m.alsoToRoom) meta.append(h('span', 'thread-also', 'also sent to the room'));
  const text = h('div', 'msg-text');
  text.dir = 'auto';
  if (m.deleted) text.append(m.deleted === 'owner' ? 'Message removed by the room owner' : 'Message deleted');
  else drawText(text, m.text);
  row.append(meta, text);
  if (marked?.seq === m.seq) row.classList.add(marked.mark);
  if (!m.deleted && m.reactions?.length)
    row.append(h('div', 'thread-reactions', m.reactions.map((r) => `${r.reaction} ${r.count}`).join('  ')));
  return row;
}

/** Keeps rows made before for unchanged messages (a click is not lost to a redraw, ui.js placeRows). */
const drawn = new Map();

/** `opening`: the pane's own page read is on its way, and it marks the thread read on the server itself. */
function paintPane(opening = false) {
  const root = store.get(open);
  const replies = store.thread(open);
  const rows = [root, ...replies].filter(Boolean).map((m) => {
    const key = `${m.seq}:${m.changeSeq ?? 0}:${m.deleted ? 'd' : ''}:${m.reactions?.length ?? 0}`;
    const kept = drawn.get(m.seq);
    if (kept?.dataset.key === key) return kept;
    const row = rowOf(m);
    row.dataset.key = key;
    drawn.set(m.seq, row);
    return row;
  });
  placeRows(ui.threadList, rows);
  if (marked && !marked.shown) {
    const row = drawn.get(marked.seq);
    if (row?.isConnected) {
      marked.shown = true;
      row.scrollIntoView({ block: 'center' });
    }
  }
  ui.threadTitle.textContent = root?.thread ? `Thread · ${repliesText(root.thread.replyCount)}` : 'Thread';
  const following = store.follows(open);
  ui.threadFollow.textContent = following ? 'Unfollow' : 'Follow';
  ui.threadFollow.setAttribute('aria-pressed', following ? 'true' : 'false');
  // Shown: its replies are read, here and (a reply that came while the pane was open) on the server.
  if (!document.hidden && store.threadUnread(open) > 0) {
    store.markThreadRead(open);
    if (!opening) markReadOnServer(paneRoom, open);
  }
}

/**
 * Opens the pane on the thread of `rootSeq`, reading its replies the store may not hold (older than the room's page).
 * `mark`: `{ seq, mark }`, a reply to scroll to and keep marked with that class (a search hit).
 */
export function openThread(rootSeq, mark) {
  if (!store) return;
  open = rootSeq;
  marked = mark ? { ...mark, shown: false } : null;
  paneRoom = state.shownRoom;
  drawn.clear();
  ui.threadPane.hidden = false;
  ui.threadPane.dataset.root = String(rootSeq);
  paintPane(true);
  ui.threadInput.focus();
  document.dispatchEvent(new CustomEvent(THREAD_OPENED, { detail: { roomId: paneRoom, seq: rootSeq } }));
  const chat = state.chat;
  chat
    ?.threadHistory(rootSeq, { limit: 50 })
    .then((page) => {
      if (open !== rootSeq || state.chat !== chat) return;
      if (page.root) store.apply(page.root);
      for (const m of page.messages) if (m.type === 'message') store.apply(m);
      if (page.following !== undefined && page.following !== store.follows(rootSeq))
        store.follow(rootSeq, page.following);
      paintPane(true);
    })
    .catch((err) => toast(err.message, { title: ERROR_TITLES[err.code] || 'Could not open the thread' }));
}

function closeThread() {
  open = null;
  ui.threadPane.hidden = true;
  delete ui.threadPane.dataset.root;
}

function sendReply() {
  const text = ui.threadInput.value.trim();
  if (!text || open === null || !state.chat) return;
  const alsoToRoom = ui.threadAlso.checked;
  const rootSeq = open;
  ui.threadInput.value = '';
  ui.threadAlso.checked = false;
  state.chat.send(text, { threadOf: rootSeq, alsoToRoom }).catch((err) => {
    // A refused reply is not lost: its text comes back to the box, unless the box holds something new or the pane
    // shows another thread by now.
    if (open === rootSeq && ui.threadInput.value === '') {
      ui.threadInput.value = text;
      ui.threadAlso.checked = alsoToRoom;
    }
    toast(err.message, { title: ERROR_TITLES[err.code] || 'Could not send the reply' });
  });
}

/** The pane's controls: close, follow, send (Enter sends, Shift+Enter is a new line). */
function bindThreads() {
  ui.threadClose.addEventListener('click', closeThread);
  ui.threadForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    sendReply();
  });
  ui.threadInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      sendReply();
    }
  });
  ui.threadFollow.addEventListener('click', () => {
    const rootSeq = open;
    if (rootSeq === null || !state.chat) return;
    const follow = !store.follows(rootSeq);
    state.chat
      .followThread(rootSeq, follow)
      .then((reply) => store.follow(rootSeq, reply.following))
      .catch((err) => toast(err.message, { title: ERROR_TITLES[err.code] || 'Could not follow the thread' }));
  });
  // Back to a hidden tab: the open thread's replies are read now.
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && open !== null && store) paintPane();
  });
}

registerFeature('threads', { bind: bindThreads });
