import { REMOVED_NAMES_MAX } from '#core/aws/roomMembers';
import type { UserDevices } from '#core/aws/userDevices';
import { BadRequest, Forbidden, RoomClosed, RoomNotFound } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { presenceEvent } from '#core/identity/presence';
import type { ModerationRecord } from '#core/identity/sessions';
import { newInviteKey } from '#core/limits/guard';
import { memberKey, memberKeyOf, senderOf } from '#core/memberKeys';
import { roleIn } from '#core/moderation';
import type { ChatEvent, ChatPorts, Connection, OwnerChange, Room } from '#core/ports';
import { LIMITS, LOBBY } from '#core/protocol';
import { roomFrameEvent } from '#core/roomFrames';
import { epochSeconds, roomEnd } from '#core/roomLife';
import { eachAtMost } from '#platform/eachAtMost';
import { logger } from '#platform/powertools';
import { settings } from '#platform/settings';
import { SETTINGS } from '#platform/settingsSchema';
import type { ModerationMemberships } from './ports';

/**
 * What a room's owner (its creator's `userId`: the signed-in user in the token modes, the connection itself in
 * AuthMode=none) may do: rotate the invite key, remove a member, close the room. Each acts on the room the caller
 * is in, and starts with one conditional write that holds only for the owner of a room that has not ended, so a
 * refused caller changes nothing. The room hears of it through its fan-out (roomFrameEvent: the owner's reply waits
 * for its own writes and one PutEvents, never for a post per member; docs/DECISIONS.md, "Owner actions reach the
 * room through its fan-out"); the person acted on is told by posts to its own few connections, which the route
 * finds by key and moves out itself. The fan-out reads the eventually consistent room index, which may still list a
 * member just moved out: it leaves out every name in the room's `removedNames`, read strongly consistent after the
 * removal's write (functions/deliver/prepare.ts), so a new key never reaches a removed person.
 */

export type OwnerDeps = Pick<ChatPorts, 'connections' | 'rooms' | 'notifier' | 'now' | 'events'> & {
  /**
   * Where a rotation writes the owner's new key (keepOwnersKey), and where a removal forgets the removed person's
   * membership of the room (`leave`): rotatekey, removemember and the moderation routes wire it.
   */
  memberships?: Pick<ModerationMemberships, 'rekey'> & Partial<Pick<ModerationMemberships, 'leave'>>;
  /** A signed-in person's live connections (the user index): a removal moves out every one of them. */
  devices?: UserDevices;
  /**
   * Puts an owner's or moderator's action on record (core/identity/sessionHooks.ts auditModeration); absent: none
   * kept.
   */
  audit?: (row: ModerationRecord) => Promise<void>;
};

/** Calls at once on the person acted on (each of its connections). */
const POSTS_AT_ONCE = 16;

/**
 * The write that makes the change if the caller owns the live room it is in; returns the room as the write left it.
 */
async function asOwner(
  deps: OwnerDeps,
  caller: Connection,
  change: OwnerChange,
  verb: string,
  /** The caller's key in the room, when a moderator may make the change too (a ban). */
  moderatorKey?: string,
): Promise<Room> {
  const { roomId } = caller;
  if (roomId === LOBBY)
    throw new Forbidden(`The lobby has no owner: only the creator of a room can ${verb}.`);
  const now = deps.now();
  const changed =
    caller.userId === undefined
      ? undefined
      : await deps.rooms.changeAsOwner(
          roomId,
          caller.userId,
          epochSeconds(now),
          change,
          moderatorKey,
          memberKey(roomId, senderOf(caller)),
        );
  if (changed) return changed;
  // Refused: say why (one more read, on the refusal path only).
  const room = await deps.rooms.get(roomId);
  if (!room) throw new RoomNotFound(roomId);
  const end = roomEnd(room, now);
  if (end) throw new RoomClosed(roomId, end);
  if (
    change.kind === 'rotateKey' &&
    change.removedName !== undefined &&
    roleIn(room, { userId: caller.userId, key: memberKey(roomId, senderOf(caller)) }) === 'owner' &&
    (room.removedNames?.size ?? 0) >= REMOVED_NAMES_MAX
  )
    throw new BadRequest(
      `Room ${roomId} has removed ${REMOVED_NAMES_MAX} members, the most a room may: open a new room for the others.`,
    );
  if (moderatorKey !== undefined)
    throw new Forbidden(
      `Only the owner or a moderator of room ${roomId} can ${verb}, and never against the owner or a moderator.`,
    );
  throw new Forbidden(`Only the member who created room ${roomId} can ${verb}.`);
}

/** Posts a frame to connections; one that can't be reached is skipped (its $disconnect removes it). */
export async function tell(deps: OwnerDeps, connectionIds: string[], frame: object): Promise<void> {
  const payload = JSON.stringify(frame);
  await eachAtMost(connectionIds, POSTS_AT_ONCE, async (id) => {
    await deps.notifier.post(id, payload).catch(() => undefined);
  });
}

/**
 * The room's new key for its members, so their own rejoin after a reconnect keeps working: through the fan-out, which
 * leaves out every connection showing a name the owner removed (`room.removedNames`, written with the key), whether
 * or not the room index still lists it.
 */
