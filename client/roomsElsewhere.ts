import type { DmOpenedFrame, MyRoom, MyRoomFrame } from '../protocol';
import { listedRoom } from './myRooms';
import type { RoomToFollow } from './subscriptions';

/** What a room entered or left on another device of the person uses of MemberRooms (members.ts). */
export interface ElsewhereHost {
  /** The client mirrors the person's rooms (`trackRooms`, the web chat): it follows and lets go with them. */
  trackRooms(): boolean;
  /** Lists the room in its place (MyRooms.opened) and emits `rooms`; a DM opened to this person emits `dm` too. */
  list(room: MyRoom, dm: boolean): void;
  /** Whether this connection follows the room, or shows it. */
  holds(roomId: string): boolean;
  /** Follows the rooms in one `subscribe`, reporting what stays refused. */
  follow(rooms: RoomToFollow[]): void;
  /** Out of the list and no longer followed here, at once. */
  drop(roomId: string): void;
  /** `leaveroom` of the room (the lobby when it is the one shown). */
  leave(roomId: string): Promise<unknown>;
}

/**
 * A `dmopened` (a direct message opened to this person) or a `myroom` (a room the person entered or left on another
 * device): listed or dropped here at once. A client that tracks the person's rooms follows a room entered elsewhere
 * (a DM always, so its messages come live) and lets go of one left elsewhere with its own `leaveroom`: the leave is
 * the person's, and the room hears it once the person's last connection lets go (docs/DECISIONS.md, "A room left,
 * placed and counted the same on every device"). A failed leave changes nothing here: the room is dropped already,
 * and the next connect follows only listed rooms. Returns whether the frame was one of these.
 */
export function roomElsewhere(host: ElsewhereHost, frame: Record<string, unknown>): boolean {
  if (frame.type === 'dmopened') {
    entered(host, (frame as unknown as DmOpenedFrame).room, true);
    return true;
  }
  if (frame.type !== 'myroom') return false;
  const told = frame as Partial<MyRoomFrame>;
  const room = listedRoom(told);
  if (room) entered(host, room, false);
  else if (told.left === true && typeof told.roomId === 'string') {
    const roomId = told.roomId;
    const held = host.holds(roomId);
    host.drop(roomId);
    if (host.trackRooms() && held) host.leave(roomId).catch(() => undefined);
  }
  return true;
}

/** A room new to this person's rooms: listed, and followed by a DM always, else only with `trackRooms`. */
function entered(host: ElsewhereHost, room: MyRoom, dm: boolean): void {
  host.list(room, dm);
  // One person's bots and load tools making many rooms do not each follow them all: only `trackRooms` follows.
  if (!dm && !host.trackRooms()) return;
  if (!host.holds(room.roomId))
    host.follow([{ roomId: room.roomId, ...(room.inviteKey !== undefined && { key: room.inviteKey }) }]);
}
