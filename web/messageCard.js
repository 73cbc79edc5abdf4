// A message shown in a list beside the message list (the search results, search.js; the pins panel, pins.js), read
// as its row reads: its author's name (a <bdi>, as the row's) with the profile's display name when the page knows the
// author's key (profiles.js), its time, and its text drawn by format.js, the message list's own Markdown and
// allow-list, so a `<script>` is text there as in the row and a link goes only to http(s) or mailto, in a new tab.
// CSS clips the text to a few lines (.card-text) so a list stays compact. A card opens its message on a click
// anywhere but on a link in its text (a link opens its page, as in the row); its button is the keyboard's stop.
import { drawText } from './format.js';
import { profileNode } from './profiles.js';
import { fullFmt, h, nameNode, timeFmt, toDate } from './ui.js';

/**
 * The heading of a card: the author and time of `msg` (a message frame or a search hit) of room `roomId`, then
 * `notes` (what the list adds: the room, who pinned it), each a text of its own; without `msg`, the notes alone.
 */
export function cardMeta(msg, roomId, notes = []) {
  const meta = h('span', 'msg-meta card-meta');
  if (msg) {
    const author = h('span', 'msg-author');
    author.append(nameNode(msg.username));
    meta.append(author);
    const profile = profileNode(roomId, msg.authorKey);
    if (profile) meta.append(profile);
    const date = toDate(msg.sentAt);
    if (date) {
      const time = h('time', 'msg-time', timeFmt.format(date));
      time.dateTime = date.toISOString();
      time.title = fullFmt.format(date);
      meta.append(time);
    }
  }
  for (const note of notes) meta.append(h('span', 'card-note', note));
  return meta;
}

/** A card's text: `text` drawn as a message row draws it (its Markdown, large when emoji alone). */
export function cardText(text) {
  const el = h('div', 'msg-text card-text');
  el.dir = 'auto';
  drawText(el, text);
  return el;
}

/** Calls `open` on a click on `card` that is not on a link (the button inside it passes its clicks up here). */
export function opensOnClick(card, open) {
  card.addEventListener('click', (ev) => {
    if (ev.target instanceof Element && ev.target.closest('a')) return;
    open();
  });
}