const keyNotice = (room: Room): ChatEvent =>
  roomFrameEvent(room.roomId, { type: 'keyrotated', roomId: room.roomId, inviteKey: room.inviteKey });

/**
 * A new invite key for the caller's room; joins with the old key, or by code alone, are refused from now on, those
 * admitted before it included (rooms/joining.ts).
 */
export async function rotateKey(deps: OwnerDeps, connectionId: string) {
  const caller = await requireConnection(deps, connectionId);
  const inviteKey = newInviteKey();
  const room = await asOwner(deps, caller, { kind: 'rotateKey', inviteKey }, 'rotate its invite key');
  await keepOwnersKey(deps, caller, room, inviteKey);
  await deps.events.publish([keyNotice(room)]);
  await deps.audit?.(auditRow(caller, room.roomId, 'rotatekey', deps.now().toISOString()));
  return { type: 'keyrotated' as const, roomId: room.roomId, inviteKey };
}

/**
 * Writes the room's new key to its owner's membership: `myrooms` gives the owner its current key from there, never
 * reading the room's (rooms/memberships.ts). A failed write costs the owner only that entry's key (the reply
 * carries the new one), never the rotation.
 */
async function keepOwnersKey(
  deps: OwnerDeps,
  caller: Connection,
  room: Room,
  inviteKey: string,
): Promise<void> {
  if (!deps.memberships) return;
  // The caller's own membership key (in AuthMode=none a resume token's, which is not the room's `ownerId`).
  await deps.memberships
    .rekey(memberKeyOf(caller), room.roomId, inviteKey)
    .catch((error: unknown) =>
      logger.warn("the owner's membership kept its old key", { roomId: room.roomId, error: String(error) }),
    );
}

/** The `username` of removemember: a name as the member list shows it. */
export function parseMemberName(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || [...value].length > LIMITS.usernameMaxChars + 8)
    throw new BadRequest('"username" must be the name of a member as the member list shows it.');
  return value;
}

/** A connection in the room and the name it shows there. */
interface Shown {
  connectionId: string;
  username: string;
}

/**
 * Every live connection one signed-in person may hold: ConnectionsPerSource, the cap connect.ts keeps per user (0,
 * no cap: the setting's ceiling). A removal or a ban reads that many of the person's connections, so no device past a
 * fixed read keeps the room.
 * Exported for tests: the model counts the person's connections at the default.
 */
export function personConnectionsMax(cap = settings().ConnectionsPerSource): number {
  return cap > 0 ? cap : SETTINGS.ConnectionsPerSource.max;
}

/**
 * The removed person's connections in the room: those the room index lists under `username`, and, when the person
 * is signed in, every live connection of that user that follows the room under whatever name (the user index, then
 * each one's subscription read strongly consistent by key): a second device showing another name is the same person,
 * and a join the room index does not list yet is found there too.
 */
async function personIn(
  deps: OwnerDeps,
  roomId: string,
  username: string,
  except: string,
  userId?: string,
): Promise<{ person?: string; targets: Shown[] }> {
  const named = (await deps.connections.membersNamed(roomId, username)).filter(
    (m) => m.connectionId !== except,
  );
  const person =
    userId ??
    (named[0] === undefined ? undefined : (await deps.connections.get(named[0].connectionId))?.userId);
  const found = new Map<string, Shown>(
    named.map((m) => [m.connectionId, { connectionId: m.connectionId, username }]),
  );
  if (deps.devices && person?.startsWith('user:')) {
    const ids = await deps.devices.connectionsOf(person, personConnectionsMax());
    await eachAtMost(ids, POSTS_AT_ONCE, async (id) => {
      const followed = id === except ? undefined : await deps.connections.subscription(id, roomId);
      if (followed) found.set(id, { connectionId: id, username: followed.username });
    });
  }
  return { person, targets: [...found.values()] };
}

/**
 * Removes a person from the caller's room: every connection of theirs there (one member may have several tabs and,
 * signed in, several devices under other names; personIn) is moved to the lobby and told `removed`, the room hears
 * each name leave, and the invite key is rotated first, with every name they show refused, so the member can't
 * rejoin with the link it had nor by code alone, and no new key or fan-out reaches any of their connections. Their
 * membership of the room goes in the same step, so `myrooms`, `setprofile` and push no longer count them a member.
 * A ban by user id would not hold in AuthMode=none, where a reconnect is a new identity; a new key holds in every
 * mode. The other members get the new key; the owner gets it in the reply.
 */
