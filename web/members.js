// Who is in the room on screen: the member list asked of the server, and join/leave lines from presence frames.
import { addSystemLine } from './messageList.js';
import { state } from './state.js';
import { nameNode } from './ui.js';

let membersAsked = 0;

/** Asks the server who is in the room, at most every 2 s (the lobby sends no presence frames to keep it current). */
export function refreshMembers() {
  if (Date.now() - membersAsked < 2000) return;
  membersAsked = Date.now();
  state.chat?.who().catch(() => {});
}

export function onPresence(f) {
  if (f.username === state.username) return;
  addSystemLine([nameNode(f.username), f.event === 'join' ? ' joined' : ' left'], f.event);
  // The same name may still be connected from another tab: confirm with the server.
  if (f.event === 'leave') setTimeout(() => state.chat?.who().catch(() => {}), 400);
}
