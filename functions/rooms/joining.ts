import { keyLevelFor, roomKeyLevel } from '#core/aws/roomMembers';
import { Banned, Busy, RoomClosed, RoomNotFound, TooManyRooms } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { type DepartureRecords, notReturning } from '#core/identity/departure';
import { memberKey, memberKeyOf, senderOf } from '#core/memberKeys';
import { bannedBy } from '#core/moderation';
import { fitMessages } from '#core/pages';
import type { ChatPorts, Connection, Member, Room, RoomStore } from '#core/ports';
import { type JoinedFrame, LIMITS, LOBBY } from '#core/protocol';
import { epochSeconds, roomEnd } from '#core/roomLife';
import { roomInfoOf } from '#directory/directory';
import { isStoredChange, type StoredMessage } from '#messages/changeFrames';
import type { MessagePorts } from '#messages/ports';
import { framesFor, withQuotes } from '#messages/roomHistory';
import { moderationShown } from '#moderation/moderation';
import { logger } from '#platform/powertools';
import type { AuthorProfile } from '#protocol';
import { baseName, confusable, disambiguate } from './names';
import type { RoomEntry } from './ports';
import { announceMove, type LobbyOption, memberList, moveTo } from './rooms';

/**
 * Joining a room, and the name a member shows there. Apart from rooms.ts so that only the joinroom function loads
 * the confusables data (names.ts).
 */

/** At most this many members whose names clash with the joiner's are read to find its other connections. */
const SAME_MEMBER_READS = 5;

/**
 * The joiner's other connections the room index lists (a second tab of the same signed-in user; or, without sign-in,
 * the same resume token: the client reconnected before its old connection's $disconnect, which a lost network delays
 * up to the gateway's 10-minute idle timeout), and the name they show in the room: it is the same member
 * (memberKeyOf), so it shows the same name, and the room already shows it present (`present`: no join to tell). A
 * listed connection that is gone ($disconnect ran after the listing was read, or the index lags) is the joiner's own
 * when the joiner's departure names the room under that name (departure.ts): a return keeps the name it showed, or it
 * would show "alice (2)", escape a removal of "alice", and the departure would tell "alice" left. Only members whose
 * names clash with the joiner's chosen one are read (the room index holds names, not ids), so a join without a clash
 * costs no read, and the departure is read only when a clashing connection is gone.
 */
async function sameMember(
  deps: SameMemberDeps,
  joiner: Connection,
  roomId: string,
  others: Member[],
): Promise<{ name?: string; present: boolean; connections: Set<string> }> {
  // Without sign-in or a resume token every connection is a member of its own.
  const member = memberKeyOf(joiner);
  if (member === `connection:${joiner.connectionId}`) return { present: false, connections: new Set() };
  const chosen = joiner.chosenName ?? joiner.username;
  const clashing = others
    .filter((m) => m.username === chosen || confusable(chosen, baseName(m.username)))
    .slice(0, SAME_MEMBER_READS);
  const found = await Promise.all(clashing.map((m) => deps.connections.get(m.connectionId)));
  const live = clashing.filter((_, i) => {
    const c = found[i];
    return c !== undefined && memberKeyOf(c) === member;
  });
  const gone = clashing.filter((_, i) => found[i] === undefined);
  // The gone ones the joiner's departure names here are its own (notReturning leaves them out of what it returns).
  const away =
    gone.length > 0
      ? await notReturning(
          deps,
          joiner.userId,
          gone.map((m) => ({ roomId, username: m.username })),
        )
      : [];
  const returned = gone.filter((m) => !away.some((s) => s.username === m.username));
  return {
    name: live[0]?.username ?? returned[0]?.username,
    present: live.length > 0,
    connections: new Set([...live, ...returned].map((m) => m.connectionId)),
  };
}

type SameMemberDeps = Pick<ChatPorts, 'connections' | 'now'> & {
  departures?: Pick<DepartureRecords, 'latest'>;
};

/**
 * Tries of one entry: a connection moved meanwhile (its own leave or join) or a transaction conflict. A join's
 * transaction checks one of the room's gates (core/aws/rooms.ts), and DynamoDB cancels one of two that meet on it, so
 * a class joining at once still conflicts now and then: full-jitter pauses up to 40, 80 … 1,000 ms spread them (about
 * 3 s at most).
 */
