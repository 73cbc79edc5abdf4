import { keyIdOf } from '#core/aws/rooms';
import { requireConnection } from '#core/identity/connections';
import { type OtherDevices, tellOtherDevices } from '#core/identity/otherDevices';
import { memberKey, memberKeyOf, membershipTtl } from '#core/memberKeys';
import { personName } from '#core/peopleKeys';
import type { ChatPorts, Connection, Room } from '#core/ports';
import { LOBBY } from '#core/protocol';
import { epochSeconds, roomActiveAt, roomEnd } from '#core/roomLife';
import { logger } from '#platform/powertools';
import { settings } from '#platform/settings';
import { type DmPeer, type MyRoom, type MyRoomsFrame, UNREAD_MAX } from '#protocol';

/**
 * Memberships and "my rooms" (a membership's read position moves in functions/reading/; direct messages:
 * directRooms.ts). A membership is kept per member identity and room: the signed-in
 * user (`user:` id, the same on every device), else the client's resume token (`resume:` scope, the same across its
 * reconnects), else the connection alone (until it closes). It is recorded when the member creates, joins or opens
 * a room, dropped when it leaves, and dropped when `myrooms` finds the room ended or its key changed (the member was
 * removed, or the owner rotated the key while it was away: the stored key no longer gets in, so the room is not
 * offered). A direct-message room belongs to exactly two signed-in users: its code is derived from their ids, and
 * joinroom refuses anyone else as it refuses a wrong key (guard.ts), so knowing the code gets nobody in.
 */

export interface Membership {
  memberKey: string;
  roomId: string;
  lastReadSeq: number;
  /** The invite key the member last entered with (absent: the room had none, or a direct message). */
  inviteKey?: string;
  dm?: boolean;
  /** A signed-in member's display name as it last entered the room (people.ts). */
  username?: string;
  /** The member's notices in the room when not the default (protocol/notices.ts; functions/reading/notices.ts). */
  notices?: 'mentions' | 'mute';
}

export interface MembershipStore {
  /**
   * Records that `memberKey` belongs to `roomId`, with the key it entered by, keeping its read position; a first
   * entry's position is `readSeq` (what the member was shown on entering; absent: 0, everything unread). True when
   * the membership is new (a first entry, or one after leaving). `name`, for a signed-in member, is the display
   * name it is found by (people.ts); kept until the next entry that gives one.
   */
  join(
    memberKey: string,
    roomId: string,
    entry: { inviteKey?: string; dm?: boolean; at: string; readSeq?: number; ttl?: number; name?: string },
  ): Promise<boolean>;
  /** Forgets the membership; true when there was one (a leave told already finds none). */
  leave(memberKey: string, roomId: string): Promise<boolean>;
  /** Sets the key a membership enters by (the owner's, when it rotates its room's key); never creates one. */
  rekey(memberKey: string, roomId: string, inviteKey: string): Promise<void>;
  /** The member's memberships, at most `limit`. */
  list(memberKey: string, limit: number): Promise<Membership[]>;
  /** Rooms by id (strongly consistent is not needed: counts are advisory); a missing room is absent. */
  rooms(roomIds: string[]): Promise<Room[]>;
  /**
   * The room's messages after `afterSeq` whose author is not `authorKey` (changes and tombstones left out, and
   * thread replies not also sent to the room: the room's flow), counted over at most `maxEvents` of its events;
   * `more` when events after those were not read.
   */
  unreadAfter(
    roomId: string,
    afterSeq: number,
    authorKey: string,
    maxEvents: number,
  ): Promise<{ count: number; more: boolean; mentions: number }>;
  /** Connections by id, as stored; a gone one is absent. */
  connections(connectionIds: string[]): Promise<Connection[]>;
  /**
   * The direct-message room `room.roomId` live for the pair: created if it does not exist, its life restarted if it
   * ended, the members' display names stored; returns it as it is after.
   */
  /**
   * The pair's room, created when it does not exist (after `beforeCreate`, which may refuse by throwing: the budget
   * and the peer checks of a new room), else as it is (an ended one lives again).
   */
  openDm(
    room: Room & { dmMembers: string[]; dmNames: string[] },
    nowSeconds: number,
    beforeCreate?: () => Promise<void>,
  ): Promise<Room>;
}

/** Exported for tests: the port myRooms.test.ts builds. */
export type MemberDeps = Pick<ChatPorts, 'connections' | 'now'> & { memberships: MembershipStore };

/**
 * Rooms `myrooms` lists at most: the most recently active of the memberships it reads.
 * Exported for tests: the list's cap myRooms.test.ts asserts.
 */
export const MY_ROOMS_MAX = 100;

/**
 * Memberships `myrooms` reads at most. They are stored by room code, not by activity (a membership is not written
 * for each message of its room), so the most recently active rooms can only be chosen from all that are read: every
 * one up to this bound, each room's item read with them (at most 5 BatchGetItem requests).
 */
