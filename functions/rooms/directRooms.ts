import { BadRequest, Forbidden, NotAllowed } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { tellOtherDevices } from '#core/identity/otherDevices';
import { dmRoomId, memberKey } from '#core/memberKeys';
import { personName } from '#core/peopleKeys';
import type { Connection, Room } from '#core/ports';
import { epochSeconds, roomActiveAt, roomTtl } from '#core/roomLife';
import { settings } from '#platform/settings';
import {
  type DmOpenedFrame,
  type DmPeer,
  isUserId,
  type JoinedFrame,
  type MyRoom,
  UNREAD_MAX,
} from '#protocol';
import { type ListedElsewhere, type MemberDeps, peerOf, UNREAD_EVENTS_READ } from './memberships';

/**
 * Direct messages: a room of exactly two signed-in users, its code derived from their ids (joinroom refuses anyone
 * else as it refuses a wrong key, guard.ts, so knowing the code gets nobody in), opened by either of the two and
 * listed in both their rooms from then on.
 */

/** Who opendm names: `userId`, or `username` as the member list of the caller's room shows it. */
type DmTarget = { userId: string } | { username: string };

export function parseDmTarget(body: Record<string, unknown>): DmTarget {
  const { userId, username } = body;
  if (userId !== undefined && username === undefined) {
    if (!isUserId(userId)) throw new BadRequest('"userId" must be a user id as seenby or myrooms gives it.');
    return { userId };
  }
  if (username !== undefined && userId === undefined) {
    if (typeof username !== 'string' || username.length === 0 || username.length > 64)
      throw new BadRequest('"username" must be a name as the member list of your room shows it.');
    return { username };
  }
  throw new BadRequest('Name the person to message with "userId" or "username" (one of the two).');
}

const signedIn = (c: Connection | undefined): c is Connection & { userId: string } =>
  c?.userId?.startsWith('user:') === true;

/** The peer's id, and its name where the caller's room shows it. */
async function resolvePeer(deps: DmDeps, caller: Connection, target: DmTarget): Promise<DmPeer> {
  if ('userId' in target) {
    // Named by id (found by findpeople): the name it shows in a room the two share, kept with the room.
    const username = await deps.peerName?.(caller.userId as string, target.userId);
    return username ? { userId: target.userId, username } : { userId: target.userId };
  }
  const { members } = await deps.connections.listMembers(caller.roomId, Number.POSITIVE_INFINITY);
  const named = members.filter((m) => m.username === target.username).map((m) => m.connectionId);
  const peer = (await deps.memberships.connections(named)).find(signedIn);
  if (named.length === 0)
    throw new NotAllowed(`Nobody in room ${caller.roomId} shows the name "${target.username}".`);
  if (!peer)
    throw new NotAllowed(`${target.username} is not signed in: direct messages are between signed-in users.`);
  return { userId: peer.userId, username: peer.chosenName ?? peer.username };
}

type DmDeps = MemberDeps & {
  /**
   * Takes a room from the caller's room-creation budget (createroom's RoomCreateLimit per hour), or throws
   * RateLimited: a new direct-message room is a room kept RoomIdleDays like any other.
   */
  admitNewRoom?: () => Promise<void>;
  /**
   * Whether the caller shares a room with a user named by id alone (people.ts sharesRoom): a new pair's room is
   * opened only with a co-member, so an id found nowhere in the caller's rooms reaches nobody.
   */
  sharesRoom?: (userId: string, peerId: string) => Promise<boolean>;
  /**
   * The name a peer named by id shows in a room it shares with the caller (people.ts sharedWith), when one is
   * known: the room keeps it, so its name comes from the server on every device and after every reload.
   */
  peerName?: (userId: string, peerId: string) => Promise<string | undefined>;
  join: (connectionId: string, roomId: string) => Promise<JoinedFrame>;
  /**
   * Lets the pair's room open or throws: refused where either of the two blocks the other (safety/screening.ts);
   * absent: not checked.
   */
  admitPair?: (roomId: string, opener: string) => Promise<void>;
  /** Tells the other user's devices of a room new to their list (dmNotice.ts); advisory, it never throws. */
  notifyPeer?: (userId: string, room: DmOpenedFrame['room']) => Promise<unknown>;
} & ListedElsewhere;

/**
 * Opens the caller's direct-message room with another signed-in user and moves the caller into it. The pair's
 * room is the same whichever of the two opens it, and both have it in `myrooms` from now on. The caller's display
 * name is kept with the room so the other finds whom it is with.
 */
