// The owner's room settings: name, topic, whether the room is public (listed in the directory, joined without a
// code) and whether members may pin (`setroom`). Every member learns a change from `roomchanged` (directory.js), this
// page included, so the form only asks; what it shows when opened is what the page knows of the room.

import { isPublicRoom, membersPinIn, roomNameOf, roomTopicOf } from './directory.js';
import { registerFeature } from './features.js';
import { state } from './state.js';
import { toast, ui } from './ui.js';

/** The room the open form was filled for, and whether its owner has typed in it since. */
let filledFor = null;
let edited = false;

/** Fills the form with the shown room's settings as this page knows them. */
function fill() {
  const roomId = state.shownRoom;
  filledFor = roomId;
  edited = false;
  ui.roomSettingsName.value = roomNameOf(roomId) ?? '';
  ui.roomSettingsTopic.value = roomTopicOf(roomId) ?? '';
  ui.roomSettingsPublic.checked = isPublicRoom(roomId);
  ui.roomSettingsMembersPin.checked = membersPinIn(roomId);
}

/**
 * The shown room or what the page knows of it changed (rooms.js, with the header): an open form shows that room's
 * settings, not the last room's (a room just made, say), unless its owner is editing this room's.
 */
export function showRoomSettingsOf(roomId) {
  if (ui.roomSettings.open && (filledFor !== roomId || !edited)) fill();
}

/** What the form changes, compared with what the page knows: only those fields are sent. */
function changes() {
  const roomId = state.shownRoom;
  const name = ui.roomSettingsName.value.trim();
  const topic = ui.roomSettingsTopic.value.trim();
  const info = {};
  if (name !== '' && name !== (roomNameOf(roomId) ?? '')) info.name = name;
  if (topic !== (roomTopicOf(roomId) ?? '')) info.topic = topic;
  if (ui.roomSettingsPublic.checked !== isPublicRoom(roomId)) info.public = ui.roomSettingsPublic.checked;
  if (ui.roomSettingsMembersPin.checked !== membersPinIn(roomId))
    info.membersPin = ui.roomSettingsMembersPin.checked;
  return info;
}

/** The owner's "Room settings" panel (shown with the other owner controls, rooms.js). */
function bindRoomSettings() {
  // Filled as its summary is clicked (a click also comes of Enter or Space on it), before the panel opens: the
  // 'toggle' event comes later, as a task of its own, and a browser may run typing into the open form before it, so
  // filling then would wipe what the owner typed.
  ui.roomSettings.querySelector('summary').addEventListener('click', () => {
    if (!ui.roomSettings.open) fill();
  });
  ui.roomSettingsForm.addEventListener('input', () => {
    edited = true;
  });
  ui.roomSettingsForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const chat = state.chat;
    if (!chat) return;
    const info = changes();
    if (Object.keys(info).length === 0) {
      toast('Nothing to change.', { kind: 'info', timeout: 2500 });
      return;
    }
    chat.setRoom(info, state.shownRoom).then(
      () => {
        ui.roomSettings.open = false;
        toast('Room settings saved: every member sees them now.', { kind: 'info', timeout: 2500 });
      },
      (err) => toast(err.message, { title: 'Could not change the room' }),
    );
  });
}

registerFeature('roomSettings', { bind: bindRoomSettings });
