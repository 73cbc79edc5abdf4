import { randomInt } from 'node:crypto';
import { NotSubscribed, UnknownConnection } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { PERSON_DEVICES_READ, type PersonRooms } from '#core/identity/departure';
import { presenceEvent } from '#core/identity/presence';
import { memberKey, senderOf } from '#core/memberKeys';
import { moderationOf } from '#core/moderation';
import type { ChatEvent, ChatPorts, Connection, Member } from '#core/ports';
import { type JoinedFrame, LIMITS, LOBBY, ROOM_CODE_ALPHABET, ROOM_CODE_LENGTH } from '#core/protocol';
import { roomTtl } from '#core/roomLife';
import { settings } from '#platform/settings';

/** Rooms: creating one, moving a connection between rooms, and who a room holds (its members; its history: functions/messages/roomHistory.ts). */

const ROOM_CODE_ATTEMPTS = 5;

function newRoomCode(): string {
  let code = '';
  for (let i = 0; i < ROOM_CODE_LENGTH; i++) code += ROOM_CODE_ALPHABET[randomInt(ROOM_CODE_ALPHABET.length)];
  return code;
}

/**
 * Moves a connection and tells both rooms (the lobby is quiet: no presence there), each under the name the member
 * shows in it: the one it had in the room it leaves, `username` in the room it enters (absent: its chosen name).
 */
export async function moveTo(
  deps: Pick<ChatPorts, 'connections' | 'events' | 'now'>,
  connectionId: string,
  roomId: string,
  username?: string,
): Promise<Connection> {
  const before = await deps.connections.moveToRoom(connectionId, roomId, deps.now().toISOString(), username);
  if (!before) throw new UnknownConnection();
  await announceMove(deps, before, roomId, username);
  return before;
}

/**
 * Tells the rooms of a move that happened (`before`: the connection as it was): the room shown before hears the
 * member leave only when the move is to the lobby (a `leaveroom`; showing another room keeps following it), and the
 * room shown now hears it join unless it followed the room already (`followed`).
 */
export async function announceMove(
  deps: Pick<ChatPorts, 'events'>,
  before: Connection,
  roomId: string,
  username?: string,
  options: { followed?: boolean } = {},
): Promise<void> {
  if (before.roomId === roomId) return;
  const events: ChatEvent[] = [];
  if (before.roomId !== LOBBY && roomId === LOBBY)
    events.push(presenceEvent(before.roomId, 'leave', before.username));
  if (roomId !== LOBBY && !options.followed)
    events.push(presenceEvent(roomId, 'join', username ?? before.chosenName ?? before.username));
  if (events.length > 0) await deps.events.publish(events);
}

/**
 * The member list of a frame: one entry per member, up to the cap, each under the name it shows in the room, the
 * asking connection included even when the eventually consistent room index does not have it yet. A member is a
 * person: two members never show one name in a room (joining.ts numbers a newcomer's), so connections that show the
 * same name are one person's devices and one entry, counted once (in a room listed past the cap, duplicates beyond it
 * are counted).
 */
export function memberList(
  listed: { members: Member[]; count: number; includesConnection: boolean },
  self?: Connection,
): { members: string[]; memberCount: number } {
  const others = listed.members.filter((m) => m.connectionId !== self?.connectionId).map((m) => m.username);
  const missingSelf = self !== undefined && !listed.includesConnection;
  const entries = self ? [self.username, ...others] : others;
  const members = [...new Set(entries)];
  return {
    members: members.slice(0, LIMITS.membersListed),
    memberCount: listed.count + (missingSelf ? 1 : 0) - (entries.length - members.length),
  };
}

async function membersOf(deps: Pick<ChatPorts, 'connections'>, roomId: string, self?: Connection) {
  const listed = await deps.connections.listMembers(roomId, LIMITS.membersListed, self?.connectionId);
  return memberList(listed, self);
}

/**
 * Creates a room owned by its creator (its `userId`: the signed-in user, or the connection itself without sign-in)
 * that ends RoomIdleDays after its last message, and moves the creator into it.
 */
