// Scroll-back: when the member scrolls near the top of the room on screen, the page asks the client library for the
// page of history before the first message shown (`history` with `beforeSeq`) and puts it above, keeping the view
// where it was; when the server says nothing older is kept (`hasOlder: false`), a "start of the room" line ends it.

import { registerFeature } from './features.js';
import { placeDaySeparators, regroupAround } from './messageGroups.js';
import { updateEmpty } from './messageList.js';
import { renderMessage } from './messageView.js';
import { holdOlder, jumpsLoadWith } from './replies.js';
import { isOwn, state } from './state.js';
import { inRoomFlow } from './threads.js';
import { h, ui } from './ui.js';

/** Messages one scroll-back page asks for (the protocol's default page). */
const PAGE = 50;
/** How near the top (px) the list must be scrolled for the next page to load. */
const NEAR_TOP_PX = 120;

let loading = false;

/** The first message row of the list, if any. */
const firstRow = () => ui.messageList.querySelector('[data-testid="message"][data-seq]');

/** Whether the start of the room is already shown. */
const atStart = () => ui.messageList.querySelector('[data-testid="room-start"]') !== null;

function markStart() {
  if (atStart()) return;
  const line = h('div', 'sys sys-info room-start');
  line.dataset.testid = 'room-start';
  line.append(h('span', 'sys-text', 'This is the start of the room.'));
  ui.messageList.prepend(line);
}

/** Loads the page before the first message shown, if the list is scrolled near its top and one may exist. */
async function loadOlder() {
  const chat = state.chat;
  const room = state.shownRoom;
  if (loading || !chat || !room || atStart() || ui.messagesScroll.scrollTop > NEAR_TOP_PX) return;
  const first = firstRow();
  const beforeSeq = Number(first?.dataset.seq);
  if (!first || !Number.isSafeInteger(beforeSeq)) return;
  if (beforeSeq <= 1) return markStart();
  loading = true;
  ui.messageList.setAttribute('aria-busy', 'true');
  try {
    const page = await chat.history({ beforeSeq, limit: PAGE });
    if (state.shownRoom !== room || firstRow() !== first) return; // the room or the list changed meanwhile
    const scroll = ui.messagesScroll;
    const fromBottom = scroll.scrollHeight - scroll.scrollTop;
    const rows = page.messages
      .filter((m) => m.type === 'message' && inRoomFlow(m))
      .map((m) => renderMessage(m, { own: isOwn(m) }));
    ui.messageList.prepend(...rows);
    for (const row of rows) regroupAround(row);
    holdOlder(page.messages);
    placeDaySeparators(ui.messageList);
    if (page.hasOlder === false || (rows.length === 0 && page.messages.length === 0)) markStart();
    // The rows went in above: the member keeps looking at what they were reading.
    scroll.scrollTop = scroll.scrollHeight - fromBottom;
    updateEmpty();
  } catch {
    // A failed page is asked again at the next scroll; nothing is lost.
  } finally {
    loading = false;
    ui.messageList.removeAttribute('aria-busy');
  }
}

function bindScrollBack() {
  jumpsLoadWith(loadOlder);
  ui.messagesScroll.addEventListener('scroll', () => {
    if (ui.messagesScroll.scrollTop <= NEAR_TOP_PX) void loadOlder();
  });
}

registerFeature('scrollBack', { bind: bindScrollBack });
