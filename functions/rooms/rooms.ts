import { randomInt } from 'node:crypto';
import { NotSubscribed, UnknownConnection } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { presenceEvent } from '#core/identity/presence';
import { moderationOf } from '#core/moderation';
import type { ChatEvent, ChatPorts, Connection, Member } from '#core/ports';
import {
  type ChatMessage,
  type HistoryFrame,
  type HistoryQuery,
  type JoinedFrame,
  LIMITS,
  LOBBY,
  REPLY_QUOTE_CHARS,
  ROOM_CODE_ALPHABET,
  ROOM_CODE_LENGTH,
} from '#core/protocol';
import { epochSeconds, roomTtl } from '#core/roomLife';
import { isStoredChange, memberKey, roomFrameOf, type StoredMessage, senderOf } from '#messages/changeFrames';
import type { MessagePorts, MessageStore } from '#messages/ports';
import type { AuthorProfile } from '#protocol';
import { fitMessages } from './pages';

/**
 * A room's stored events as `member` sees them: messages in their final state, with their reactions (read for the
 * messages that have some: two small items each, in one BatchGetItem per 50) and the ones it gave marked (`mine`),
 * and the changes.
 */
export async function framesFor(
  messages: Pick<MessageStore, 'reactions'>,
  member: Connection,
  events: ChatMessage[],
) {
  const viewer = memberKey(member.roomId, senderOf(member));
  const reacted = events
    .filter((event) => !isStoredChange(event) && (event as StoredMessage).reacted === true && !event.deleted)
    .map((event) => event.seq);
  const states = reacted.length > 0 ? await messages.reactions(member.roomId, reacted, viewer) : undefined;
  return events.map((event) => {
    const reactionState = states?.get(event.seq);
    return roomFrameOf(reactionState ? ({ ...event, reactionState } as StoredMessage) : event);
  });
}

/** Rooms: creating one, moving a connection between rooms, and what a room holds (members, history). */

const ROOM_CODE_ATTEMPTS = 5;

export function newRoomCode(): string {
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
 * The member list of a frame: one entry per member, up to the cap, each under the name it shows in the room (two
 * members never collapse into one entry), the asking connection included even when the eventually consistent room
 * index does not have it yet.
 */
export function memberList(
  listed: { members: Member[]; count: number; includesConnection: boolean },
  self?: Connection,
): { members: string[]; memberCount: number } {
  const others = listed.members.filter((m) => m.connectionId !== self?.connectionId).map((m) => m.username);
  const missingSelf = self !== undefined && !listed.includesConnection;
  const members = self ? [self.username, ...others] : others;
  return {
    members: members.slice(0, LIMITS.membersListed),
    memberCount: listed.count + (missingSelf ? 1 : 0),
  };
}

async function membersOf(deps: Pick<ChatPorts, 'connections'>, roomId: string, self?: Connection) {
  const listed = await deps.connections.listMembers(roomId, LIMITS.membersListed, self?.connectionId);
  return memberList(listed, self);
}

/**
 * Creates a room owned by its creator (its `userId`: the signed-in user, or the connection itself without sign-in)
 * that ends `roomIdleDays` after its last message, and moves the creator into it.
 */
export async function createRoom(
  deps: Pick<ChatPorts, 'connections' | 'rooms' | 'events' | 'now'> & { roomIdleDays: number },
  connectionId: string,
): Promise<JoinedFrame> {
  const connection = await requireConnection(deps, connectionId);
  // A new room has no other member: its creator shows the name it chose.
  const username = connection.chosenName ?? connection.username;
  const now = deps.now();
  const createdAt = now.toISOString();
  const ttl = roomTtl(now, deps.roomIdleDays);
  for (let attempt = 0; attempt < ROOM_CODE_ATTEMPTS; attempt++) {
    const roomId = newRoomCode();
    const room = { roomId, createdAt, createdBy: username, seq: 0, ttl, ownerId: connection.userId };
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
        // Its creator owns it (moderation.ts): the page offers it the owner's moderation.
        role: 'owner',
      };
    }
  }
  throw new Error(`no free room code after ${ROOM_CODE_ATTEMPTS} attempts`);
}

