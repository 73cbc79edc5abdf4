import {
  BadRequest,
  Banned,
  Busy,
  busyFrom,
  ChatError,
  RoomClosed,
  RoomNotFound,
  toErrorFrame,
  UnknownConnection,
} from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { type DepartureRecords, notReturning } from '#core/identity/departure';
import { presenceEvent } from '#core/identity/presence';
import { parseInviteKey } from '#core/limits/guard';
import { memberKey, memberKeyOf, senderOf } from '#core/memberKeys';
import { bannedBy } from '#core/moderation';
import type { Connection, Room, Subscribed } from '#core/ports';
import { epochSeconds, roomEnd } from '#core/roomLife';
import type { MessagePorts } from '#messages/ports';
import { framesFor, withQuotes } from '#messages/roomHistory';
import {
  LIMITS,
  LOBBY,
  normalizeRoomId,
  type RoomEventFrame,
  type SubscribedFrame,
  type SubscribedRoom,
  type SubscribeRefusal,
} from '#protocol';
import { keyLevelToWrite, newcomerName } from './joining';
import { peerOf } from './memberships';
import type { RoomEntry } from './ports';

/**
 * `subscribe`: follows many rooms in one frame without showing any of them (a reconnect, a fresh page load;
 * docs/PROTOCOL.md). Each room is admitted as `joinroom` admits it and refused on its own (the others still
 * subscribe); a room followed already is answered as it stands and writes nothing, so a retried frame is harmless.
 */

/** One room of the frame, checked. */
interface RoomAsked {
  roomId: string;
  key?: string;
  afterSeq?: number;
}

/**
 * The frame's rooms, checked before anything is read (O(1) per room, at most LIMITS.subscriptionsMax of them): a
 * list of 1 to subscriptionsMax rooms, each a room code (or `lobby`, refused per room later) named once, with an
 * optional invite key and a seq to resume after. Anything else refuses the whole frame, BAD_REQUEST.
 */
export function parseRooms(value: unknown): RoomAsked[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new BadRequest('"rooms" must be a list of the rooms to follow, 1 at least.');
  if (value.length > LIMITS.subscriptionsMax)
    throw new BadRequest(`"rooms" may name ${LIMITS.subscriptionsMax} rooms at most.`);
  const seen = new Set<string>();
  return value.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new BadRequest(`rooms[${i}] must be an object with a "roomId".`);
    const { roomId: named, key, afterSeq } = entry as Record<string, unknown>;
    const roomId = typeof named === 'string' ? normalizeRoomId(named) : undefined;
    if (roomId === undefined) throw new BadRequest(`rooms[${i}].roomId must be a room code.`);
    if (seen.has(roomId)) throw new BadRequest(`Room ${roomId} is named twice in "rooms".`);
    seen.add(roomId);
    if (afterSeq !== undefined && (!Number.isSafeInteger(afterSeq) || (afterSeq as number) < 0))
      throw new BadRequest(`rooms[${i}].afterSeq must be a whole number, 0 or more.`);
    return {
      roomId,
      ...(key !== undefined && { key: parseInviteKey(key) }),
      ...(afterSeq !== undefined && { afterSeq: afterSeq as number }),
    };
  });
}

type SubscribeDeps = Pick<MessagePorts, 'connections' | 'rooms' | 'messages' | 'events' | 'now'> & {
  entry: Pick<RoomEntry, 'follow'>;
  /**
   * Admits one room as `joinroom` does (guard.ts admitJoin: the invite key, a direct message's members, the guesses
   * of a join by code alone): the room as read, or the refusal joinroom would answer, thrown.
   */
  admit: (room: RoomAsked) => Promise<Room>;
  /** Records a room newly followed in the member's "my rooms" (memberships.ts); never throws. */
  remember?: (joined: { roomId: string; inviteKey?: string; lastSeq: number }) => Promise<void>;
  /** Stops starting rooms once set: the route has answered BUSY (websocket.ts), and a retry does the rest. */
  signal?: AbortSignal;
  /**
   * The signed-in user's latest departure (departure.ts): a room newly followed that it names under the same name,
   * within its window, is a return and publishes no join.
   */
  departures?: Pick<DepartureRecords, 'latest'>;
};

/**
 * Rooms worked on at once. Each takes about six round trips (its admission, its members, its transaction, its seq,
 * the presence); 100 rooms five at a time is 20 rounds, a few seconds at most, well inside the 29 s the gateway
 * waits, and a burst of five transactions at a time never crowds one connection's items.
 */
const ROOMS_AT_ONCE = 5;

/** Tries of one room's transaction when another transaction held one of its items (as a join's, joining.ts). */
const FOLLOW_TRIES = 5;
const followPause = (tries: number) => Math.random() * Math.min(1000, 20 * 2 ** tries);

/** A room followed, before its events are added. */
type Followed = Omit<SubscribedRoom, 'events' | 'hasMore'> & { afterSeq?: number };

