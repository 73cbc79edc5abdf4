// Messages and broadcasts arriving for the room on screen, appended to its message list (a late one put in its
// place by seq).
import { refreshMembers } from './members.js';
import {
  addSystemLine,
  insertBeforePending,
  insertBySeq,
  rowOfSeq,
  updateEmpty,
  updateTitle,
} from './messageList.js';
import { renderMessage } from './messageView.js';
import { refreshQuotes } from './replies.js';
import { isOwn, state } from './state.js';
import { inRoomFlow } from './threads.js';
import { h, isNearBottom, scrollToBottom, ui } from './ui.js';

/**
 * The client hands messages over once each, in seq order: the view appends them. One marked `late` (stored after
 * later ones were handed over) goes in its place by seq, and counts as unread as any other new message would.
 */
export function onMessage(m) {
  if (m.roomId !== state.shownRoom) return;
  // A reply in a thread shows in the thread pane (threads.js), not in the room's flow.
  if (!inRoomFlow(m)) return;
  // A late message already on the list (scroll-back read it from history): shown once.
  if (m.late && rowOfSeq(m.seq)) return;
  // Someone the member list does not know spoke (the lobby has no presence frames): the list is stale.
  if (!state.chat.members.includes(m.username)) refreshMembers();
  const own = isOwn(m);
  const near = isNearBottom();
  if (own) {
    // Our own message can come back before its ack: the pending copy goes.
    const pending = [...ui.messageList.querySelectorAll('[data-status="pending"]')].find(
      (row) => row.sentText === m.text,
    );
    pending?.remove();
  }
  const row = renderMessage(m, { own });
  if (m.late) insertBySeq(row, m.seq);
  else insertBeforePending(row);
  // Replies to a late message quote it once it is here.
  if (m.replyTo || m.late) refreshQuotes();
  updateEmpty();
  if (markFirstUnread(m, row, own)) return;
  if (near || own) scrollToBottom();
  else if (!m.late) ui.jumpButton.hidden = false; // a late one is not below: nothing new to jump to there
  if (document.hidden && !own) {
    state.unread += 1;
    updateTitle();
  }
}

/**
 * A room opened from "Your rooms" with unread messages: a "New messages" line goes above the first message from
 * someone else after the read position, and the view starts there instead of at the bottom. Once per opening.
 */
function markFirstUnread(m, row, own) {
  const first = state.firstUnread;
  if (!first || first.roomId !== m.roomId || own || !(m.seq > first.afterSeq)) return false;
  state.firstUnread = null;
  const line = h('div', 'sys sys-info new-messages');
  line.dataset.testid = 'new-messages';
  line.append(h('span', 'sys-text', 'New messages'));
  row.before(line);
  line.scrollIntoView({ block: 'start' });
  return true;
}

export function onBroadcast(f) {
  const text = String(f.text ?? '');
  ui.announcementText.textContent = text;
  ui.announcement.hidden = false;
  const line = addSystemLine(['📣 ', h('bdi', null, text)], 'broadcast');
  if (f.messageId) line.dataset.messageId = f.messageId;
}

/** The list's own controls: jump to the newest, retry a failed message, close the announcement. */
export function bindMessageList() {
  ui.messageList.addEventListener('click', (ev) => {
    ev.target.closest('[data-testid="retry-message"]')?.closest('.msg')?.retry?.();
  });
  ui.messagesScroll.addEventListener('scroll', () => {
    if (isNearBottom()) ui.jumpButton.hidden = true;
  });
  ui.jumpButton.addEventListener('click', () => scrollToBottom());
  ui.announcementClose.addEventListener('click', () => {
    ui.announcement.hidden = true;
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) {
      state.unread = 0;
      updateTitle();
    }
  });
}
