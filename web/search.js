// Search in the web chat: the header's 🔍 button opens the search panel under the header; a query finds the messages
// of the room on screen (or, ticked, of every room this tab is in) holding every word, newest first (the client
// library's `rooms.search`); the query goes as typed, so `meet*`, `from:name` and `in:room` work as the protocol says
// (docs/PROTOCOL.md, "Search"), and the server's refusals show as a toast saying what is wrong. Each hit shows its room, author, time and text with the matched words marked (the
// protocol's `matchSpans`, the server's own rule of a word); a click shows the message in its room, loading older
// pages until it is on screen (replies.js jumpTo), and keeps it marked; a reply in a thread (`threadOf`) is not in the
// room's flow, so its click opens the thread pane on its root with the reply marked there (threads.js). A hit of
// another room names it as the sidebar does (its name, whom a DM is with, its code when it has neither). All text goes
// in with textContent.

import { roomLabel } from './dmHeader.js';
import { jumpTo } from './replies.js';
import { matchSpans } from './roomcast.js';
import { joinRoom } from './rooms.js';
import { state } from './state.js';
import { openThread } from './threads.js';
import { h, timeFmt, toast, toDate, ui } from './ui.js';

/** The class a found message keeps in the room until the next jump. */
const HIT_MARK = 'is-search-hit';
/** How long a jump waits for the room it shows to be on screen. */
const ROOM_WAIT_MS = 10_000;

/** The text with each matched word (or word starting with a matched prefix) in a <mark>. */
function marked(text, words, prefixes = []) {
  const nodes = [];
  let at = 0;
  for (const [start, end] of matchSpans(text, words, prefixes)) {
    if (start > at) nodes.push(document.createTextNode(text.slice(at, start)));
    nodes.push(h('mark', 'search-match', text.slice(start, end)));
    at = end;
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  return nodes;
}

/** Shows the message: its room first (joining it, which shows a room this tab follows), then the message. */
async function show(hit) {
  if (state.shownRoom !== hit.roomId) {
    joinRoom(hit.roomId);
    const until = Date.now() + ROOM_WAIT_MS;
    while (state.shownRoom !== hit.roomId && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    if (state.shownRoom !== hit.roomId) return;
  }
  if (hit.threadOf !== undefined) openThread(hit.threadOf, { seq: hit.seq, mark: HIT_MARK });
  else await jumpTo(hit.seq, { mark: HIT_MARK, missing: 'That message is no longer kept.' });
}

function render(found) {
  ui.searchResults.replaceChildren(
    ...found.results.map((hit) => {
      const item = h('li', 'search-hit');
      item.dataset.testid = 'search-hit';
      item.dataset.roomId = hit.roomId;
      item.dataset.seq = String(hit.seq);
      const open = h('button', 'search-open');
      open.type = 'button';
      open.title = 'Show this message in its room';
      open.append(...marked(hit.text, found.words, found.prefixes));
      open.addEventListener('click', () => void show(hit));
      const meta = h('span', 'search-meta', `${hit.username} · ${timeFmt.format(toDate(hit.sentAt))}`);
      if (!found.roomId) meta.textContent += ` · ${roomLabel(hit.roomId)}`;
      item.append(open, meta);
      return item;
    }),
  );
  ui.searchStatus.textContent =
    found.results.length === 0
      ? 'No message holds every word.'
      : `${found.results.length} found, newest first${found.more ? ' (more match: add a word)' : ''}.`;
}

async function run(ev) {
  ev.preventDefault();
  const chat = state.chat;
  const query = ui.searchInput.value;
  if (!chat || query.trim() === '') return;
  ui.searchStatus.textContent = 'Searching…';
  try {
    const everywhere = ui.searchEverywhere.checked;
    render(await chat.rooms.search(query, everywhere ? {} : { roomId: state.shownRoom }));
  } catch (error) {
    ui.searchStatus.textContent = '';
    ui.searchResults.replaceChildren();
    toast(error.message, { title: 'Search failed' });
  }
}

/** The header's 🔍 button opens and closes the panel; the form searches. */
export function bindSearch() {
  ui.searchInput.placeholder = 'Words, meet*, from:name, in:room';
  ui.searchButton.addEventListener('click', () => {
    ui.searchPanel.hidden = !ui.searchPanel.hidden;
    ui.searchButton.setAttribute('aria-expanded', ui.searchPanel.hidden ? 'false' : 'true');
    if (!ui.searchPanel.hidden) ui.searchInput.focus();
  });
  ui.searchForm.addEventListener('submit', (ev) => void run(ev));
}