export async function subscribe(
  deps: SubscribeDeps,
  connectionId: string,
  asked: RoomAsked[],
): Promise<SubscribedFrame> {
  const connection = await requireConnection(deps, connectionId);
  const refused: SubscribeRefusal[] = [];
  const rooms = asked.filter((room) => {
    if (room.roomId !== LOBBY) return true;
    refused.push({
      roomId: LOBBY,
      code: 'BAD_REQUEST',
      message: 'The lobby is not followed: join it instead.',
    });
    return false;
  });
  // One strongly consistent Query of the connection's own subscriptions tells which rooms are new; the new ones are
  // counted all at once before any room is read, so a frame that would pass the limit follows nothing.
  const followed = new Map(
    (await deps.connections.followed(connectionId)).map((s) => [s.roomId, s.username]),
  );
  const fresh = rooms.filter((room) => !followed.has(room.roomId)).length;
  if (fresh > 0 && !(await deps.connections.countRooms(connectionId, fresh))) throw new UnknownConnection();
  let used = 0;
  const joined: Subscribed[] = [];
  const answered: (Followed | undefined)[] = [];
  try {
    await eachAtMost(rooms, ROOMS_AT_ONCE, async (room, i) => {
      try {
        if (deps.signal?.aborted) throw new Busy();
        const known = followed.get(room.roomId);
        const result = await followOne(deps, connection, room, known);
        if (result.isNew) {
          used++;
          // A person shown in the room already by another connection of theirs is not told as joining.
          if (!result.present) joined.push({ roomId: room.roomId, username: result.username });
        }
        answered[i] = result.room;
      } catch (thrown) {
        const error = busyFrom(thrown) ?? thrown;
        if (!(error instanceof ChatError)) throw error;
        const { code, message } = toErrorFrame(error, 'subscribe');
        refused.push({ roomId: room.roomId, code, message });
      }
    });
  } finally {
    // Counted rooms that were not followed after all (refused, or followed meanwhile by a join that counted itself).
    await deps.connections.uncountRooms(connectionId, fresh - used);
  }
  // Read once every room's subscription is written: a return told no join is then one the departure step sees back.
  const told = await notReturning(deps, connection.userId, joined);
  const presence = told.map((s) => presenceEvent(s.roomId, 'join', s.username));
  for (let i = 0; i < presence.length; i += 10) await deps.events.publish(presence.slice(i, i + 10));
  const frame: SubscribedFrame = { type: 'subscribed', rooms: [], refused };
  const listed = answered.filter((r): r is Followed => r !== undefined);
  return { ...frame, rooms: await withEvents(deps, connection, frame, listed) };
}

/**
 * One room: admitted (unless followed already), named and followed in one transaction with its gate's check, then
 * read again for its seq now that the subscription is written: a message stored before that read is in `lastSeq`
 * (the client fetches it), one stored after it is fanned out to the new subscription.
 */
async function followOne(
  deps: SubscribeDeps,
  connection: Connection,
  asked: RoomAsked,
  known: string | undefined,
): Promise<{ room: Followed; isNew: boolean; username: string; present: boolean }> {
  const { roomId } = asked;
  const room = known === undefined ? await deps.admit(asked) : await deps.rooms.get(roomId);
  // A room followed already but gone since is refused as a join of it would be; its subscription stays for leaveroom.
  if (!room) throw new RoomNotFound(roomId);
  const end = roomEnd(room, deps.now());
  if (end) throw new RoomClosed(roomId, end);
  // A member banned from the room (moderation/moderation.ts) follows it no more than it joins it.
  if (known === undefined) {
    const key = memberKey(roomId, senderOf(connection));
    if (bannedBy(room, key, await deps.rooms.banOf(roomId, key))) throw new Banned(roomId);
  }
  let username = known;
  let isNew = false;
  let present = false;
  // A room newly followed lists its members, for the name shown there and the count. One followed already lists
  // none: its count is the client's since the first answer (presence keeps it), and reading the room index is one
  // Query per key of the room's level (up to ROOM_INDEX_SHARDS), so a resubscribe that brings nothing new costs one
  // read per room.
  let listed: { count: number; includesConnection: boolean } | undefined;
  if (username === undefined) {
    const members = await deps.connections.listMembers(
      roomId,
      Number.POSITIVE_INFINITY,
      connection.connectionId,
    );
    listed = members;
    const newcomer = await newcomerName(deps, connection, room, members.members);
    const name = newcomer.name;
    present = newcomer.present;
    const keyLevel = await keyLevelToWrite(deps, room, members.count + (members.includesConnection ? 0 : 1));
    const outcome = await follow(deps, connection, room, name, keyLevel);
    isNew = outcome === 'followed';
    username = isNew
      ? name
      : ((await deps.connections.subscription(connection.connectionId, roomId))?.username ?? name);
  }
  // A room not followed before is read again for its seq now that the subscription is written (above). One followed
  // already needs no second read: its messages since the first were fanned out to it.
  const settled = known === undefined ? await deps.rooms.get(roomId) : undefined;
  const lastSeq = Math.max(settled?.seq ?? 0, room.seq);
  const dm = peerOf(room, memberKeyOf(connection));
  if (isNew && !room.dmMembers) await deps.remember?.({ roomId, inviteKey: room.inviteKey, lastSeq });
  return {
    isNew,
    username,
    present,
    room: {
      roomId,
      lastSeq,
      ...(listed && { memberCount: listed.count + (listed.includesConnection ? 0 : 1) }),
      memberKey: memberKey(roomId, senderOf(connection)),
      ...(dm && { dm }),
      ...(asked.afterSeq !== undefined && { afterSeq: asked.afterSeq }),
    },
  };
}

