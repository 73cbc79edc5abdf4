import { randomUUID } from 'node:crypto';
import type { ChatEvent } from '#core/ports';
import type { PresenceFrame } from '#core/protocol';

/**
 * The event that tells a room someone joined or left it (the lobby is quiet: callers never send one there); `reason`
 * when the room's staff made them leave (a removal, a ban), so members read "removed" rather than "left".
 */
export function presenceEvent(
  roomId: string,
  event: PresenceFrame['event'],
  username: string,
  reason?: PresenceFrame['reason'],
): ChatEvent {
  const frame: PresenceFrame = { type: 'presence', roomId, event, username, ...(reason && { reason }) };
  return { type: 'Presence', messageId: randomUUID(), roomId, payload: JSON.stringify(frame) };
}
