import { randomInt } from 'node:crypto';
import { requireConnection } from './connections';
import { RoomNotFound, UnknownConnection } from './errors';
import type { ChatEvent, ChatPorts, Connection } from './ports';
import { presenceEvent } from './presence';
import {
  type HistoryQuery,
  type JoinedFrame,
  LIMITS,
  LOBBY,
  type MessageFrame,
  ROOM_CODE_ALPHABET,
  ROOM_CODE_LENGTH,
  toMessageFrame,
} from './protocol';

/** Rooms: creating one, moving a connection between rooms, and what a room holds (members, history). */

const ROOM_CODE_ATTEMPTS = 5;

export function newRoomCode(): string {
  let code = '';
  for (let i = 0; i < ROOM_CODE_LENGTH; i++) code += ROOM_CODE_ALPHABET[randomInt(ROOM_CODE_ALPHABET.length)];
  return code;
}

/** Moves a connection and tells both rooms (the lobby is quiet: no presence there). */
async function moveTo(
  deps: Pick<ChatPorts, 'connections' | 'events' | 'now'>,
  connectionId: string,
  roomId: string,
): Promise<Connection> {
  const before = await deps.connections.moveToRoom(connectionId, roomId, deps.now().toISOString());
  if (!before) throw new UnknownConnection();
  if (before.roomId !== roomId) {
    const events: ChatEvent[] = [];
    if (before.roomId !== LOBBY) events.push(presenceEvent(before.roomId, 'leave', before.username));
    if (roomId !== LOBBY) events.push(presenceEvent(roomId, 'join', before.username));
    if (events.length > 0) await deps.events.publish(events);
  }
  return before;
}

async function membersOf(deps: Pick<ChatPorts, 'connections'>, roomId: string, self?: Connection) {
  const { members, count, includesConnection } = await deps.connections.listMembers(
    roomId,
    LIMITS.membersListed,
    self?.connectionId,
  );
  // The room index is eventually consistent: a connection that just moved may not be in it yet.
  const missingSelf = self !== undefined && !includesConnection;
  const names = members.map((m) => m.username);
  if (self && !names.includes(self.username)) names.unshift(self.username);
  return { members: [...new Set(names)], memberCount: count + (missingSelf ? 1 : 0) };
}

export async function createRoom(
  deps: Pick<ChatPorts, 'connections' | 'rooms' | 'events' | 'now'>,
  connectionId: string,
): Promise<JoinedFrame> {
  const connection = await requireConnection(deps, connectionId);
  const createdAt = deps.now().toISOString();
  for (let attempt = 0; attempt < ROOM_CODE_ATTEMPTS; attempt++) {
    const roomId = newRoomCode();
    if (await deps.rooms.create({ roomId, createdAt, createdBy: connection.username, seq: 0 })) {
      await moveTo(deps, connectionId, roomId);
      return {
        type: 'joined',
        roomId,
        members: [connection.username],
        memberCount: 1,
        history: [],
        lastSeq: 0,
      };
    }
  }
  throw new Error(`no free room code after ${ROOM_CODE_ATTEMPTS} attempts`);
}

export async function joinRoom(
  deps: Pick<ChatPorts, 'connections' | 'rooms' | 'messages' | 'events' | 'now'>,
  connectionId: string,
  roomId: string,
): Promise<JoinedFrame> {
  // The lobby always exists; its Rooms row only appears with its first message.
  const room = await deps.rooms.get(roomId);
  if (!room && roomId !== LOBBY) throw new RoomNotFound(roomId);
  const before = await moveTo(deps, connectionId, roomId);
  const self = { ...before, roomId };
  const [{ members, memberCount }, history] = await Promise.all([
    membersOf(deps, roomId, self),
    deps.messages.latest(roomId, LIMITS.historyDefault),
  ]);
  const lastSeq = Math.max(room?.seq ?? 0, history.at(-1)?.seq ?? 0);
  return { type: 'joined', roomId, members, memberCount, history: history.map(toMessageFrame), lastSeq };
}

export async function leaveRoom(
  deps: Pick<ChatPorts, 'connections' | 'events' | 'now'>,
  connectionId: string,
): Promise<{ type: 'left'; roomId: string }> {
  const before = await moveTo(deps, connectionId, LOBBY);
  return { type: 'left', roomId: before.roomId };
}

export async function history(
  deps: Pick<ChatPorts, 'connections' | 'messages'>,
  connectionId: string,
  query: HistoryQuery,
): Promise<{ type: 'history'; roomId: string; messages: MessageFrame[] }> {
  const { roomId } = await requireConnection(deps, connectionId);
  const messages =
    query.afterSeq === undefined
      ? await deps.messages.latest(roomId, query.limit)
      : await deps.messages.after(roomId, query.afterSeq, query.limit);
  return { type: 'history', roomId, messages: messages.map(toMessageFrame) };
}

export async function who(deps: Pick<ChatPorts, 'connections'>, connectionId: string) {
  const connection = await requireConnection(deps, connectionId);
  const { members, memberCount } = await membersOf(deps, connection.roomId, connection);
  return { type: 'members' as const, roomId: connection.roomId, members, memberCount };
}
