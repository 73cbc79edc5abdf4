import { randomUUID } from 'node:crypto';
import { BadRequest, NotAllowed } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { type OtherDevices, tellOtherDevices } from '#core/identity/otherDevices';
import { memberKeyOf, membershipTtl } from '#core/memberKeys';
import type { ChatEvent, Connection, EventPublisher, Member } from '#core/ports';
import { LOBBY } from '#core/protocol';
import { logger } from '#platform/powertools';
import type { ReadFrame, SeenByFrame, SeenByMember, SeenFrame } from '#protocol';
import type { ReadDeps } from './ports';

/**
 * Read positions: `markread` moves the caller's forward in its room, `seenby` lists each member's. A position is
 * kept per member identity and room, on the membership the rooms feature records (memberKeys.ts memberKeyOf).
 */

/** The `seq` of markread: a whole number ≥ 0. */
export function parseReadSeq(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new BadRequest('"seq" must be the seq of a message you have read (a whole number, 0 or more).');
  return value;
}

/**
 * How a read that moved is pushed to the room ("seen by", docs/PROTOCOL.md): a `Seen` event on the chat bus, which
 * the fan-out delivers with the room's other events and coalesces per cycle (functions/deliver/prepare.ts), in rooms
 * of at most `maxMembers` connections. The room's size is one bounded read of its index (`membersUpTo`, keys only,
 * stopping at `maxMembers + 1`), made beside the head's read: no counter is kept anywhere, so nothing per room is
 * written on a join or a leave, and a room over the size costs that one read and publishes nothing.
 */
interface SeenPush {
  events: EventPublisher;
  /** The room's members up to `limit`, on the keys of `keyLevel` (the head's read gives it). */
  membersUpTo(roomId: string, limit: number, keyLevel: Promise<number>): Promise<Member[]>;
  maxMembers: number;
}

/**
 * Moves the caller's read position in its room forward. A position past the room's head (its latest event) is
 * refused and nothing is stored: it would hide every message still to come, and tell "seen by" of messages that do not
 * exist. One read of the head decides it. markread acts on the connection's own room, which it is in by definition.
 * A position that moved is pushed to the room (SeenPush) when the room is small enough, and to the person's other
 * devices (devices.ts); both pushes are advisory, so their failure is logged and the read stands.
 */
export async function markRead(
  deps: ReadDeps & { seen?: SeenPush; otherDevices?: OtherDevices },
  connectionId: string,
  seq: number,
): Promise<ReadFrame> {
  const connection = await requireConnection(deps, connectionId);
  const { roomId } = connection;
  if (roomId === LOBBY) throw new NotAllowed('The lobby keeps no read positions: join a room first.');
  const { seen } = deps;
  // The head's read gives the room's key level too: the size's read starts on the room's first key beside it and
  // reads its other keys, if any, once the level is known.
  const room = deps.reads.head(roomId);
  const [read, members] = await Promise.all([
    room,
    seen?.membersUpTo(
      roomId,
      seen.maxMembers + 1,
      room.then((r) => r?.keyLevel ?? 1),
    ),
  ]);
  const head = read?.seq;
  if (head === undefined)
    throw new NotAllowed(`Room ${roomId} no longer exists: it keeps no read positions.`);
  if (seq > head)
    throw new BadRequest(
      `seq ${seq} is after room ${roomId}'s latest event, ${head}: mark read up to ${head} at most.`,
    );
  const key = memberKeyOf(connection);
  const now = deps.now();
  const { lastReadSeq, moved } = await deps.reads.markRead(
    key,
    roomId,
    { seq, head },
    now.toISOString(),
    membershipTtl(key, now),
  );
  const answer: ReadFrame = { type: 'read', roomId, lastReadSeq };
  if (!moved) return answer;
  await Promise.all([
    seen && members !== undefined && members.length <= seen.maxMembers
      ? pushSeen(seen.events, roomId, {
          username: connection.username,
          ...(connection.userId?.startsWith('user:') && { userId: connection.userId }),
          lastReadSeq,
        })
      : undefined,
    deps.otherDevices && tellOtherDevices(deps.otherDevices, connection, answer),
  ]);
  return answer;
}

/** The `Seen` event of one member's new position: its frame as the room gets it when it comes alone. */
function seenEvent(roomId: string, member: SeenByMember): ChatEvent {
  const frame: SeenFrame = { type: 'seen', roomId, members: [member] };
  return { type: 'Seen', messageId: randomUUID(), roomId, payload: JSON.stringify(frame) };
}

async function pushSeen(events: EventPublisher, roomId: string, member: SeenByMember): Promise<void> {
  try {
    await events.publish([seenEvent(roomId, member)]);
  } catch (error) {
    // The others see this position with the member's next read, or when they show the room again (seenby).
    logger.warn('read position not pushed', { roomId, error });
  }
}

/**
 * Each member of the caller's room with its read position, one entry per member (several tabs of one user are one
 * entry), in rooms of at most `maxMembers`: a larger room answers `tooLarge` with no entries, so the reads it costs
 * stay bounded.
 */
export async function seenBy(deps: ReadDeps, connectionId: string, maxMembers: number): Promise<SeenByFrame> {
  const connection = await requireConnection(deps, connectionId);
  const { roomId } = connection;
  if (roomId === LOBBY) return { type: 'seenby', roomId, memberCount: 0, members: [], tooLarge: true };
  const listed = await deps.connections.listMembers(roomId, maxMembers, connectionId);
  const memberCount = listed.count + (listed.includesConnection ? 0 : 1);
  if (memberCount > maxMembers) return { type: 'seenby', roomId, memberCount, members: [], tooLarge: true };
  // The room index lists the connections that follow the room (shown or not), each under the name it shows there;
  // the caller as the frame sees it in this room (servedFrom). One no longer connected is dropped.
  const names = new Map(listed.members.map((m) => [m.connectionId, m.username]));
  names.set(connectionId, connection.username);
  const found = await deps.reads.connections([...names.keys()]);
  const byKey = new Map<string, Connection>();
  for (const c of found) if (!byKey.has(memberKeyOf(c))) byKey.set(memberKeyOf(c), c);
  const positions = await deps.reads.positions([...byKey.keys()], roomId);
  const members = [...byKey].map(([key, c]) => ({
    username: names.get(c.connectionId) ?? c.username,
    ...(c.userId?.startsWith('user:') && { userId: c.userId }),
    lastReadSeq: positions.get(key) ?? 0,
  }));
  return { type: 'seenby', roomId, memberCount, members, tooLarge: false };
}