const ENTRY_TRIES = 8;
const entryPause = (tries: number) => Math.random() * Math.min(1000, 20 * 2 ** tries);

type JoinDeps = Pick<MessagePorts, 'connections' | 'rooms' | 'messages' | 'events' | 'now'> & {
  /** The profiles of the backlog's signed-in authors (core/profiles.ts); absent: none given. */
  authorProfiles?: (page: StoredMessage[]) => Promise<AuthorProfile[]>;
  entry: Pick<RoomEntry, 'enter'>;
  /** The signed-in user's latest departure: a join of a room it names under the same name is a return, told no join. */
  departures?: Pick<DepartureRecords, 'latest'>;
};

/**
 * The name a newcomer to `room` shows there: the one another connection of the same member shows there, else its
 * chosen name, numbered past every name the room's other members (`listed`: all of them) show or could be confused
 * with, and past the names the owner removed. `present`: another live connection of the same member shows that name
 * in the room already, so the room hears no join (presence is a person's, not a connection's). Shared by a join and a
 * `subscribe` (functions/rooms/subscribing.ts).
 */
export async function newcomerName(
  deps: SameMemberDeps,
  current: Connection,
  room: Room,
  listed: readonly Member[],
): Promise<{ name: string; present: boolean }> {
  const others = listed.filter((m) => m.connectionId !== current.connectionId);
  const same = await sameMember(deps, current, room.roomId, others);
  const taken = others.filter((m) => !same.connections.has(m.connectionId)).map((m) => m.username);
  // A name the owner removed stays taken: no newcomer shows it (the fan-out's Query leaves it out, deliver/prepare.ts).
  return {
    name:
      same.name ??
      disambiguate(current.chosenName ?? current.username, [...taken, ...(room.removedNames ?? [])]),
    present: same.present,
  };
}

/**
 * The key level a subscription to `room` is written at (core/aws/roomMembers.ts): the room's, raised first when the
 * room, with its newcomer (`members` in all), has outgrown it, so the subscription's key is one the fan-out Queries
 * from the moment it is written. The raise happens before the write and the room's seq is read after it (joinRoom,
 * followOne): the fan-out reads a message's level with its seq (deliver/roomLog.ts), so it Queries this key for every
 * message the member is owed. A join that read a lower level while another raised it writes under a key below that
 * lower level, which the higher one covers. A raise that fails leaves the room's level (the room only holds more per
 * key) and the join goes on.
 */
export async function keyLevelToWrite(
  deps: { rooms: Pick<RoomStore, 'raiseKeyLevel'> },
  room: Room,
  members: number,
): Promise<number> {
  const level = roomKeyLevel(room.roomId, room.keyLevel);
  const wanted = keyLevelFor(members);
  if (wanted <= level) return level;
  try {
    await deps.rooms.raiseKeyLevel(room.roomId, wanted);
    return wanted;
  } catch (error) {
    logger.warn("a join could not raise its room's key level", { roomId: room.roomId, wanted, error });
    return level;
  }
}

/**
 * Moves the joiner into a room only while the room still has the key it had when the join read it (RoomEntry; the
 * read admitJoin checked the joiner's key against): once an owner's key rotation or removal has committed, a join
 * admitted before it fails (RoomNotFound, as a wrong key; or RoomClosed), so no one it removed is in the room when
 * the new key goes out. Returns the connection as it was.
 */
