import { BadRequest, Forbidden, RoomClosed, RoomNotFound } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { memberKey, senderOf } from '#core/memberKeys';
import { MUTED_FOREVER, moderationOf, type RoomModeration, roleIn, untilText } from '#core/moderation';
import type { ChatPorts, Connection, ModerationChange, Room } from '#core/ports';
import { LOBBY } from '#core/protocol';
import { roomFrameEvent } from '#core/roomFrames';
import { epochSeconds, roomEnd } from '#core/roomLife';
import { MODERATION_LIMITS, type Role, type RoleChangedFrame } from '#protocol';
import { auditRow, type OwnerDeps, removeMember, tell } from './owners';

/**
 * Moderation (core/moderation.ts holds the state on the room's item): the owner makes members moderators and back
 * and sets slow mode; the owner and moderators mute, unmute, ban and unban members (never the owner or a moderator).
 * Each action is one conditional write to the room's item that holds only for a caller with the role (so a refused
 * caller changes nothing), then tells the room through its fan-out (setrole, slowmode, a ban's new key) or posts to the
 * target's own connections (mute, unmute, a ban's `removed`), and puts a row on record (the audit, in the
 * Sessions table). A target is named as the member list shows it and found among the room's listed connections; its
 * identity is its key in the room (memberKey), the one its messages carry: the signed-in user in the token modes,
 * else the client's resume token, else the connection.
 */

export type ModerationDeps = OwnerDeps & Pick<ChatPorts, 'events'>;

/** The caller in its room, with its key there and its role. */
interface Caller {
  connection: Connection;
  roomId: string;
  key: string;
  role: Role;
  room: Room;
}

async function callerIn(deps: ModerationDeps, connectionId: string, verb: string): Promise<Caller> {
  const connection = await requireConnection(deps, connectionId);
  const { roomId } = connection;
  if (roomId === LOBBY) throw new Forbidden(`The lobby has no moderators: nobody can ${verb} there.`);
  const room = await deps.rooms.get(roomId);
  if (!room) throw new RoomNotFound(roomId);
  const end = roomEnd(room, deps.now());
  if (end) throw new RoomClosed(roomId, end);
  const key = memberKey(roomId, senderOf(connection));
  return { connection, roomId, key, role: roleIn(room, { userId: connection.userId, key }), room };
}

function requireRole(caller: Caller, roles: Role[], verb: string): void {
  if (roles.includes(caller.role)) return;
  throw new Forbidden(
    roles.includes('moderator')
      ? `Only the owner or a moderator of room ${caller.roomId} can ${verb}.`
      : `Only the member who created room ${caller.roomId} can ${verb}.`,
  );
}

/** The `username` of a moderation action: a name as the member list shows it. */
export function parseTarget(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || [...value].length > 48)
    throw new BadRequest('"username" must be the name of a member as the member list shows it.');
  return value;
}

/** A member named as the list shows it: its connections in the room, its key there and its user id. */
interface Target {
  name: string;
  key: string;
  userId?: string;
  connectionIds: string[];
}

async function listedTarget(
  deps: ModerationDeps,
  caller: Caller,
  name: string,
  verb: string,
): Promise<Target> {
  if (name === caller.connection.username) throw new BadRequest(`You cannot ${verb} yourself.`);
  const named = (await deps.connections.membersNamed(caller.roomId, name)).filter(
    (m) => m.connectionId !== caller.connection.connectionId,
  );
  const first = named[0] === undefined ? undefined : await deps.connections.get(named[0].connectionId);
  if (!first)
    throw new BadRequest(`Nobody in room ${caller.roomId} shows the name "${name}": check the member list.`);
  return {
    name,
    key: memberKey(caller.roomId, senderOf(first)),
    userId: first.userId,
    connectionIds: named.map((m) => m.connectionId),
  };
}

