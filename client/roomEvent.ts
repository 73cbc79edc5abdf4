import type { JoinedFrame } from '../protocol';
import type { RoomcastEvents } from './types';
import { isPin } from './validate';

/** The `room` event of a joined room: with the member's key there, when the server gave it. */
export function roomEvent(joined: JoinedFrame): RoomcastEvents['room'] {
  return {
    roomId: joined.roomId,
    lastSeq: joined.lastSeq,
    ...(joined.memberKey !== undefined && { memberKey: joined.memberKey }),
    ...(Array.isArray(joined.pins) && { pins: joined.pins.filter(isPin) }),
    ...(joined.role !== undefined && {
      moderation: {
        role: joined.role,
        ...(Array.isArray(joined.moderators) && { moderators: joined.moderators.map(String) }),
        ...(typeof joined.slowModeSeconds === 'number' && { slowModeSeconds: joined.slowModeSeconds }),
        ...(joined.mutedUntil !== undefined && { mutedUntil: joined.mutedUntil }),
        ...(typeof joined.ownerName === 'string' && { ownerName: joined.ownerName }),
      },
    }),
  };
}