const MY_ROOMS_READ_MAX = 500;

/**
 * Events `myrooms` reads per listed room to count its unread messages: one more than UNREAD_MAX, so a room with more
 * unread than that shows "99+" after one bounded read (docs/DECISIONS.md, "Service design").
 */
export const UNREAD_EVENTS_READ = UNREAD_MAX + 1;

/** Rooms whose unread messages `myrooms` counts at once. */
const UNREAD_CONCURRENCY = 16;

/** The caller as the frame count read it, else as stored now. */
const callerOf = (deps: MemberDeps, connectionId: string, admitted?: Connection) =>
  admitted ? Promise.resolve(admitted) : deps.connections.get(connectionId);

/**
 * The person's other connections, told of a room that came into or went out of their rooms (a `myroom` frame,
 * core/identity/otherDevices.ts); absent where a membership is recorded without telling them (`subscribe` follows
 * rooms the person's list has already).
 */
export type ListedElsewhere = { otherDevices?: OtherDevices };

/**
 * Records the caller's membership of the room it just created or joined. A failed record is the caller's loss of a
 * list entry, never of the join: it is reported to `onError` and the join stands. A membership new to the person is
 * pushed to its other devices (`myroom`, read up to the room's latest seq: the caller is shown it, with its
 * `activeAt`: given, else read from the room's end); a rejoin of a room listed already tells nothing.
 */
export async function recordMembership(
  deps: MemberDeps & ListedElsewhere,
  caller: { connectionId: string; admitted?: Connection },
  joined: {
    roomId: string;
    inviteKey?: string;
    lastSeq: number;
    name?: string;
    dm?: DmPeer;
    activeAt?: number;
  },
  onError: (error: unknown) => void,
): Promise<void> {
  if (joined.roomId === LOBBY) return;
  try {
    const connection = await callerOf(deps, caller.connectionId, caller.admitted);
    if (!connection) return;
    const key = memberKeyOf(connection);
    const now = deps.now();
    const fresh = await deps.memberships.join(key, joined.roomId, {
      inviteKey: joined.inviteKey,
      at: now.toISOString(),
      readSeq: joined.lastSeq,
      ttl: membershipTtl(key, now),
      name: personName(connection),
    });
    // Only a signed-in person has other devices to tell (otherDevices.ts).
    if (!fresh || !deps.otherDevices || !connection.userId?.startsWith('user:')) return;
    const { roomId, inviteKey, lastSeq, name, dm } = joined;
    const room: MyRoom = {
      roomId,
      ...(!dm && inviteKey !== undefined && { inviteKey }),
      lastSeq,
      lastReadSeq: lastSeq,
      unread: 0,
      ...(dm ? { dm } : name && { name }),
      activeAt: joined.activeAt ?? (await activeAtOf(deps, roomId, now)),
    };
    await tellOtherDevices(deps.otherDevices, connection, { type: 'myroom', roomId, room });
  } catch (error) {
    onError(error);
  }
}

/** The room's `activeAt` as `myrooms` gives it: its end read (LISTED_ROOM_ATTRIBUTES), else `now`. */
async function activeAtOf(deps: MemberDeps, roomId: string, now: Date): Promise<number> {
  const [room] = await deps.memberships.rooms([roomId]);
  return room?.ttl === undefined ? epochSeconds(now) : roomActiveAt(room.ttl, settings().RoomIdleDays);
}

/**
 * Forgets the caller's membership of the room it just left (same failure rule as recordMembership), and tells the
 * person's other devices it left their rooms (`myroom` with `left`).
 */
export async function forgetMembership(
  deps: MemberDeps & ListedElsewhere,
  caller: { connectionId: string; admitted?: Connection },
  roomId: string,
  onError: (error: unknown) => void,
): Promise<void> {
  if (roomId === LOBBY) return;
  try {
    const connection = await callerOf(deps, caller.connectionId, caller.admitted);
    if (!connection) return;
    const forgot = await deps.memberships.leave(memberKeyOf(connection), roomId);
    // Told once: the other devices' own leaves that follow find no membership and tell nothing.
    if (forgot && deps.otherDevices)
      await tellOtherDevices(deps.otherDevices, connection, { type: 'myroom', roomId, left: true });
  } catch (error) {
    onError(error);
  }
}

/** Whether `key` may still enter `room` the way its membership says: the room lives and lets it in. */
function stillMember(membership: Membership, room: Room | undefined, now: Date): room is Room {
  if (!room || roomEnd(room, now)) return false;
  if (room.dmMembers) return room.dmMembers.includes(membership.memberKey);
  // The owner may always come back: its own rotations must not take its room off its list.
  if (room.ownerId === membership.memberKey) return true;
  // By the key's id (rooms.ts keyIdOf): myrooms never reads a room's key. A room written before key ids has none
  // to compare: its membership stays listed, and a join with a stale key is refused as any wrong key.
  if (room.keyRequired !== true || room.keyId === undefined || room.isPublic === true) return true;
  return membership.inviteKey !== undefined && keyIdOf(membership.inviteKey) === room.keyId;
}