async function enter(
  deps: JoinDeps,
  joiner: Connection,
  room: Room,
  username: string,
  followed: boolean,
  members: number,
): Promise<Connection> {
  let current = joiner;
  const keyLevel = await keyLevelToWrite(deps, room, members);
  for (let tries = 1; tries <= ENTRY_TRIES; tries++) {
    const now = deps.now();
    const outcome = await deps.entry.enter({
      connectionId: current.connectionId,
      from: current.roomId,
      roomId: room.roomId,
      username,
      userId: current.userId,
      connectedAt: current.connectedAt,
      inviteKey: room.inviteKey,
      at: now.toISOString(),
      nowSeconds: epochSeconds(now),
      keyLevel,
    });
    if (outcome === 'entered') {
      // A reconnect's resume shows its room with a join: within the departure's window that is a return (departure.ts).
      const tells = !followed && room.roomId !== current.roomId && room.roomId !== LOBBY;
      const returning =
        tells && (await notReturning(deps, current.userId, [{ roomId: room.roomId, username }])).length === 0;
      await announceMove(deps, current, room.roomId, username, { followed: followed || returning });
      return current;
    }
    if (outcome === 'tooManyRooms') throw new TooManyRooms(LIMITS.subscriptionsMax);
    if (outcome === 'keyChanged') {
      const end = roomEnd((await deps.rooms.get(room.roomId)) ?? room, now);
      throw end ? new RoomClosed(room.roomId, end) : new RoomNotFound(room.roomId);
    }
    if (outcome === 'connectionMoved') {
      current = await requireConnection(deps, current.connectionId);
      // Another join of this connection put it in the room: the room has it already.
      if (current.roomId === room.roomId) return current;
    } else await new Promise((resolve) => setTimeout(resolve, entryPause(tries)));
  }
  throw new Busy();
}

/**
 * Moves a connection into a room under a name no other member there shows or could be confused with (names.ts),
 * chosen from every member of the room, not only the listed ones; another connection of the same member (same
 * userId) shares its name. The lobby, which everyone is in, is not disambiguated: there a member shows its chosen
 * name.
 */
export async function joinRoom(
  deps: JoinDeps,
  connectionId: string,
  roomId: string,
  options: Pick<LobbyOption, 'lobbyUnlisted'> = {},
): Promise<JoinedFrame> {
  // The lobby always exists; its Rooms row only appears with its first message.
  const room = await deps.rooms.get(roomId);
  if (!room && roomId !== LOBBY) throw new RoomNotFound(roomId);
  const { current, followed, listed, history, pins, ban, gapsRead } = await readForJoin(
    deps,
    connectionId,
    roomId,
    options,
  );
  // A member banned from the room (moderation/moderation.ts) is refused, whatever key it came with: by its identity
  // in the room.
  const key = memberKey(roomId, senderOf(current));
  if (room && roomId !== LOBBY && bannedBy(room, key, ban)) throw new Banned(roomId);
  const chosen = current.chosenName ?? current.username;
  let username: string | undefined;
  let present = false;
  if (roomId === LOBBY || !room) username = undefined;
  else if (current.roomId === roomId) username = current.username;
  else if (followed) username = followed.username;
  else ({ name: username, present } = await newcomerName(deps, current, room, listed.members));
  const before =
    // A connection already in the room enters again too: the owner may be moving it out at this moment.
    room && username !== undefined
      ? await enter(
          deps,
          current,
          room,
          username,
          followed !== undefined || present,
          listed.count + (listed.includesConnection ? 0 : 1),
        )
      : await moveTo(deps, connectionId, roomId, username);
  // The room's seq is read again now that the joiner is in the room index: a message stored between the first read
  // and the move may have been fanned out before the move, so without this it would be neither in `lastSeq` (which
  // tells the client to fetch it) nor delivered. A message stored after this read is fanned out after the move.
  const settled = await deps.rooms.get(roomId);
  const self = { ...before, roomId, username: username ?? chosen };
  const { members, memberCount } = memberList(listed, self);
  const lastSeq = Math.max(settled?.seq ?? 0, room?.seq ?? 0, history.at(-1)?.seq ?? 0);
  // The backlog as it fits one reply (pages.ts), oldest first: the client fetches the rest after its last seq.
  const frame: JoinedFrame = {
    type: 'joined',
    roomId,
    members,
    memberCount,
    history: [],
    hasMore: false,
    lastSeq,
    memberKey: key,
    ...(pins && { pins }),
    // The room's name, topic and visibility as the join read it (functions/directory/); a DM is named after its peer.
    ...(!settled?.dmMembers && roomInfoOf(settled ?? room)),
    ...(roomId !== LOBBY &&
      room &&
      moderationShown(settled ?? room, { userId: current.userId, key }, epochSeconds(deps.now()))),
  };
  return withBacklog(deps, frame, { ...current, roomId }, history, gapsRead);
}

