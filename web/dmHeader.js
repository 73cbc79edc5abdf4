// A direct-message room's header: whom it is with, in place of its code (which nobody else can use: only the two
// may enter it). Names come from openDirect's answer and from the "Your rooms" list (myrooms.js); until one is known
// (a resumed tab), a 12-character code still says it is a direct message.
import { roomNameOf } from './directory.js';
import { state } from './state.js';
import { ui } from './ui.js';

/** A direct-message room's code is 12 characters; other rooms' are 8 (protocol DM_ROOM_CODE_LENGTH). */
const DM_CODE_LENGTH = 12;

/** Room id -> the other member's name, as far as this page knows. */
const peers = new Map();

/** What else shows the name of the room on screen (the tab's title: rooms.js sets it, messageList.js updateTitle). */
let named = () => {};
export function onDmNamed(listener) {
  named = listener;
}

/** Remembers whom a direct-message room is with, and shows it if that room is on screen. */
export function knowDmPeer(roomId, username) {
  if (!username || peers.get(roomId) === username) return;
  peers.set(roomId, username);
  if (state.shownRoom !== roomId) return;
  showDmHeader(roomId);
  named();
}

/** What a room is called in the tab's title: a direct message by whom it is with, never by its internal code. */
export function roomLabel(roomId) {
  if (typeof roomId !== 'string' || roomId.length !== DM_CODE_LENGTH) return roomNameOf(roomId) ?? roomId;
  const name = peers.get(roomId);
  return name ? `✉ ${name}` : '✉ Direct message';
}

/** The other member's name as far as this page knows (a DM opened by id from "Find people" before the server knows it). */
export function dmPeerName(roomId) {
  return peers.get(roomId);
}

/** Called after the room header is set (rooms.js): a direct message's header names the other member. */
export function showDmHeader(roomId) {
  if (typeof roomId !== 'string' || roomId.length !== DM_CODE_LENGTH) return;
  const name = peers.get(roomId);
  ui.roomCode.textContent = name ? `✉ ${name}` : '✉ Direct message';
  ui.roomKind.textContent = 'direct message';
  ui.invite.hidden = true;
  ui.ownerControls.hidden = true;
  ui.roomTitle.textContent = name ?? 'Direct message';
  ui.roomSub.textContent = name ? `Only you and ${name} can see this conversation` : 'Only the two of you';
  ui.composerInput.placeholder = name ? `Message ${name}…` : 'Message…';
  ui.emptyTitle.textContent = name ? `Start a conversation with ${name}` : 'Start the conversation';
  ui.emptyText.textContent = 'Messages here are between the two of you.';
}
