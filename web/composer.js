// The composer: the byte counter against the message limit, sending with a pending row, and Retry on a failure.

import { bindAttachments, clearAttachments, hasReadyAttachments, pendingAttachments } from './attachments.js';
import { bindComposeHelpers, withEmoji } from './compose.js';
import { placeDaySeparators } from './messageGroups.js';
import { updateEmpty } from './messageList.js';
import { renderMessage, setMessageStatus } from './messageView.js';
import { mutedNow } from './moderation.js';
import { takeReply } from './replies.js';
import { LIMITS, utf8Bytes } from './roomcast.js';
import { readable } from './roomWords.js';
import { state } from './state.js';
import { scrollToBottom, toast, ui } from './ui.js';

const MAX_MESSAGE_BYTES = LIMITS.messageMaxBytes;

function composerText() {
  return ui.composerInput.value.trim();
}

export function updateComposerState() {
  const bytes = utf8Bytes(composerText());
  const over = bytes > MAX_MESSAGE_BYTES;
  ui.composerCounter.textContent =
    bytes >= MAX_MESSAGE_BYTES - 512 || over ? `${bytes} / ${MAX_MESSAGE_BYTES}` : '';
  ui.composerCounter.title = `${bytes} of ${MAX_MESSAGE_BYTES} bytes`;
  ui.composerCounter.classList.toggle('is-over', over);
  ui.composer.classList.toggle('is-over', over);
  ui.composerInput.setAttribute('aria-invalid', over ? 'true' : 'false');
  // A message may be images alone (attachments.js), once they are uploaded.
  const content = bytes >= 1 || hasReadyAttachments();
  ui.sendButton.disabled = !(
    content &&
    !over &&
    state.shownRoom !== null &&
    state.username !== null &&
    !mutedNow()
  );
}

function autosize() {
  const ta = ui.composerInput;
  ta.style.height = 'auto';
  ta.style.height = `${Math.min(ta.scrollHeight, 200)}px`;
}

/**
 * Sends what the composer holds, the one path for Send and Enter: whatever disables Send (over the byte limit, no
 * room, muted, nothing to send) makes it do nothing, so the counter keeps showing the limit and the text stays.
 */
function submitComposer() {
  updateComposerState();
  if (ui.sendButton.disabled) return;
  const text = withEmoji(composerText());
  const attachments = pendingAttachments();
  if (attachments === undefined) return; // an image is still uploading: Send waits for it
  if ((!text && attachments.length === 0) || state.shownRoom === null || !state.chat) return;
  const row = renderMessage(
    { username: state.username, text, sentAt: new Date().toISOString() },
    { pending: true },
  );
  clearAttachments();
  ui.messageList.append(row);
  placeDaySeparators(ui.messageList);
  ui.composerInput.value = '';
  autosize();
  updateComposerState();
  updateEmpty();
  scrollToBottom();
  deliver(row, text, takeReply(), attachments);
}

/** The client retries with the same clientMsgId and keeps the message while offline; a failure is final. */
function deliver(row, text, replyTo, attachments = []) {
  setMessageStatus(row, 'pending');
  state.chat.send(text, { replyTo, ...(attachments.length > 0 && { attachments }) }).then(
    () => row.remove(),
    (err) => {
      if (err.code === 'ROOM_CHANGED') {
        row.remove();
        toast('An unsent message was discarded: you changed rooms.', { kind: 'info' });
        return;
      }
      if (!row.isConnected) ui.messageList.append(row);
      // The reason shows on the message itself, beside its Retry, and nowhere else.
      setMessageStatus(row, 'failed', readable(err.message));
      row.retry = () => deliver(row, text, replyTo, attachments);
    },
  );
}

/** Enter sends (Shift+Enter is a new line); the box grows with its text; compose.js's aids come first. */
export function bindComposer() {
  bindComposeHelpers();
  bindAttachments(updateComposerState);
  ui.composer.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitComposer();
  });
  ui.composerInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      submitComposer();
    }
  });
  ui.composerInput.addEventListener('input', () => {
    autosize();
    updateComposerState();
  });
}
