// Mentions in the web chat: a message that names you (`mentions`, resolved by the server) is highlighted; a
// `mention` frame (you were named in a room this page does not show, signed in only) shows a notice, marks that room
// with "@" under "Your rooms" until you open it, and, while the tab is hidden, a browser notification (notify.js).
import { refreshMyRooms } from './myrooms.js';
import { notify } from './notify.js';
import { state } from './state.js';
import { toast } from './ui.js';

/** Whether message `m` names the reader, by the name it shows in the room. */
export const mentionsMe = (m) => Array.isArray(m.mentions) && m.mentions.includes(state.username);

function onMention(f) {
  if (f.roomId === state.shownRoom) return; // the message itself is on screen, highlighted
  state.mentionedRooms.add(f.roomId);
  const title = `${f.username} mentioned you in ${f.roomId}`;
  toast(String(f.text ?? ''), { title, kind: 'info' });
  notify(title, String(f.text ?? ''), `mention-${f.roomId}-${f.seq}`);
  refreshMyRooms();
}

/** Wires a new client (connection.js calls it for each one it creates). */
export function bindMentions(chat) {
  chat.on('mention', onMention);
  chat.on('message', (m) => {
    if (m.roomId === state.shownRoom && mentionsMe(m))
      notify(
        `${m.username} mentioned you in ${m.roomId}`,
        String(m.text ?? ''),
        `mention-${m.roomId}-${m.seq}`,
      );
  });
  chat.on('room', ({ roomId }) => state.mentionedRooms.delete(roomId));
}
