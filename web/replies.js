// Replies in the web chat: Reply under a message puts a "Replying to" bar over the composer, and the next message
// sent answers that message (`replyTo`). A reply shows its original quoted (messageView.js replyQuote), redrawn from the
// original the page holds whenever it changes (edited, deleted), and a click on the quote jumps to the original,
// loading older pages (scrollBack.js hands its loader in) until it is on screen or the room's start is reached.

import { registerFeature } from './features.js';
import { setQuote } from './messageView.js';
import { state } from './state.js';
import { toast, ui } from './ui.js';

/** How long the original stays highlighted after a jump. */
const HIGHLIGHT_MS = 2000;
/** Older pages a jump loads at most before it gives up (50 messages each). */
const MAX_PAGES = 20;

/** The message the next send answers, or null. */
let replying = null;
/** The client's RoomMessages store of the room on screen (changes.js): originals in their final state. */
let originals = null;

const rowOf = (seq) => ui.messageList.querySelector(`[data-testid="message"][data-seq="${seq}"]`);
const atStart = () => ui.messageList.querySelector('[data-testid="room-start"]') !== null;

/** Starts a reply to `m` (a message of the room on screen). */
export function startReply(m) {
  replying = { roomId: state.shownRoom, seq: m.seq, username: m.username };
  ui.replyBarName.textContent = m.username;
  ui.replyBarText.textContent = [...String(m.text ?? '')].slice(0, 80).join('');
  ui.replyBar.hidden = false;
  ui.composerInput.focus();
}

export function cancelReply() {
  replying = null;
  ui.replyBar.hidden = true;
}

/** The seq the message being sent now answers, if it is in the room on screen; the bar closes. */
export function takeReply() {
  const seq = replying && replying.roomId === state.shownRoom ? replying.seq : undefined;
  cancelReply();
  return seq;
}

/** Loads the page before the first message shown (scrollBack.js loadOlder, handed in by `jumpsLoadWith`). */
let loadOlder = async () => undefined;

/** How a jump loads older pages: scrollBack.js hands its `loadOlder` (it imports this module; the reverse is a cycle). */
export function jumpsLoadWith(load) {
  loadOlder = load;
}

/** The store quotes are drawn from, set by changes.js for each new client. */
export function quoteFrom(store) {
  originals = store;
}

/**
 * Older messages shown by scroll-back go into the store too, so a later edit or delete of one repaints its row and
 * every quote of it (the store applies a change only to a message it holds).
 */
export function holdOlder(frames) {
  for (const frame of frames) if (frame.type === 'message') originals?.apply(frame);
}

/** Redraws every quote whose original the page holds. */
export function refreshQuotes() {
  for (const quote of ui.messageList.querySelectorAll('[data-testid="reply-quote"]')) {
    const original = originals?.get(Number(quote.dataset.replySeq));
    if (original)
      setQuote(quote, {
        username: original.username,
        text: original.text,
        deleted: Boolean(original.deleted),
      });
  }
}

/**
 * Scrolls to message `seq` of the room on screen, loading older pages until it is shown, and marks it (`mark`: a class
 * kept until the next jump; else the reply's highlight for HIGHLIGHT_MS); says so if it is no longer kept.
 */
export async function jumpTo(seq, { mark, missing = 'The original message is no longer kept.' } = {}) {
  const room = state.shownRoom;
  let row = rowOf(seq);
  for (let pages = 0; !row && !atStart() && pages < MAX_PAGES && state.shownRoom === room; pages++) {
    ui.messagesScroll.scrollTop = 0;
    await loadOlder();
    row = rowOf(seq);
  }
  if (state.shownRoom !== room) return;
  if (!row) {
    toast(missing, { kind: 'info' });
    return;
  }
  row.scrollIntoView({ block: 'center' });
  if (mark) {
    for (const marked of ui.messageList.querySelectorAll(`.${mark}`)) marked.classList.remove(mark);
    row.classList.add(mark);
    return;
  }
  row.classList.add('is-jump-target');
  setTimeout(() => row.classList.remove('is-jump-target'), HIGHLIGHT_MS);
}

function bindReplies() {
  ui.replyCancel.addEventListener('click', () => {
    cancelReply();
    ui.composerInput.focus();
  });
  ui.composerInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && replying) cancelReply();
  });
  ui.messageList.addEventListener('click', (ev) => {
    const quote = ev.target.closest('[data-testid="reply-quote"]');
    if (quote) void jumpTo(Number(quote.dataset.replySeq));
  });
}

registerFeature('replies', { bind: bindReplies });