/**
 * What a join reads at once: the connection, the room followed already (shown before, or subscribed), the room's
 * members, its latest messages, its pins and the joiner's ban item.
 */
async function readForJoin(
  deps: JoinDeps,
  connectionId: string,
  roomId: string,
  options: Pick<LobbyOption, 'lobbyUnlisted'>,
) {
  const connection = requireConnection(deps, connectionId);
  // The seqs given up that the backlog's read passed (gap markers), told with it.
  const gapsRead: number[] = [];
  const [current, followed, listed, history, pins, ban] = await Promise.all([
    connection,
    // A room followed already (shown before, or subscribed) keeps the name it shows there.
    roomId === LOBBY ? undefined : deps.connections.subscription(connectionId, roomId),
    // Every member of a room, for the names; the frame lists at most LIMITS.membersListed of them. An unlisted
    // lobby lists its joiner alone (memberList adds it).
    roomId === LOBBY && options.lobbyUnlisted
      ? { members: [], count: 0, includesConnection: false }
      : deps.connections.listMembers(
          roomId,
          roomId === LOBBY ? LIMITS.membersListed : Number.POSITIVE_INFINITY,
          connectionId,
        ),
    deps.messages
      .latest(roomId, LIMITS.historyDefault, epochSeconds(deps.now()), gapsRead)
      .then((page) => withQuotes(deps.messages, roomId, page, epochSeconds(deps.now()))),
    // The room's pins (at most CHANGE_LIMITS.pinsPerRoom, ~5 KB); the lobby has none.
    roomId === LOBBY ? undefined : deps.messages.pins(roomId),
    // The joiner's ban item (core/moderation.ts), read beside the rest once its connection gives its key.
    roomId === LOBBY
      ? undefined
      : connection.then((c) => deps.rooms.banOf(roomId, memberKey(roomId, senderOf(c)))),
  ]);
  return { current, followed, listed, history, pins, ban, gapsRead };
}

/**
 * The joined frame with the backlog as it fits one reply (pages.ts), oldest first: the client fetches the rest after
 * its last seq. The backlog's authors' profiles are sized with the frame (at most DIRECTORY_LIMITS.historyProfileBytes)
 * and only those of the page's authors are sent.
 */
async function withBacklog(
  deps: JoinDeps,
  frame: JoinedFrame,
  reader: Connection,
  history: Awaited<ReturnType<typeof readForJoin>>['history'],
  gapsRead: readonly number[],
): Promise<JoinedFrame> {
  const profiles = deps.authorProfiles
    ? await deps.authorProfiles(history.filter((m) => !isStoredChange(m)) as StoredMessage[])
    : [];
  // Sized with every gap up to `lastSeq`, the longest list the frame can carry.
  const gapsAll = joinedGaps(gapsRead, history[0]?.seq ?? 0, frame.lastSeq);
  const { page, cut } = fitMessages(
    { ...frame, profiles, gaps: gapsAll },
    'history',
    await framesFor(deps.messages, reader, history),
  );
  const shown = new Set(page.map((m) => ('username' in m ? m.username : undefined)));
  const pageProfiles = profiles.filter((p) => shown.has(p.username));
  // A gap above a cut backlog's last event comes with the `history` page the joiner reads next.
  const lastKept = page.at(-1)?.seq ?? 0;
  const gaps = cut ? gapsAll.filter((seq) => seq < lastKept) : gapsAll;
  return {
    ...frame,
    ...(pageProfiles.length > 0 && { profiles: pageProfiles }),
    history: page,
    ...(gaps.length > 0 && { gaps }),
    hasMore: cut,
  };
}

/**
 * The gaps the backlog's read passed above its first event up to `lastSeq`, ascending, at most JOINED_GAPS: few, as a
 * seq is given up only by a refused or fenced send.
 */
function joinedGaps(read: readonly number[], first: number, lastSeq: number): number[] {
  return [...new Set(read)]
    .filter((seq) => seq > first && seq <= lastSeq)
    .sort((a, b) => a - b)
    .slice(0, JOINED_GAPS);
}

/** Gaps a joined frame lists at most (~1.7 KB of its 120 KB): past them a joiner reads history as for any hole. */
const JOINED_GAPS = 100;