/** The write, or why it was refused: one more read, on the refusal path only. */
async function moderate(
  deps: ModerationDeps,
  caller: Caller,
  change: ModerationChange,
  moderatorsToo: boolean,
  verb: string,
): Promise<Room> {
  const now = deps.now();
  const changed = await deps.rooms.moderate(
    caller.roomId,
    {
      userId: caller.connection.userId,
      key: caller.key,
      moderator: moderatorsToo,
      roomCreatedAt: caller.room.createdAt,
    },
    epochSeconds(now),
    change,
  );
  if (changed) return changed;
  const room = await deps.rooms.get(caller.roomId);
  if (!room) throw new RoomNotFound(caller.roomId);
  const end = roomEnd(room, now);
  if (end) throw new RoomClosed(caller.roomId, end);
  if (
    'key' in change &&
    roleIn(room, { userId: (change as { userId?: string }).userId, key: change.key }) !== 'member'
  )
    throw new Forbidden(
      `You cannot ${verb} the owner or a moderator: the owner makes a moderator a member first.`,
    );
  throw new Forbidden(`Your role in room ${caller.roomId} does not let you ${verb} any more.`);
}

const record = (
  deps: ModerationDeps,
  caller: Caller,
  action: string,
  more: { target?: string; detail?: string },
) =>
  deps.audit?.(
    auditRow(caller.connection, caller.roomId, action, deps.now().toISOString(), {
      ...more,
      actorRole: caller.role,
    }),
  );

/** setrole: the owner makes a member a moderator, or a moderator a member; every member is told. */
export async function setRole(deps: ModerationDeps, connectionId: string, name: string, role: unknown) {
  if (role !== 'moderator' && role !== 'member')
    throw new BadRequest('"role" must be "moderator" or "member".');
  const caller = await callerIn(deps, connectionId, 'change roles');
  requireRole(caller, ['owner'], 'change roles');
  const target = await listedTarget(deps, caller, name, 'change the role of');
  const { moderators } = moderationOf(caller.room);
  if (
    role === 'moderator' &&
    !moderators.has(target.key) &&
    moderators.size >= MODERATION_LIMITS.moderatorsPerRoom
  )
    throw new BadRequest(
      `Room ${caller.roomId} has ${MODERATION_LIMITS.moderatorsPerRoom} moderators, the most a room may: make one a member first.`,
    );
  await moderate(
    deps,
    caller,
    { kind: 'role', key: target.key, userId: target.userId, name, role },
    false,
    'change roles of',
  );
  const frame: RoleChangedFrame = { type: 'rolechanged', roomId: caller.roomId, username: name, role };
  // Every member hears it through the room's fan-out, not a post per member from here (core/roomFrames.ts).
  await deps.events.publish([roomFrameEvent(caller.roomId, frame)]);
  await record(deps, caller, 'setrole', { target: name, detail: role });
  return frame;
}

/** mute: for `minutes`, or until unmuted when absent; the member's connections are told. */
export async function mute(deps: ModerationDeps, connectionId: string, name: string, minutes: unknown) {
  if (
    minutes !== undefined &&
    (!Number.isInteger(minutes) ||
      (minutes as number) < 1 ||
      (minutes as number) > MODERATION_LIMITS.muteMaxMinutes)
  )
    throw new BadRequest(
      `"minutes" must be a whole number from 1 to ${MODERATION_LIMITS.muteMaxMinutes}, or absent (until unmuted).`,
    );
  const caller = await callerIn(deps, connectionId, 'mute members');
  requireRole(caller, ['owner', 'moderator'], 'mute members');
  const target = await listedTarget(deps, caller, name, 'mute');
  const nowSeconds = epochSeconds(deps.now());
  const { muted } = moderationOf(caller.room);
  const expired = [...muted].filter(([, entry]) => Number(entry.until) <= nowSeconds).map(([key]) => key);
  if (!muted.has(target.key) && muted.size - expired.length >= MODERATION_LIMITS.mutedPerRoom)
    throw new BadRequest(
      `Room ${caller.roomId} has ${MODERATION_LIMITS.mutedPerRoom} members muted, the most a room may: unmute one first.`,
    );
  const until = minutes === undefined ? MUTED_FOREVER : nowSeconds + (minutes as number) * 60;
  await moderate(
    deps,
    caller,
    { kind: 'mute', key: target.key, userId: target.userId, name, until, expired },
    true,
    'mute',
  );
  const shown = untilText(until);
  const frame = {
    type: 'muted' as const,
    roomId: caller.roomId,
    username: name,
    ...(shown && { until: shown }),
  };
  await tell(deps, target.connectionIds, frame);
  await record(deps, caller, 'mute', { target: name, detail: shown ?? 'until unmuted' });
  return frame;
}

