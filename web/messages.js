// Messages and broadcasts arriving for the room on screen, appended to its message list.
import { refreshMembers } from './members.js';
import { addSystemLine, insertBeforePending, updateEmpty, updateTitle } from './messageList.js';
import { state } from './state.js';
import { h, isNearBottom, renderMessage, scrollToBottom, ui } from './ui.js';

/** The client hands messages over once each, in seq order: the view only appends them. */
export function onMessage(m) {
  if (m.roomId !== state.shownRoom) return;
  // Someone the member list does not know spoke (the lobby has no presence frames): the list is stale.
  if (!state.chat.members.includes(m.username)) refreshMembers();
  const own = m.username === state.username;
  const near = isNearBottom();
  if (own) {
    // Our own message can come back before its ack: the pending copy goes.
    const pending = [...ui.messageList.querySelectorAll('[data-status="pending"]')].find(
      (row) => row.querySelector('.msg-text')?.textContent === m.text,
    );
    pending?.remove();
  }
  insertBeforePending(renderMessage(m, { own }));
  updateEmpty();
  if (near || own) scrollToBottom();
  else ui.jumpButton.hidden = false;
  if (document.hidden && !own) {
    state.unread += 1;
    updateTitle();
  }
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
