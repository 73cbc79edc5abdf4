// A room's pinned messages in the web chat: the 📌 button in the room header shows how many there are and opens the
// pins panel, which lists them oldest pin first, each read as its message row reads (messageCard.js: author, time, the
// text's Markdown drawn by the message list's own format.js, as the room's RoomMessages store holds it now) with who
// pinned it; a click on one scrolls to its message. The list is the client library's (`store.pins()`): as the join
// gave it, then as `pinned` and `deleted` changes move it. A room's owner and moderators pin, its members too when the
// owner set `membersPin` (changes.js offers Pin by canPin; the server decides).

import { membersPinIn } from './directory.js';
import { registerFeature } from './features.js';
import { cardMeta, cardText, opensOnClick } from './messageCard.js';
import { moderation } from './moderation.js';
import { state } from './state.js';
import { h, ui } from './ui.js';

/** Draws the header's pins button and the pins panel from the store's pins. */
export function paintPins(store) {
  const pins = store?.pins() ?? [];
  ui.pinsCount.textContent = String(pins.length);
  ui.pinsButton.hidden = pins.length === 0;
  if (pins.length === 0) ui.pinsPanel.hidden = true;
  ui.pinsButton.setAttribute('aria-expanded', ui.pinsPanel.hidden ? 'false' : 'true');
  ui.pinsList.replaceChildren(
    ...pins.map((pin) => {
      const message = store.get(pin.seq);
      const item = h('li', 'pin-item message-card');
      item.dataset.testid = 'pin-item';
      item.dataset.seq = String(pin.seq);
      const open = h('button', 'pin-open card-open');
      open.type = 'button';
      open.title = 'Show this message';
      const meta = cardMeta(message, state.shownRoom, [`pinned by ${pin.by}`]);
      meta.classList.add('pin-meta');
      open.append(meta);
      const text = message
        ? cardText(message.text)
        : h('div', 'card-text', `Message #${pin.seq} (not loaded)`);
      text.classList.add('pin-text');
      item.append(open, text);
      opensOnClick(item, () =>
        ui.messageList
          .querySelector(`[data-testid="message"][data-seq="${pin.seq}"]`)
          ?.scrollIntoView({ block: 'center' }),
      );
      return item;
    }),
  );
}

/** The header's 📌 button opens and closes the panel. */
function bindPinsPanel() {
  ui.pinsButton.addEventListener('click', () => {
    ui.pinsPanel.hidden = !ui.pinsPanel.hidden;
    ui.pinsButton.setAttribute('aria-expanded', ui.pinsPanel.hidden ? 'false' : 'true');
  });
}

registerFeature('pins', { bind: bindPinsPanel });

/** Whether the page offers Pin on the room on screen: its owner, a moderator, or anyone where members pin. */
export const canPin = () =>
  state.owned.has(state.shownRoom) || moderation.role !== 'member' || membersPinIn(state.shownRoom);
