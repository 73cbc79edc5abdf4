// Who is in the room on screen: the member list asked of the server, and join/leave lines from presence frames.
import { addSystemLine } from './messageList.js';
import { state } from './state.js';
import { nameNode } from './ui.js';

const MEMBERS_ASK_MS = 2000;
let membersAsked = 0;
let askLater;

/**
 * Asks the server who is in the room, at most every 2 s (the lobby sends no presence frames to keep it current). A
 * call inside the 2 s asks once when they end, so a newcomer who speaks just after the last ask is still counted.
 */
export function refreshMembers() {
  const wait = membersAsked + MEMBERS_ASK_MS - Date.now();
  if (wait > 0) {
    if (askLater === undefined) {
      askLater = setTimeout(() => {
        askLater = undefined;
        refreshMembers();
      }, wait);
    }
    return;
  }
  membersAsked = Date.now();
  state.chat?.who().catch(() => {});
}

/** What a presence line says: a ban or a removal by the room's staff is said as such, not as a leave. */
const PRESENCE_WORDS = { join: ' joined', leave: ' left', banned: ' was banned', removed: ' was removed' };

export function onPresence(f) {
  if (f.username === state.username) return;
  const words = PRESENCE_WORDS[f.event === 'leave' && f.reason ? f.reason : f.event] ?? ' left';
  addSystemLine([nameNode(f.username), words], f.event);
  // The same name may still be connected from another tab: confirm with the server.
  if (f.event === 'leave') setTimeout(() => state.chat?.who().catch(() => {}), 400);
}
