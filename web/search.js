// Search in the web chat: the header's 🔍 button opens the search panel under the header; a query finds the messages
// of the room on screen (or, ticked, of every room this tab is in) holding every word, newest first (the client
// library's `rooms.search`); the query goes as typed, so `meet*`, `from:name` and `in:room` work as the protocol says
// (docs/PROTOCOL.md, "Search"), and the server's refusals show as a toast saying what is wrong. A query that names its
// room (`in:`) is asked of every room this tab is in, ticked or not: the server reads `in:` among the rooms searched,
// so asked of the room on screen alone it could name no other room. Each hit reads as its message does in the room
// (messageCard.js: author, time, the text's Markdown drawn by the message list's own format.js), with its room when
// the search spans every room, and the matched words marked (the protocol's `matchSpans`, the server's own rule of a
// word); a click shows the message in its room, loading older pages until it is on screen (replies.js jumpTo), and
// keeps it marked; a reply in a thread (`threadOf`) is not in the room's flow, so its click opens the thread pane on
// its root with the reply marked there (threads.js). A hit of another room names it as the sidebar does (its name,
// whom a DM is with, its code when it has neither).

import { roomLabel } from './dmHeader.js';
import { registerFeature } from './features.js';
import { cardMeta, cardText, opensOnClick } from './messageCard.js';
import { jumpTo } from './replies.js';
import { matchSpans, withoutSearchFilters } from './roomcast.js';
import { joinRoom } from './rooms.js';
import { state } from './state.js';
import { openThread } from './threads.js';
import { h, toast, ui } from './ui.js';

/** The class a found message keeps in the room until the next jump. */
const HIT_MARK = 'is-search-hit';
/** How long a jump waits for the room it shows to be on screen. */
const ROOM_WAIT_MS = 10_000;

/** Whether `query` names the room to search (`in:`), as the server reads its terms (protocol withoutSearchFilters). */
function namesRoom(query) {
  let named = false;
  withoutSearchFilters(query, (key) => {
    if (key === 'in') named = true;
  });
  return named;
}

/** `text` with each span of `spans` in a <mark>. */
function marked(text, spans) {
  const nodes = [];
  let at = 0;
  for (const [start, end] of spans) {
    if (start > at) nodes.push(document.createTextNode(text.slice(at, start)));
    nodes.push(h('mark', 'search-match', text.slice(start, end)));
    at = end;
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  return nodes;
}

/**
 * Marks each matched word (or word starting with a matched prefix) in the drawn text `el`, one text node at a time.
 * The Markdown's marks are not letters, so the server's rule of a word ends a word at them in the text as sent as
 * well: `**flower**pot` is the words flower and pot there, and here two text nodes. A word only in a link's address
 * matched the text as sent but has nothing on screen to mark.
 */
function markWords(el, words, prefixes = []) {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  const texts = [];
  while (walker.nextNode()) texts.push(walker.currentNode);
  for (const node of texts) {
    const spans = matchSpans(node.data, words, prefixes);
    if (spans.length > 0) node.replaceWith(...marked(node.data, spans));
  }
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
      const item = h('li', 'search-hit message-card');
      item.dataset.testid = 'search-hit';
      item.dataset.roomId = hit.roomId;
      item.dataset.seq = String(hit.seq);
      const open = h('button', 'search-open card-open');
      open.type = 'button';
      open.title = 'Show this message in its room';
      const meta = cardMeta(hit, hit.roomId, found.roomId ? [] : [roomLabel(hit.roomId)]);
      meta.classList.add('search-meta');
      open.append(meta);
      const text = cardText(hit.text);
      text.classList.add('search-text');
      markWords(text, found.words, found.prefixes);
      item.append(open, text);
      opensOnClick(item, () => void show(hit));
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
  ui.searchInput.removeAttribute('aria-invalid');
  try {
    const everywhere = ui.searchEverywhere.checked || namesRoom(query);
    render(await chat.rooms.search(query, everywhere ? {} : { roomId: state.shownRoom }));
  } catch (error) {
    ui.searchResults.replaceChildren();
    // A query the server would refuse (a prefix too short, `me*`) is refused here by the same rule, in the server's
    // words (the client library checks it before sending: protocol searchPrefixes): said beside the box, nothing sent.
    if (error.code === 'INVALID_ARGUMENT') {
      ui.searchStatus.textContent = error.message;
      ui.searchInput.setAttribute('aria-invalid', 'true');
      return;
    }
    ui.searchStatus.textContent = '';
    toast(error.message, { title: 'Search failed' });
  }
}

/** The header's 🔍 button opens and closes the panel; the form searches. */
function bindSearch() {
  ui.searchInput.placeholder = 'Words, meet*, from:name, in:room';
  ui.searchButton.addEventListener('click', () => {
    ui.searchPanel.hidden = !ui.searchPanel.hidden;
    ui.searchButton.setAttribute('aria-expanded', ui.searchPanel.hidden ? 'false' : 'true');
    if (!ui.searchPanel.hidden) ui.searchInput.focus();
  });
  ui.searchForm.addEventListener('submit', (ev) => void run(ev));
}

registerFeature('search', { bind: bindSearch });