export async function leaveRoom(
  deps: Pick<ChatPorts, 'connections' | 'events' | 'now'>,
  connectionId: string,
  roomId?: string,
): Promise<{ type: 'left'; roomId: string }> {
  if (roomId !== undefined && roomId !== LOBBY) {
    const connection = await requireConnection(deps, connectionId);
    // A room followed but not shown: only its subscription ends, the shown room stays as it is.
    if (connection.roomId !== roomId) {
      const gone = await deps.connections.unsubscribe(connectionId, roomId);
      if (!gone) throw new NotSubscribed(roomId);
      await deps.events.publish([presenceEvent(roomId, 'leave', gone.username)]);
      return { type: 'left', roomId };
    }
  }
  const before = await moveTo(deps, connectionId, LOBBY);
  return { type: 'left', roomId: before.roomId };
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

/**
 * A page of the room's messages in seq order: the latest `limit`, or the first `limit` after `afterSeq`, as many as
 * fit one reply (pages.ts); `hasMore` when the room has messages after the page's last one. Messages past their
 * TTL are left out, deleted or not.
 */
export async function history(
  deps: Pick<MessagePorts, 'connections' | 'messages' | 'now'> & {
    /** The profiles of the page's signed-in authors (people/profiles.ts authorProfiles); absent: none given. */
    authorProfiles?: (page: StoredMessage[]) => Promise<AuthorProfile[]>;
  },
  connectionId: string,
  query: HistoryQuery,
  options: LobbyOption = {},
): Promise<HistoryFrame> {
  const connection = await requireConnection(deps, connectionId);
  const { roomId } = connection;
  if (options.noLobby && roomId === LOBBY) return { type: 'history', roomId, messages: [], hasMore: false };
  const now = epochSeconds(deps.now());
  let messages: ChatMessage[];
  let beyondLimit = false;
  let hasOlder: boolean | undefined;
  if (query.afterSeq === undefined) {
    // Backwards (the latest page, or one before `beforeSeq`): one more than asked tells whether older ones are kept.
    messages =
      query.beforeSeq === undefined
        ? await deps.messages.latest(roomId, query.limit + 1, now)
        : await deps.messages.before(roomId, query.beforeSeq, query.limit + 1, now);
    hasOlder = messages.length > query.limit;
    messages = messages.slice(-query.limit);
  } else {
    // One more than asked tells whether the room goes on after the page.
    messages = await deps.messages.after(roomId, query.afterSeq, query.limit + 1, now);
    beyondLimit = messages.length > query.limit;
    messages = messages.slice(0, query.limit);
  }
  messages = await withQuotes(deps.messages, roomId, messages, now);
  const profiles = deps.authorProfiles
    ? await deps.authorProfiles(messages.filter((m) => !isStoredChange(m)) as StoredMessage[])
    : [];
  // Sized with `hasMore: false`, the longer of its two values, and with the authors' profiles.
  const frame = { type: 'history' as const, roomId, messages: [], hasMore: false };
  const { page, cut } = fitMessages(
    { ...frame, profiles },
    'messages',
    await framesFor(deps.messages, connection, messages),
  );
  // Only the authors of the messages kept.
  const shown = new Set(page.map((m) => ('username' in m ? m.username : undefined)));
  const pageProfiles = profiles.filter((p) => shown.has(p.username));
  return {
    ...frame,
    ...(pageProfiles.length > 0 && { profiles: pageProfiles }),
    messages: page,
    hasMore: cut || beyondLimit,
    ...(hasOlder !== undefined && { hasOlder }),
  };
}

/**
 * The page's replies with how their originals read now (ReplyRef): the start of the text, or `deleted`, taken from
 * the page itself or read in one BatchGetItem for originals before it; an expired original gets neither.
 */
export async function withQuotes(
  messages: MessageStore,
  roomId: string,
  page: ChatMessage[],
  nowSeconds: number,
): Promise<ChatMessage[]> {
  const replies = page.filter((m) => m.replyTo !== undefined);
  if (replies.length === 0) return page;
  const inPage = new Map(page.filter((m) => !isStoredChange(m)).map((m) => [m.seq, m]));
  const elsewhere = [...new Set(replies.map((m) => m.replyTo?.seq as number))].filter(
    (seq) => !inPage.has(seq),
  );
  const read = await messages.quoted(roomId, elsewhere, nowSeconds);
  const now = (seq: number) => {
    const original = inPage.get(seq);
    return original ? { text: original.text, deleted: original.deleted !== undefined } : read.get(seq);
  };
  return page.map((m) => {
    if (!m.replyTo) return m;
    const { seq, username } = m.replyTo;
    const original = now(seq);
    const quote = !original
      ? {}
      : original.deleted
        ? { deleted: true }
        : { text: [...original.text].slice(0, REPLY_QUOTE_CHARS).join('') };
    return { ...m, replyTo: { seq, username, ...quote } };
  });
}

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
