// Each room's notices as the server keeps them for the member (`setnotices`, protocol/notices.ts): every mention,
// direct message and reply (the default), mentions only, or muted. One choice per person and room, the same on every
// device: `myrooms` lists it with each room, and another device's change arrives at once (a pushed `notices`, which
// the client applies to its list). mentions.js decides by them, myrooms.js marks a muted room.

import { state } from './state.js';

/** What a room's notices may be: every mention, direct message and reply (the default), mentions only, none. */
export const CHOICES = [
  ['all', '🔔 Mentions, DMs, replies'],
  ['mentions', '@ Mentions only'],
  ['mute', '🔕 Muted'],
];

/** Choices the server told for rooms not in "Your rooms" yet (just joined): the list's next answer carries them. */
const unlisted = new Map();

/** A choice the server kept (`notices`, ours or another device's). */
export function knowNotices(roomId, value) {
  unlisted.set(roomId, value);
}

/** Room `roomId`'s notices: 'all', 'mentions' or 'mute'. */
export function noticesOf(roomId) {
  const listed = state.chat?.rooms.list.find((room) => room.roomId === roomId);
  const value = listed ? listed.notices : unlisted.get(roomId);
  return CHOICES.some(([choice]) => choice === value) ? value : 'all';
}

/** Asks the server to keep room `roomId`'s choice; resolves once kept (the list carries it), rejects with why not. */
export function setNoticesOf(roomId, value) {
  const chat = state.chat;
  if (!chat) return Promise.reject(new Error('Not connected: the choice was not kept.'));
  return chat.rooms.setNotices(roomId, value);
}
