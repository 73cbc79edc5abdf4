// The message list of the room on screen: system lines, confirmed rows above the ones still being sent, the empty
// state, and the unread total in the tab's title and on the menu button.
import { roomLabel } from './dmHeader.js';
import { placeDaySeparators, regroupAround } from './messageGroups.js';
import { LOBBY } from './roomcast.js';
import { state } from './state.js';
import { h, isNearBottom, scrollToBottom, ui } from './ui.js';

/** A line from the system; `content` is text or a list of text and nodes (a name goes in as `nameNode`). */
export function addSystemLine(content, kind = 'info') {
  const line = h('div', `sys sys-${kind}`);
  line.dataset.testid = kind === 'broadcast' ? 'broadcast-line' : 'system-line';
  const text = h('span', 'sys-text');
  text.append(...(Array.isArray(content) ? content : [content]));
  line.append(text);
  const near = isNearBottom();
  insertBeforePending(line);
  updateEmpty();
  if (near) scrollToBottom();
  return line;
}

/** Confirmed rows go above the messages still being sent. */
export function insertBeforePending(el) {
  const firstPending = ui.messageList.querySelector('[data-status="pending"],[data-status="failed"]');
  ui.messageList.insertBefore(el, firstPending);
  regroupAround(el);
  if (el.classList.contains('msg')) placeDaySeparators(ui.messageList);
}

/**
 * A message that came late (stored after later ones were shown: the client marks it `late`) goes in its place by
 * seq, above the first numbered row after it; with none after it, where any new message goes.
 */
export function insertBySeq(el, seq) {
  const next = [...ui.messageList.querySelectorAll('[data-testid="message"][data-seq]')].find(
    (row) => Number(row.dataset.seq) > seq,
  );
  if (!next) return insertBeforePending(el);
  next.before(el);
  regroupAround(el);
  placeDaySeparators(ui.messageList);
}

/** The row of message `seq` in the list, if it is shown. */
export const rowOfSeq = (seq) => ui.messageList.querySelector(`[data-testid="message"][data-seq="${seq}"]`);

export function updateEmpty() {
  ui.messagesWrap.classList.toggle('is-empty', ui.messageList.childElementCount === 0);
}

let menuBadge = null;

/**
 * The unread total, in the tab's title (`(3) Lobby · roomcast`) and on the menu button that opens the room panel on a
 * small screen: the other rooms' unread messages ("Your rooms") and those that came to the room on screen while the
 * tab was hidden.
 */
export function updateTitle() {
  const room = state.shownRoom === LOBBY || !state.shownRoom ? 'Lobby' : roomLabel(state.shownRoom);
  const total = state.unread + state.unreadElsewhere;
  const shown = total > 0 || state.unreadMore ? `${total}${state.unreadMore ? '+' : ''}` : '';
  document.title = `${shown ? `(${shown}) ` : ''}${room} · roomcast`;
  if (!menuBadge) {
    menuBadge = h('span', 'menu-unread');
    menuBadge.dataset.testid = 'menu-unread';
    ui.menuButton.append(menuBadge);
  }
  menuBadge.textContent = shown;
  menuBadge.hidden = !shown;
  ui.menuButton.setAttribute('aria-label', shown ? `Open room panel (${shown} unread)` : 'Open room panel');
}