/** The room's transaction, tried again while another transaction holds one of its items. */
async function follow(
  deps: SubscribeDeps,
  connection: Connection,
  room: Room,
  username: string,
  keyLevel: number,
): Promise<'followed' | 'followedAlready'> {
  for (let tries = 1; tries <= FOLLOW_TRIES; tries++) {
    const now = deps.now();
    const outcome = await deps.entry.follow({
      connectionId: connection.connectionId,
      roomId: room.roomId,
      username,
      userId: connection.userId,
      connectedAt: connection.connectedAt,
      inviteKey: room.inviteKey,
      at: now.toISOString(),
      nowSeconds: epochSeconds(now),
      keyLevel,
    });
    if (outcome === 'followed' || outcome === 'followedAlready') return outcome;
    if (outcome === 'keyChanged') {
      // A key rotation, a removal or a close committed after the admission: refused as the join would be now.
      const end = roomEnd((await deps.rooms.get(room.roomId)) ?? room, now);
      throw end ? new RoomClosed(room.roomId, end) : new RoomNotFound(room.roomId);
    }
    await new Promise((resolve) => setTimeout(resolve, followPause(tries)));
  }
  throw new Busy();
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * Each room's events after the `afterSeq` it was asked with, oldest first, as many as fit one reply: the rooms share
 * LIMITS.replyMaxBytes in the order they were asked, and a room cut short (or reached with the budget spent) says
 * `hasMore`, for `history` to fetch the rest. A room is read only while budget is left, at most historyDefault
 * events (one more tells whether it goes on).
 */
async function withEvents(
  deps: SubscribeDeps,
  connection: Connection,
  frame: SubscribedFrame,
  rooms: Followed[],
): Promise<SubscribedRoom[]> {
  const answered: SubscribedRoom[] = rooms.map(({ afterSeq: _after, ...room }) => ({
    ...room,
    events: [],
    hasMore: false,
  }));
  let budget = LIMITS.replyMaxBytes - utf8(JSON.stringify({ ...frame, rooms: answered }));
  const nowSeconds = epochSeconds(deps.now());
  for (let start = 0; start < rooms.length; start += ROOMS_AT_ONCE) {
    const batch = rooms.slice(start, start + ROOMS_AT_ONCE);
    // Read only while budget is left: a room reached with none says hasMore from its seq alone.
    const behind = batch.map((r) => r.afterSeq !== undefined && r.lastSeq > r.afterSeq);
    const reading = behind.map((b) => b && budget > 0);
    const read = await Promise.all(
      batch.map(async (r, j) => {
        if (!reading[j]) return { length: 0, frames: [] };
        const page = await deps.messages.after(
          r.roomId,
          r.afterSeq as number,
          LIMITS.historyDefault + 1,
          nowSeconds,
        );
        const quoted = await withQuotes(deps.messages, r.roomId, page, nowSeconds);
        return {
          length: quoted.length,
          frames: await framesFor(
            deps.messages,
            { ...connection, roomId: r.roomId },
            quoted.slice(0, LIMITS.historyDefault),
          ),
        };
      }),
    );
    batch.forEach((_room, j) => {
      const target = answered[start + j] as SubscribedRoom;
      const page = read[j] ?? { length: 0, frames: [] };
      const events: RoomEventFrame[] = [];
      for (const event of page.frames) {
        const bytes = utf8(JSON.stringify(event)) + (events.length > 0 ? 1 : 0);
        if (bytes > budget) break;
        budget -= bytes;
        events.push(event);
      }
      target.events = events;
      // More after the last event given: left out for the budget, beyond the page read, or not read at all.
      target.hasMore = reading[j] ? events.length < page.length : (behind[j] ?? false);
    });
  }
  return answered;
}

/**
 * Runs `work` on every item, at most `limit` at a time. A failure stops no running item: every worker ends first (so
 * the caller's count of what was followed is final), then the first failure is thrown.
 */
async function eachAtMost<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  const ended = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failed = ended.find((e): e is PromiseRejectedResult => e.status === 'rejected');
  if (failed) throw failed.reason;
}
