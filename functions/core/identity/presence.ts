import { randomUUID } from 'node:crypto';
import type { ChatEvent } from '#core/ports';
import type { PresenceFrame } from '#core/protocol';

/** The event that tells a room someone joined or left it (the lobby is quiet: callers never send one there). */
export function presenceEvent(roomId: string, event: PresenceFrame['event'], username: string): ChatEvent {
  const frame: PresenceFrame = { type: 'presence', roomId, event, username };
  return { type: 'Presence', messageId: randomUUID(), roomId, payload: JSON.stringify(frame) };
}
