// A message row of the message list: its avatar, author, time, the quote of what it replies to, its text drawn as
// Markdown (format.js), its images and files (attachmentView.js), and its status while it is being sent. The rows'
// day separators and grouping are messageGroups.js; what arrives and where it goes, messages.js and messageList.js.

import { thumbnails } from './attachmentView.js';
import { drawText } from './format.js';
import { profileNode, showAvatar } from './profiles.js';
import { state } from './state.js';
import { fullFmt, h, makeAvatar, nameNode, timeFmt, toDate } from './ui.js';

/** A message row; `own` marks the reader's own messages. */
export function renderMessage(msg, { own = false, pending = false } = {}) {
  own = own || pending;
  const row = h('div', 'msg');
  row.dataset.testid = 'message';
  row.dataset.username = msg.username;
  if (Number.isInteger(msg.seq)) row.dataset.seq = String(msg.seq);
  if (msg.messageId) row.dataset.messageId = msg.messageId;
  if (msg.authorKey) row.dataset.authorKey = msg.authorKey;
  row.dataset.status = pending ? 'pending' : 'sent';
  const date = toDate(msg.sentAt);
  row.dataset.time = date ? String(date.getTime()) : '';

  const avatar = makeAvatar(msg.username);
  // The author's avatar image from its profile (profiles.js), over its initial.
  showAvatar(avatar, state.shownRoom, msg.authorKey);
  const body = h('div', 'msg-body');
  const meta = h('div', 'msg-meta');
  meta.append(h('span', 'msg-author'));
  // The author's display name from its profile (profiles.js), when it set one.
  const profile = profileNode(state.shownRoom, msg.authorKey);
  if (profile) meta.append(profile);
  const time = h('time', 'msg-time', date ? timeFmt.format(date) : '');
  if (date) {
    time.dateTime = date.toISOString();
    time.title = fullFmt.format(date);
  }
  meta.append(time);
  const bubble = h('div', 'msg-bubble');
  // Isolated, its direction from its own first strong letter (as <bdi> does for names): bidi controls or
  // right-to-left letters in one message reorder nothing outside it.
  // Its Markdown drawn (format.js); the text as sent kept for matching the stored copy to the pending one.
  const text = h('div', 'msg-text');
  text.dir = 'auto';
  drawText(text, msg.text);
  row.sentText = String(msg.text ?? '');
  if (msg.replyTo && Number.isInteger(msg.replyTo.seq)) bubble.append(replyQuote(msg.replyTo));
  // A message that names the reader (the server resolved `@name` to the name it shows in the room) stands out.
  if (Array.isArray(msg.mentions) && msg.mentions.includes(state.username)) {
    row.classList.add('is-mention');
    row.dataset.mentionsMe = 'true';
  }
  bubble.append(text);
  // Images (attachments.js): thumbnails whose presigned GETs are asked for once they are on the page.
  if (Array.isArray(msg.attachments) && msg.attachments.length > 0 && !msg.deleted)
    bubble.append(thumbnails(msg.attachments));
  const status = h('div', 'msg-status');
  status.setAttribute('aria-live', 'polite');
  body.append(meta, bubble, status);
  row.append(avatar, body);
  markOwn(row, own);
  return row;
}

/** Characters of the original a reply's quote shows. */
const QUOTE_CHARS = 120;

/**
 * The quote above a reply: the original's author and the start of its text, a button that jumps to it (replies.js).
 * It starts from what the frame says (`history` quotes the original as it reads now; a live frame names only its
 * author) and replies.js redraws it from the original the page holds.
 */
function replyQuote(ref) {
  const quote = h('button', 'reply-quote');
  quote.type = 'button';
  quote.dataset.testid = 'reply-quote';
  quote.dataset.replySeq = String(ref.seq);
  quote.append(h('span', 'reply-author'), h('span', 'reply-text'));
  quote.querySelector('.reply-text').dir = 'auto';
  setQuote(quote, ref);
  return quote;
}

/** Draws a quote from how its original reads: `deleted`, its text, or (unknown here) just its author. */
export function setQuote(quote, { username, text, deleted }) {
  quote.querySelector('.reply-author')?.replaceChildren(nameNode(String(username ?? '')));
  const line = quote.querySelector('.reply-text');
  if (line)
    line.textContent = deleted
      ? 'Original message deleted'
      : text !== undefined
        ? [...String(text)].slice(0, QUOTE_CHARS).join('')
        : 'an earlier message';
  quote.classList.toggle('is-deleted', Boolean(deleted));
  quote.title = deleted ? 'The original message was deleted' : 'Show the original message';
}

/** Shows a row as the reader's own (right side, "(you)") or someone else's. */
export function markOwn(row, own) {
  row.classList.toggle('is-own', own);
  const author = row.querySelector('.msg-author');
  author?.replaceChildren(nameNode(row.dataset.username), ...(own ? [' (you)'] : []));
}

export function setMessageStatus(row, status, reason) {
  row.dataset.status = status;
  row.classList.toggle('is-pending', status === 'pending');
  row.classList.toggle('is-failed', status === 'failed');
  const box = row.querySelector('.msg-status');
  box.replaceChildren();
  if (status === 'pending') {
    box.append(h('span', 'spinner'), h('span', null, 'Sending…'));
  } else if (status === 'failed') {
    box.append(h('span', 'msg-failure', reason ? `Not delivered: ${reason} ` : 'Not delivered. '));
    const retry = h('button', 'link-button', 'Retry');
    retry.type = 'button';
    retry.dataset.testid = 'retry-message';
    box.append(retry);
  }
}