export async function removeMember(
  deps: OwnerDeps,
  connectionId: string,
  username: string,
  /**
   * A ban (moderation.ts): the member's entry, written with the key, and the caller's key in the room (a moderator
   * may ban). Absent: a removal, the owner's alone.
   */
  ban?: { entry: NonNullable<Extract<OwnerChange, { kind: 'rotateKey' }>['ban']>; moderatorKey: string },
) {
  const caller = await requireConnection(deps, connectionId);
  if (caller.roomId !== LOBBY && username === caller.username)
    throw new BadRequest(`You cannot ${ban ? 'ban' : 'remove'} yourself: leave the room, or close it.`);
  if (ban && ban.entry.userId !== undefined && ban.entry.userId === caller.userId)
    throw new BadRequest('You cannot ban yourself: leave the room, or close it.');
  const doing = ban ? 'ban its members' : 'remove its members';
  // The key is rotated, with the name refused, before the person's connections are listed: a join admitted with the
  // old key fails from the write on (rooms/joining.ts), and one that moved in before it is listed below.
  let inviteKey = newInviteKey();
  const rotation = { kind: 'rotateKey' as const, inviteKey, removedName: username };
  let room = await asOwner(
    deps,
    caller,
    { ...rotation, ...(ban && { ban: ban.entry }) },
    doing,
    ban?.moderatorKey,
  );
  const { roomId } = room;
  const { person, targets } = await personIn(deps, roomId, username, connectionId, ban?.entry.userId);
  if (person !== undefined && person === caller.userId)
    throw new BadRequest(`You cannot ${ban ? 'ban' : 'remove'} yourself: leave the room, or close it.`);
  // The person's other names (a device signed in as the same user, showing another name) are refused too, with a
  // second rotation, so no key from here on reaches a connection showing one of them.
  const otherNames = [...new Set(targets.map((t) => t.username))].filter((n) => n !== username);
  if (otherNames.length > 0) {
    inviteKey = newInviteKey();
    room = await asOwner(deps, caller, { ...rotation, inviteKey, otherNames }, doing, ban?.moderatorKey);
  }
  await keepOwnersKey(deps, caller, room, inviteKey);
  const at = deps.now().toISOString();
  const moved: Connection[] = [];
  await eachAtMost(targets, POSTS_AT_ONCE, async (t) => {
    const before = await deps.connections.moveOutOf(t.connectionId, roomId, at);
    if (before) moved.push(before);
  });
  await forgetPerson(deps, roomId, moved);
  const removedIds = moved.map((c) => c.connectionId);
  await tell(deps, removedIds, {
    type: 'removed',
    roomId,
    message: ban
      ? `You were banned from room ${roomId}: you can't rejoin it. You are in the lobby.`
      : `The owner of room ${roomId} removed you from it. You are in the lobby.`,
  });
  const left = new Set(targets.filter((t) => removedIds.includes(t.connectionId)).map((t) => t.username));
  // One PutEvents: the leaves go on the room's presence board, the new key to the room's fan-out.
  await deps.events.publish([
    ...[...left].map((name) => presenceEvent(roomId, 'leave', name, ban ? 'banned' : 'removed')),
    keyNotice(room),
  ]);
  if (!ban) await deps.audit?.(auditRow(caller, roomId, 'removemember', at, { target: username }));
  return { type: 'memberremoved' as const, roomId, username, removed: moved.length, inviteKey };
}

/**
 * Deletes the removed person's membership of the room (each distinct member key of the moved connections): their
 * "my rooms", `setprofile`'s rooms and push's member check (a strong read of it) stop counting them at once.
 */
async function forgetPerson(deps: OwnerDeps, roomId: string, moved: Connection[]): Promise<void> {
  const leave = deps.memberships?.leave?.bind(deps.memberships);
  if (!leave) return;
  for (const key of new Set(moved.map(memberKeyOf)))
    await leave(key, roomId).catch((error: unknown) =>
      logger.warn('a removed member kept its membership', { roomId, error: String(error) }),
    );
}

/**
 * Closes the caller's room for good: from the write on, joins and sends are refused ROOM_CLOSED; then every member
 * is moved to the lobby and told `roomclosed`. The room's TTL is set to now, so DynamoDB deletes its item.
 */
export async function closeRoom(deps: OwnerDeps, connectionId: string) {
  const caller = await requireConnection(deps, connectionId);
  const closedAt = deps.now().toISOString();
  const { roomId } = await asOwner(deps, caller, { kind: 'close', closedAt }, 'close it');
  const message = `Room ${roomId} was closed by its owner. You are in the lobby.`;
  // The owner's own connection is moved here and answered by the reply. The members hear it through the room's
  // fan-out, which lists them from the room index and moves each chunk to the lobby before posting it `roomclosed` (deliver/post.ts; docs/DECISIONS.md, "Owner actions reach the room through its fan-out"): the reply waits for
  // the write, one move and one PutEvents, whatever the room's size.
  await deps.connections.moveOutOf(connectionId, roomId, closedAt);
  await deps.events.publish([roomFrameEvent(roomId, { type: 'roomclosed', roomId, message }, closedAt)]);
  await deps.audit?.(auditRow(caller, roomId, 'closeroom', closedAt));
  return { type: 'roomclosed' as const, roomId, message };
}

/** An action's audit row (sessions.ts ModerationRecord): who did it, as it shows in the room, and its role there. */
export function auditRow(
  caller: Connection,
  roomId: string,
  action: string,
  at: string,
  more: { target?: string; detail?: string; actorRole?: string } = {},
): ModerationRecord {
  return { roomId, action, at, actor: caller.username, actorRole: more.actorRole ?? 'owner', ...more };
}
