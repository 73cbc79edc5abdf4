import type {
  BanRequest,
  CloseRoomRequest,
  KeyRotatedFrame,
  RemovedFrame,
  RemoveMemberRequest,
  RoomClosedFrame,
  RotateKeyRequest,
} from '../protocol';
import { RoomcastError } from './errors';
import type { SessionHooks } from './sessionTypes';

/**
 * The owner's actions on the room on screen and what any member hears of them: the room's invite key follows every
 * `keyrotated` (the next rejoin uses it), and a member the owner removed, or whose room was closed, is in the lobby
 * (the server moved its connection; the client follows). Frames of a room the client is not in change nothing.
 */
export interface OwnedRoom {
  hooks: SessionHooks;
  /** The room on screen. */
  roomId(): string;
  /** Keeps `key` as the room's invite key for the next rejoin. */
  keep(key: string): void;
  /** Moves the session to the lobby, with its recent history. */
  enterLobby(): Promise<void>;
}

export type OwnerRequest = RotateKeyRequest | RemoveMemberRequest | CloseRoomRequest | BanRequest;

/** Sends an owner action; a new key in the reply is kept, and after `closeroom` the client is in the lobby. */
export async function askAsOwner(room: OwnedRoom, frame: OwnerRequest): Promise<unknown> {
  if (
    (frame.action === 'removemember' || frame.action === 'ban') &&
    (typeof frame.username !== 'string' || frame.username === '')
  ) {
    throw new RoomcastError('INVALID_ARGUMENT', 'username must be the name of a member of the room.');
  }
  const reply = await room.hooks.request({ ...frame });
  if (reply.roomId === room.roomId() && 'inviteKey' in reply && typeof reply.inviteKey === 'string')
    room.keep(reply.inviteKey);
  if (reply.type === 'roomclosed' && reply.roomId === room.roomId()) await room.enterLobby();
  return reply;
}

/**
 * A frame an owner's action pushed to this client: `keyrotated` (kept for the next rejoin), or `removed` /
 * `roomclosed` (the server moved the connection to the lobby; the app hears why, then the `room` event). Frames
 * of a room the client is not in are dropped. False for any other frame.
 */
export function onOwnerFrame(room: OwnedRoom, f: Record<string, unknown>): boolean {
  const { type, roomId } = f;
  if (type !== 'keyrotated' && type !== 'removed' && type !== 'roomclosed') return false;
  if (roomId !== room.roomId()) return true;
  if (type === 'keyrotated') {
    room.keep(String(f.inviteKey));
    room.hooks.emit('keyrotated', f as unknown as KeyRotatedFrame);
    return true;
  }
  if (type === 'removed') room.hooks.emit('removed', f as unknown as RemovedFrame);
  else room.hooks.emit('roomclosed', f as unknown as RoomClosedFrame);
  room.enterLobby().catch((error: unknown) => {
    if (error instanceof RoomcastError && error.code !== 'DISCONNECTED') room.hooks.emit('error', error);
  });
  return true;
}
