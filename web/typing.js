// "alice is typing…" under the message list (client.typing, client/typing.ts): the composer's keystrokes send a
// heartbeat at most once per interval, clearing the composer stops it, and the line shows who types in this room.
import { registerFeature } from './features.js';
import { state } from './state.js';
import { ui } from './ui.js';

/** Who is typing, for people: two names, then a count (a line that stays short in a busy room). */
export function typingLine(typists) {
  const [first, second] = typists;
  if (typists.length === 0) return '';
  if (typists.length === 1) return `${first} is typing…`;
  if (typists.length === 2) return `${first} and ${second} are typing…`;
  return `${first}, ${second} and ${typists.length - 2} more are typing…`;
}

let composerBound = false;

/** Shows `chat`'s typists in the line, and sends the composer's typing through whichever client is current. */
function bindTyping(chat) {
  chat.typing.on('typing', ({ typists }) => {
    ui.typingIndicator.textContent = typingLine(typists);
  });
  // Someone blocked (or unblocked) while typing: the client leaves a blocked person out of `current` at once.
  chat.safety.subscribe(() => {
    ui.typingIndicator.textContent = typingLine(chat.typing.current);
  });
  if (composerBound) return;
  composerBound = true;
  ui.composerInput.addEventListener('input', () => {
    if (ui.composerInput.value.trim() === '') state.chat?.typing.stop();
    else state.chat?.typing.keystroke();
  });
}

registerFeature('typing', { watch: bindTyping });