/** The key of a member named in the room's entries (a mute's or a ban's name), else among the listed members. */
function keyNamed(entries: Map<string, { name: string }>, name: string): string | undefined {
  for (const [key, entry] of entries) if (entry.name === name) return key;
  return undefined;
}

export async function unmute(deps: ModerationDeps, connectionId: string, name: string) {
  const caller = await callerIn(deps, connectionId, 'unmute members');
  requireRole(caller, ['owner', 'moderator'], 'unmute members');
  const key = keyNamed(moderationOf(caller.room).muted, name);
  if (key === undefined) throw new BadRequest(`Nobody named "${name}" is muted in room ${caller.roomId}.`);
  await moderate(deps, caller, { kind: 'unmute', key }, true, 'unmute');
  const frame = { type: 'unmuted' as const, roomId: caller.roomId, username: name };
  const listed = await deps.connections.membersNamed(caller.roomId, name);
  await tell(
    deps,
    listed.map((m) => m.connectionId),
    frame,
  );
  await record(deps, caller, 'unmute', { target: name });
  return frame;
}

/**
 * ban: the member is removed as `removemember` removes it (moved to the lobby, the invite key rotated, its name
 * refused) and its key in the room is banned in the same transaction (its ban item, core/moderation.ts): a join of
 * the room by that identity is refused BANNED (rooms/joining.ts, core/limits/guard.ts admitJoin), whatever key or
 * name it comes with.
 */
export async function ban(deps: ModerationDeps, connectionId: string, name: string) {
  const caller = await callerIn(deps, connectionId, 'ban members');
  requireRole(caller, ['owner', 'moderator'], 'ban members');
  const target = await listedTarget(deps, caller, name, 'ban');
  // No count of bans here: each is an item of its own, and a ban is a removal, bounded as removals are (owners.ts).
  const at = deps.now().toISOString();
  const removed = await removeMember(deps, connectionId, name, {
    entry: { key: target.key, name, at, userId: target.userId, roomCreatedAt: caller.room.createdAt },
    moderatorKey: caller.key,
  });
  await record(deps, caller, 'ban', { target: name });
  return {
    type: 'banned' as const,
    roomId: removed.roomId,
    username: name,
    removed: removed.removed,
    inviteKey: removed.inviteKey,
  };
}

export async function unban(deps: ModerationDeps, connectionId: string, name: string) {
  const caller = await callerIn(deps, connectionId, 'unban members');
  requireRole(caller, ['owner', 'moderator'], 'unban members');
  // A ban on the room's own item (written before bans had items) first, else the room's ban roster.
  const key =
    keyNamed(moderationOf(caller.room).banned, name) ?? (await deps.rooms.bannedNamed(caller.room, name))[0];
  if (key === undefined) throw new BadRequest(`Nobody named "${name}" is banned from room ${caller.roomId}.`);
  await moderate(
    deps,
    caller,
    { kind: 'unban', key, name, roomCreatedAt: caller.room.createdAt },
    true,
    'unban',
  );
  await record(deps, caller, 'unban', { target: name });
  return { type: 'unbanned' as const, roomId: caller.roomId, username: name };
}