export async function createRoom(
  deps: Pick<ChatPorts, 'connections' | 'rooms' | 'events' | 'now'>,
  connectionId: string,
): Promise<JoinedFrame> {
  const connection = await requireConnection(deps, connectionId);
  // A new room has no other member: its creator shows the name it chose.
  const username = connection.chosenName ?? connection.username;
  const now = deps.now();
  const createdAt = now.toISOString();
  // RoomIdleDays read where the room's end is set, so a changed settings document reaches the next room by construction.
  const ttl = roomTtl(now, settings().RoomIdleDays);
  for (let attempt = 0; attempt < ROOM_CODE_ATTEMPTS; attempt++) {
    const roomId = newRoomCode();
    const ownerKey = memberKey(roomId, senderOf(connection));
    const room = {
      roomId,
      createdAt,
      createdBy: username,
      seq: 0,
      ttl,
      ownerId: connection.userId,
      ownerKey,
    };
    if (await deps.rooms.create(room)) {
      await moveTo(deps, connectionId, roomId, username);
      return {
        type: 'joined',
        roomId,
        members: [username],
        memberCount: 1,
        history: [],
        hasMore: false,
        lastSeq: 0,
        // Its creator's key in it, as a join gives it: the creator's messages are told by it (threads, edits).
        memberKey: memberKey(roomId, senderOf(connection)),
        // Its creator owns it (moderation/moderation.ts): the page offers it the owner's moderation.
        role: 'owner',
      };
    }
  }
  throw new Error(`no free room code after ${ROOM_CODE_ATTEMPTS} attempts`);
}

export async function leaveRoom(
  deps: Pick<ChatPorts, 'connections' | 'events' | 'now'> & { people?: PersonRooms },
  connectionId: string,
  roomId?: string,
): Promise<{ type: 'left'; roomId: string }> {
  if (roomId !== undefined && roomId !== LOBBY) {
    const connection = await requireConnection(deps, connectionId);
    // A room followed but not shown: only its subscription ends, the shown room stays as it is.
    if (connection.roomId !== roomId) {
      const gone = await deps.connections.unsubscribe(connectionId, roomId);
      if (!gone) throw new NotSubscribed(roomId);
      if (!(await personStays(deps, connection, roomId, gone.username)))
        await deps.events.publish([presenceEvent(roomId, 'leave', gone.username)]);
      return { type: 'left', roomId };
    }
  }
  const before = await deps.connections.moveToRoom(connectionId, LOBBY, deps.now().toISOString());
  if (!before) throw new UnknownConnection();
  const stays = before.roomId !== LOBBY && (await personStays(deps, before, before.roomId, before.username));
  if (!stays) await announceMove(deps, before, LOBBY);
  return { type: 'left', roomId: before.roomId };
}

/**
 * Whether the leaving connection's person is still in `roomId` under `username` on another connection (a second tab
 * or device of the same signed-in user): presence is a person's, so the room then hears no leave (the membership
 * goes all the same: leaveroom.ts). Read after the leave's own write, through the user index (one Query of at most
 * PERSON_DEVICES_READ connections) and one Query of each connection's subscriptions; none without sign-in, where a
 * connection is a member of its own. The index is eventually consistent: a device connected within the last moment
 * may be missed, and the room then hears a leave it will hear that device's join after.
 */
async function personStays(
  deps: { people?: PersonRooms },
  connection: Connection,
  roomId: string,
  username: string,
): Promise<boolean> {
  if (!deps.people || !connection.userId?.startsWith('user:')) return false;
  const rooms = await deps.people.roomsOf(connection.userId, PERSON_DEVICES_READ);
  return rooms.some((s) => s.roomId === roomId && s.username === username);
}

/**
 * `noLobby`: LobbyPolicy=off, where a connection in the lobby is in no room (lobby.ts): nothing to read or list.
 * `lobbyUnlisted`: the lobby lists its asker alone (lobby.ts, lobbyUnlisted).
 */
export interface LobbyOption {
  noLobby?: boolean;
  lobbyUnlisted?: boolean;
}

const NOBODY_LISTED = { members: [], count: 0, includesConnection: false };

export async function who(
  deps: Pick<ChatPorts, 'connections'> & { rooms?: Pick<ChatPorts['rooms'], 'get'> },
  connectionId: string,
  options: LobbyOption = {},
) {
  const connection = await requireConnection(deps, connectionId);
  if (options.noLobby && connection.roomId === LOBBY)
    return { type: 'members' as const, roomId: LOBBY, members: [] as string[], memberCount: 0 };
  // The room's moderators (core/moderation.ts), read beside the list: the member list marks them.
  const [{ members, memberCount }, room] = await Promise.all([
    options.lobbyUnlisted && connection.roomId === LOBBY
      ? memberList(NOBODY_LISTED, connection)
      : membersOf(deps, connection.roomId, connection),
    connection.roomId === LOBBY ? undefined : deps.rooms?.get(connection.roomId),
  ]);
  const moderators = [...moderationOf(room).moderators.values()];
  return {
    type: 'members' as const,
    roomId: connection.roomId,
    members,
    memberCount,
    ...(moderators.length > 0 && { moderators }),
  };
}