/**
 * The key to rejoin with: the one on the membership, which for the room's owner is the current one (moderation/owners.ts
 * writes it to the owner's membership with each rotation).
 */
function inviteKeyFor(membership: Membership): { inviteKey?: string } {
  return membership.inviteKey === undefined ? {} : { inviteKey: membership.inviteKey };
}

export function peerOf(room: Room, memberKey: string): DmPeer | undefined {
  const at = room.dmMembers?.findIndex((id) => id !== memberKey) ?? -1;
  const userId = room.dmMembers?.[at];
  if (userId === undefined) return undefined;
  const username = room.dmNames?.[at];
  return username ? { userId, username } : { userId };
}

/**
 * The caller's most recently active rooms (a room's TTL moves with each message), with their unread counts; `more`
 * when there are more than MY_ROOMS_MAX.
 * Memberships of rooms that ended, or that the member can no longer enter, are dropped as they are found.
 */
export async function myRooms(deps: MemberDeps, connectionId: string): Promise<MyRoomsFrame> {
  const connection = await requireConnection(deps, connectionId);
  const key = memberKeyOf(connection);
  const memberships = await deps.memberships.list(key, MY_ROOMS_READ_MAX);
  const rooms = new Map(
    (await deps.memberships.rooms(memberships.map((m) => m.roomId))).map((r) => [r.roomId, r]),
  );
  const now = deps.now();
  const listed: { room: MyRoom; activity: number }[] = [];
  const stale: string[] = [];
  for (const membership of memberships) {
    const room = rooms.get(membership.roomId);
    if (!stillMember(membership, room, now)) {
      stale.push(membership.roomId);
      continue;
    }
    const dm = peerOf(room, key);
    listed.push({
      activity: room.ttl ?? 0,
      room: {
        roomId: room.roomId,
        ...(!dm && inviteKeyFor(membership)),
        lastSeq: room.seq,
        lastReadSeq: membership.lastReadSeq,
        unread: 0,
        ...(room.ttl !== undefined && { activeAt: roomActiveAt(room.ttl, settings().RoomIdleDays) }),
        ...(dm && { dm }),
        ...(!dm && room.name && { name: room.name }),
        ...(membership.notices && { notices: membership.notices }),
      },
    });
  }
  await Promise.all(stale.map((roomId) => deps.memberships.leave(key, roomId)));
  // The one order of "Your rooms" on every device (docs/DECISIONS.md, "One person, many devices"): latest activity
  // first, then by room code, so rooms active in the same second come in one order whoever asks.
  listed.sort((a, b) => b.activity - a.activity || (a.room.roomId < b.room.roomId ? -1 : 1));
  const shown = listed.slice(0, MY_ROOMS_MAX).map((l) => l.room);
  await countUnread(deps, key, shown);
  return { type: 'myrooms', rooms: shown, ...(listed.length > MY_ROOMS_MAX && { more: true as const }) };
}

/**
 * Sets each room's unread count: messages from others after the member's read position, not its own, not edits,
 * deletes or reactions. A message's author is stored as its key in the room (`memberKey` of the sender's identity,
 * messages/changeFrames.ts), and the sender's identity is the member's key here (memberKeyOf: the signed-in user,
 * else the resume token, else the connection), so the comparison is by identity, never by display name. A room with
 * nothing after the read position costs no read; any other one Query of at most UNREAD_EVENTS_READ events.
 */
async function countUnread(deps: MemberDeps, key: string, rooms: MyRoom[]): Promise<void> {
  const behind = rooms.filter((room) => room.lastSeq > room.lastReadSeq);
  for (let i = 0; i < behind.length; i += UNREAD_CONCURRENCY)
    await Promise.all(
      behind.slice(i, i + UNREAD_CONCURRENCY).map(async (room) => {
        const { count, more, mentions } = await deps.memberships.unreadAfter(
          room.roomId,
          room.lastReadSeq,
          memberKey(room.roomId, key),
          UNREAD_EVENTS_READ,
        );
        room.unread = Math.min(count, UNREAD_MAX);
        if (more || count > UNREAD_MAX) room.unreadMore = true;
        // Of those, the ones that name the member (`@name`, its key on the message): counted from the same read.
        if (mentions > 0) room.mentions = Math.min(mentions, UNREAD_MAX);
      }),
    );
}

/** How a membership that could not be recorded is reported: logged as an error, the request stands. */
export function logMembershipFailure(error: unknown): void {
  logger.error('membership not recorded', error as Error);
}