/** slowmode: the owner sets the room's interval; every member is told (the web chat shows it in the composer). */
export async function slowMode(deps: ModerationDeps, connectionId: string, seconds: unknown) {
  if (
    !Number.isInteger(seconds) ||
    (seconds as number) < 0 ||
    (seconds as number) > MODERATION_LIMITS.slowModeMaxSeconds
  )
    throw new BadRequest(
      `"seconds" must be a whole number from 0 (off) to ${MODERATION_LIMITS.slowModeMaxSeconds}.`,
    );
  const caller = await callerIn(deps, connectionId, 'set slow mode');
  requireRole(caller, ['owner'], 'set slow mode');
  await moderate(deps, caller, { kind: 'slowMode', seconds: seconds as number }, false, 'set slow mode in');
  const frame = { type: 'slowmode' as const, roomId: caller.roomId, seconds: seconds as number };
  await deps.events.publish([roomFrameEvent(caller.roomId, frame)]);
  await record(deps, caller, 'slowmode', { detail: String(seconds) });
  return frame;
}

/** A room's word as the deployment's FilterWords takes one: letters, digits, spaces, ' and -. */
const ROOM_WORD = new RegExp(`^[\\p{L}\\p{N}' -]{1,${MODERATION_LIMITS.roomWordMaxChars}}$`, 'u');

/** The `words` of roomwords: trimmed, each once, at most MODERATION_LIMITS.roomWordsMax. */
export function parseRoomWords(value: unknown): string[] {
  const words = Array.isArray(value) ? value.map((w) => (typeof w === 'string' ? w.trim() : w)) : undefined;
  if (!words || words.length > MODERATION_LIMITS.roomWordsMax || words.some((w) => !ROOM_WORD.test(w)))
    throw new BadRequest(
      `"words" must be a list of at most ${MODERATION_LIMITS.roomWordsMax} words of 1-${MODERATION_LIMITS.roomWordMaxChars} letters, digits, spaces, ' or -; [] clears them.`,
    );
  return [...new Set(words as string[])];
}

/**
 * roomwords: the owner sets the room's own filtered words (core/moderation.ts `roomWords`, on the moderation item a
 * send already reads in a moderated room): a message or an edit holding one is refused FILTERED (messages/appending.ts).
 * Told to the owner only: the words are the room's rule, not a list handed to those it filters.
 */
export async function roomWords(deps: ModerationDeps, connectionId: string, words: string[]) {
  const caller = await callerIn(deps, connectionId, "set the room's words");
  requireRole(caller, ['owner'], "set the room's words");
  await moderate(deps, caller, { kind: 'words', words }, false, 'set the words of');
  await record(deps, caller, 'roomwords', { detail: String(words.length) });
  return { type: 'roomwords' as const, roomId: caller.roomId, words };
}

/** What `joined` and `members` say of the room's moderation: its moderators, its slow mode, the member's own state. */
export function moderationShown(
  room: Room | undefined,
  member: { userId?: string; key: string },
  nowSeconds: number,
): {
  moderators?: string[];
  slowModeSeconds?: number;
  role: Role;
  mutedUntil?: string | null;
  ownerName?: string;
} {
  const state: RoomModeration = moderationOf(room);
  const mine = state.muted.get(member.key);
  const muted = mine !== undefined && Number(mine.until) > nowSeconds;
  return {
    ...(state.moderators.size > 0 && { moderators: [...state.moderators.values()] }),
    ...(state.slowModeSeconds > 0 && { slowModeSeconds: state.slowModeSeconds }),
    role: roleIn(room, member),
    ...(muted && { mutedUntil: untilText(Number(mine.until)) ?? null }),
    // The owner's row offers a moderator nothing: the server refuses acting on the owner (moderate()).
    ...(room?.ownerId !== undefined && room.createdBy !== undefined && { ownerName: room.createdBy }),
  };
}