export async function openDm(deps: DmDeps, connectionId: string, target: DmTarget): Promise<JoinedFrame> {
  const caller = await requireConnection(deps, connectionId);
  if (!signedIn(caller)) throw new Forbidden('Direct messages are between signed-in users: sign in first.');
  const peer = await resolvePeer(deps, caller, target);
  if (peer.userId === caller.userId)
    throw new NotAllowed('A direct message needs someone else: pick another member.');
  const dmMembers = [caller.userId, peer.userId].sort();
  const names = new Map([
    [caller.userId, caller.chosenName ?? caller.username],
    [peer.userId, peer.username ?? ''],
  ]);
  const now = deps.now();
  const roomId = dmRoomId(caller.userId, peer.userId);
  await deps.admitPair?.(roomId, caller.userId);
  // A new pair's room is created only with a co-member (one named in the caller's room is; one named by id must
  // share one of the caller's rooms: found by findpeople, people.ts) and within the caller's room budget; reopening
  // an existing room takes neither.
  const beforeCreate = async () => {
    if ('userId' in target && deps.sharesRoom && !(await deps.sharesRoom(caller.userId, peer.userId)))
      throw new NotAllowed(
        'You share no room with that user: direct messages are with signed-in people you share a room with.',
      );
    await deps.admitNewRoom?.();
  };
  const room = await deps.memberships.openDm(
    {
      roomId,
      createdAt: now.toISOString(),
      createdBy: names.get(caller.userId),
      seq: 0,
      ttl: roomTtl(now, settings().RoomIdleDays),
      dmMembers,
      dmNames: dmMembers.map((id) => names.get(id) ?? ''),
    },
    epochSeconds(now),
    beforeCreate,
  );
  const joined = await deps.join(connectionId, roomId);
  const at = now.toISOString();
  // The opener has read what it was shown; the other member has read nothing of it yet.
  const [peerIsNew, callerIsNew] = await Promise.all([
    deps.memberships.join(peer.userId, roomId, { dm: true, at, name: peer.username }),
    deps.memberships.join(caller.userId, roomId, {
      dm: true,
      at,
      readSeq: joined.lastSeq,
      name: personName(caller),
    }),
  ]);
  // Where "Your rooms" puts it on every device (its `activeAt`): the room's end read back by the open.
  const activeAt =
    room.ttl === undefined ? epochSeconds(now) : roomActiveAt(room.ttl, settings().RoomIdleDays);
  // Only when the room is new to the other's list (first open, or after they left it): not on every open.
  if (peerIsNew && deps.notifyPeer)
    await tellPeer(deps, deps.notifyPeer, { room, joined, caller, peer, activeAt });
  const dm = peerOf(room, caller.userId) ?? peer;
  // The opener's other devices list the room as joinroom's do (`myroom`): only when the membership is new to the
  // person, so reopening a listed DM tells nothing.
  if (callerIsNew && deps.otherDevices) {
    const { lastSeq } = joined;
    const listed: MyRoom = { roomId, lastSeq, lastReadSeq: lastSeq, unread: 0, activeAt, dm };
    await tellOtherDevices(deps.otherDevices, caller, { type: 'myroom', roomId, room: listed });
  }
  return { ...joined, dm };
}

/**
 * Lists the pair's room on the other user's devices (`dmopened`), with what they were not shown: the opener's
 * messages are the peer's unread (a DM opened anew has none yet; one reopened after the peer left counts at most
 * UNREAD_MAX of them, as myrooms would).
 */
async function tellPeer(
  deps: DmDeps,
  notifyPeer: NonNullable<DmDeps['notifyPeer']>,
  opened: {
    room: Room;
    joined: JoinedFrame;
    caller: Connection & { userId: string };
    peer: DmPeer;
    activeAt: number;
  },
): Promise<void> {
  const { room, joined, caller, peer, activeAt } = opened;
  const { roomId, lastSeq } = joined;
  const dm = peerOf(room, peer.userId) ?? { userId: caller.userId };
  const { count, more } =
    lastSeq === 0
      ? { count: 0, more: false }
      : await deps.memberships.unreadAfter(roomId, 0, memberKey(roomId, peer.userId), UNREAD_EVENTS_READ);
  await notifyPeer(peer.userId, {
    roomId,
    lastSeq,
    lastReadSeq: 0,
    unread: Math.min(count, UNREAD_MAX),
    ...((more || count > UNREAD_MAX) && { unreadMore: true as const }),
    activeAt,
    dm,
  });
}
