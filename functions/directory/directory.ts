import { type AvatarBucket, avatarKey, keptAvatar, parseAvatar } from '#attachments/avatars';
import { nameSkeleton } from '#core/confusables';
import { BadRequest, Forbidden, NameTaken, RoomClosed, RoomNotFound } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { type OtherDevices, tellOtherDevices } from '#core/identity/otherDevices';
import type { ModerationRecord } from '#core/identity/sessions';
import { memberKey, senderOf } from '#core/memberKeys';
import { roleIn } from '#core/moderation';
import type { ChatPorts, Connection, Room, RoomStore } from '#core/ports';
import { type AvatarSigner, shownProfile } from '#core/profiles';
import { LOBBY } from '#core/protocol';
import { epochSeconds, roomEnd } from '#core/roomLife';
import { logger } from '#platform/powertools';
import {
  DIRECTORY_LIMITS,
  foldName,
  type ListedRoom,
  normalizeText,
  normalizeTitle,
  type ProfileFrame,
  type RoomChangedFrame,
  type RoomInfo,
  type RoomsFrame,
} from '#protocol';
import { refuseListedWords } from '#safety/labels';
import type { DirectoryStore, ListedEntry } from './directoryPorts';
import type { MembershipStore } from './memberships';
import { roomFrameEvent } from './roomFrames';

/**
 * Named rooms, the directory of public rooms and profiles (protocol/directory.ts; docs/DECISIONS.md, "Named rooms,
 * the directory and profiles"). A public room's name is held by its entry in the directory, written in the same
 * transaction as the room, so two public rooms never share a name; a private room's name is on its item alone and
 * may repeat. A room that ended keeps its entry until a search or a claim of its name finds it ended and drops it.
 */

/** What a room frame shows of a room's name (RoomInfo): a room never named shows nothing (its code). */
export function roomInfoOf(
  room: Pick<Room, 'name' | 'topic' | 'isPublic' | 'membersPin'> | undefined,
): RoomInfo {
  if (!room) return {};
  return {
    ...(room.name !== undefined && { name: room.name }),
    ...(room.topic !== undefined && room.topic !== '' && { topic: room.topic }),
    ...(room.isPublic === true && { public: true }),
    ...(room.membersPin === true && { membersPin: true }),
  };
}

/** The `name`, `topic`, `public` and `membersPin` of createroom or setroom; each absent when not given. */
export function parseRoomInfo(body: Record<string, unknown>): RoomInfo {
  const info: RoomInfo = {};
  if (body.name !== undefined) {
    const name = normalizeTitle(body.name, DIRECTORY_LIMITS.roomNameMaxChars);
    if (name === undefined)
      throw new BadRequest(
        `"name" must be 1–${DIRECTORY_LIMITS.roomNameMaxChars} characters, without control characters.`,
      );
    refuseListedWords(name, "room's name");
    info.name = name;
  }
  if (body.topic !== undefined) {
    const topic = normalizeText(body.topic, DIRECTORY_LIMITS.topicMaxChars);
    if (topic === undefined)
      throw new BadRequest(
        `"topic" must be text of at most ${DIRECTORY_LIMITS.topicMaxChars} characters, without control characters.`,
      );
    refuseListedWords(topic, "room's topic");
    info.topic = topic;
  }
  if (body.public !== undefined) {
    if (typeof body.public !== 'boolean') throw new BadRequest('"public" must be true or false.');
    info.public = body.public;
  }
  if (body.membersPin !== undefined) {
    if (typeof body.membersPin !== 'boolean')
      throw new BadRequest(
        '"membersPin" must be true (members pin too) or false (the owner and moderators only).',
      );
    info.membersPin = body.membersPin;
  }
  return info;
}

/** The room as a listing shows it, or undefined when it is no longer listed under `entry` (ended, private, renamed). */
function listedNow(entry: ListedEntry, room: Room | undefined, now: Date): ListedRoom | undefined {
  if (!room || roomEnd(room, now) || room.isPublic !== true || room.listedAs !== entry.entryKey)
    return undefined;
  const topic = room.topic ?? entry.topic;
  return { roomId: room.roomId, name: room.name ?? entry.name, ...(topic && { topic }) };
}

/**
 * A name's entry is free to claim once the room holding it has ended or no longer holds it (a rename whose entry's
 * delete was refused, never the case within one transaction, or an entry written before its room's write failed):
 * it is dropped, and the claim is tried once more.
 */
async function freeStaleEntry(directory: DirectoryStore, entryKey: string, now: Date): Promise<boolean> {
  const holder = await directory.holder(entryKey);
  if (!holder) return true;
  const [room] = await directory.rooms([holder.roomId]);
  if (listedNow(holder, room, now)) return false;
  await directory.dropEntry(entryKey, holder.roomId);
  return true;
}

/**
 * Ports whose new room is written with its name, and, when public, with its directory entry in one transaction
 * (createroom): a name another public room holds is refused NAME_TAKEN, nothing written.
 */
export function withRoomInfo<T extends { rooms: Pick<RoomStore, 'create'>; now: () => Date }>(
  deps: T,
  directory: DirectoryStore,
  info: RoomInfo,
): T {
  if (info.public === true && info.name === undefined)
    throw new BadRequest('A public room needs a "name": the directory lists rooms by name.');
  if (
    info.name === undefined &&
    info.topic === undefined &&
    info.public === undefined &&
    info.membersPin === undefined
  )
    return deps;
  const store = deps.rooms;
  const rooms = Object.create(store) as T['rooms'];
  rooms.create = async (room: Room) => {
    const named: Room = {
      ...room,
      ...(info.name !== undefined && { name: info.name }),
      ...(info.topic !== undefined && { topic: info.topic }),
      ...(info.public === true && { isPublic: true }),
      ...(info.membersPin === true && { membersPin: true }),
    };
    if (info.public !== true || info.name === undefined) return store.create(named);
    const entryKey = nameSkeleton(info.name);
    const listed = { ...named, listedAs: entryKey };
    const entry = {
      entryKey,
      roomId: room.roomId,
      name: info.name,
      ...(info.topic && { topic: info.topic }),
    };
    let outcome = await directory.createListed(listed, entry);
    if (outcome === 'nameTaken' && (await freeStaleEntry(directory, entryKey, deps.now())))
      outcome = await directory.createListed(listed, entry);
    if (outcome === 'nameTaken') throw new NameTaken(info.name);
    return outcome === 'created';
  };
  return { ...deps, rooms };
}

/**
 * A page of public rooms whose folded name starts with `prefix`, in name order: one Query of the directory's
 * partition and one BatchGetItem of the page's rooms (each checked live and still listed under that name; an entry
 * of a room that ended is dropped as it is found, so a page may hold fewer than `limit`).
 */
export async function listRooms(
  deps: { directory: DirectoryStore; now: () => Date },
  query: { prefix: string; after?: string; limit: number },
): Promise<RoomsFrame> {
  const prefix = foldName(query.prefix);
  // Keys are skeletons (nameSkeleton): "Pа" (Cyrillic а) finds "Paris", as it would be refused beside it.
  const page = await deps.directory.search(nameSkeleton(query.prefix), query.after, query.limit);
  const rooms = new Map(
    (await deps.directory.rooms(page.entries.map((e) => e.roomId))).map((r) => [r.roomId, r]),
  );
  const now = deps.now();
  const listed: ListedRoom[] = [];
  const stale: ListedEntry[] = [];
  for (const entry of page.entries) {
    const room = rooms.get(entry.roomId);
    const shown = listedNow(entry, room, now);
    if (shown) listed.push(shown);
    else if (!room || roomEnd(room, now)) stale.push(entry);
  }
  await Promise.all(stale.map((e) => deps.directory.dropEntry(e.entryKey, e.roomId)));
  return { type: 'rooms', prefix, rooms: listed, ...(page.next !== undefined && { next: page.next }) };
}

/** The `prefix`, `after` and `limit` of listrooms. */
export function parseListQuery(body: Record<string, unknown>): {
  prefix: string;
  after?: string;
  limit: number;
} {
  const { prefix = '', after, limit = DIRECTORY_LIMITS.listMax } = body;
  if (typeof prefix !== 'string' || [...prefix].length > DIRECTORY_LIMITS.roomNameMaxChars)
    throw new BadRequest(`"prefix" must be text of at most ${DIRECTORY_LIMITS.roomNameMaxChars} characters.`);
  if (after !== undefined && (typeof after !== 'string' || after.length === 0 || [...after].length > 80))
    throw new BadRequest('"after" must be the "next" of the page before.');
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > DIRECTORY_LIMITS.listMax)
    throw new BadRequest(`"limit" must be a whole number from 1 to ${DIRECTORY_LIMITS.listMax}.`);
  return { prefix, ...(after !== undefined && { after }), limit };
}

type SetRoomDeps = Pick<ChatPorts, 'connections' | 'rooms' | 'events' | 'now'> & {
  directory: DirectoryStore;
  /** Puts the owner's change on record (sessionHooks.ts auditModeration); absent: none kept. */
  audit?: (row: ModerationRecord) => Promise<void>;
};

/**
 * The owner changes its room's name, topic, visibility or whether members pin: one transaction of the room's item (only the owner's, while
 * the room lives and is listed as read) and the directory entries it moves; members get `roomchanged` through the
 * room's fan-out. A room made public needs a name; a public name another public room holds is NAME_TAKEN.
 */
export async function setRoom(
  deps: SetRoomDeps,
  connectionId: string,
  info: RoomInfo,
): Promise<RoomChangedFrame> {
  if (
    info.name === undefined &&
    info.topic === undefined &&
    info.public === undefined &&
    info.membersPin === undefined
  )
    throw new BadRequest('setroom changes "name", "topic", "public" or "membersPin": give at least one.');
  const caller = await requireConnection(deps, connectionId);
  const { roomId } = caller;
  if (roomId === LOBBY)
    throw new Forbidden('The lobby has no owner: only the creator of a room can change it.');
  const now = deps.now();
  for (let attempt = 0; attempt < 3; attempt++) {
    const room = await deps.rooms.get(roomId);
    if (!room) throw new RoomNotFound(roomId);
    const end = roomEnd(room, now);
    if (end) throw new RoomClosed(roomId, end);
    if (room.dmMembers)
      throw new Forbidden('A direct message is named after the other person: it has no owner.');
    const ownerKey = memberKey(roomId, senderOf(caller));
    if (caller.userId === undefined || roleIn(room, { userId: caller.userId, key: ownerKey }) !== 'owner')
      throw new Forbidden(
        `Only the member who created room ${roomId} can change its name, topic, visibility or who pins.`,
      );
    const name = info.name ?? room.name;
    const isPublic = info.public ?? room.isPublic === true;
    if (isPublic && name === undefined)
      throw new BadRequest('A public room needs a "name": the directory lists rooms by name.');
    const to = isPublic && name !== undefined ? nameSkeleton(name) : undefined;
    const change = {
      roomId,
      ownerId: caller.userId,
      ownerKey,
      nowSeconds: epochSeconds(now),
      ...(info.name !== undefined && { name: info.name }),
      ...(info.topic !== undefined && { topic: info.topic }),
      isPublic,
      ...(info.membersPin !== undefined && { membersPin: info.membersPin }),
      listedName: name,
      ...(room.listedAs !== undefined && { from: room.listedAs }),
      ...(to !== undefined && { to }),
    };
    // The entry keeps the topic it shows when only the name or visibility changes.
    const outcome = await deps.directory.change({ ...change, topic: info.topic ?? room.topic });
    if (outcome === 'nameTaken') {
      if (to !== undefined && (await freeStaleEntry(deps.directory, to, now))) continue;
      throw new NameTaken(name as string);
    }
    if (outcome === 'refused') continue;
    const membersPin = info.membersPin ?? room.membersPin === true;
    const frame: RoomChangedFrame = {
      type: 'roomchanged',
      roomId,
      ...roomInfoOf({ name, topic: info.topic ?? room.topic, isPublic, membersPin }),
      ...(!isPublic && { public: false }),
      ...(info.membersPin === false && { membersPin: false }),
    };
    await deps.events.publish([roomFrameEvent(roomId, frame)]);
    const detail = (['name', 'topic', 'public', 'membersPin'] as const).filter((k) => info[k] !== undefined);
    await deps.audit?.({
      roomId,
      action: 'setroom',
      at: now.toISOString(),
      actor: caller.username,
      actorRole: 'owner',
      detail: detail.join(','),
    });
    return frame;
  }
  throw new Forbidden(`Room ${roomId} changed while this change was made: try again.`);
}

/** The `displayName`, `status` and `avatar` of setprofile. */
export function parseProfile(body: Record<string, unknown>): {
  displayName?: string;
  status?: string;
  avatar?: { key: string } | null;
} {
  const out: { displayName?: string; status?: string; avatar?: { key: string } | null } = {};
  if (body.displayName !== undefined) {
    const name = normalizeTitle(body.displayName, DIRECTORY_LIMITS.displayNameMaxChars);
    if (name === undefined)
      throw new BadRequest(
        `"displayName" must be 1–${DIRECTORY_LIMITS.displayNameMaxChars} characters, without control characters.`,
      );
    refuseListedWords(name, 'display name');
    out.displayName = name;
  }
  if (body.status !== undefined) {
    const status = normalizeText(body.status, DIRECTORY_LIMITS.statusMaxChars);
    if (status === undefined)
      throw new BadRequest(`"status" must be text of at most ${DIRECTORY_LIMITS.statusMaxChars} characters.`);
    refuseListedWords(status, 'status');
    out.status = status;
  }
  // An avatar upload of the caller's, never a room's image (avatars.ts); whose it is is checked by setProfile.
  if (body.avatar !== undefined) out.avatar = parseAvatar(body.avatar);
  if (Object.keys(out).length === 0)
    throw new BadRequest('setprofile changes "displayName", "status" or "avatar": give at least one.');
  return out;
}

type ProfileDeps = Pick<ChatPorts, 'connections' | 'events' | 'now'> & {
  directory: DirectoryStore;
  /** The person's other connections (core/identity/otherDevices.ts): its own profile form, name and avatar follow. */
  otherDevices?: OtherDevices;
  memberships: Pick<MembershipStore, 'list'>;
  /** The attachments bucket: an avatar upload read back and copied, an avatar cleared, its version's GET signed. */
  avatars: AvatarBucket & AvatarSigner;
};

/**
 * A signed-in user's profile: stored (one PutItem), then pushed as `profile` to each room the user belongs to, its
 * first DIRECTORY_LIMITS.profileRooms memberships (one Query), ten rooms to a PutEvents: a bounded fan-out of at most
 * 100 room broadcasts per change. A room not told (a failed publish) shows the profile at its next change.
 */
export async function setProfile(
  deps: ProfileDeps,
  caller: Connection,
  change: ReturnType<typeof parseProfile>,
): Promise<ProfileFrame> {
  const userId = caller.userId;
  if (!userId?.startsWith('user:'))
    throw new Forbidden(
      'Profiles need sign-in: without it a name is not an identity a profile could belong to.',
    );
  const [kept, rooms] = await Promise.all([
    deps.directory.profile(userId),
    deps.memberships.list(userId, DIRECTORY_LIMITS.profileRooms),
  ]);
  const avatar = change.avatar && (await keptAvatar(deps.avatars, userId, change.avatar));
  const profile = {
    userId,
    ...(kept?.displayName !== undefined && { displayName: kept.displayName }),
    ...(kept?.status && { status: kept.status }),
    ...(kept?.avatar && { avatar: kept.avatar }),
    ...(change.displayName !== undefined && { displayName: change.displayName }),
    ...(change.status !== undefined && { status: change.status }),
    ...(avatar && { avatar }),
  };
  if (change.status === '') delete profile.status;
  if (change.avatar === null) delete profile.avatar;
  await deps.directory.saveProfile({ ...profile, updatedAt: deps.now().toISOString() });
  // A cleared avatar's object goes (its version noncurrent, reaped a day later by the bucket's lifecycle); after the
  // save, so no stored profile names a version being reaped. Failing, it stays stored but shown nowhere: the change
  // itself holds.
  if (change.avatar === null && kept?.avatar?.key === avatarKey(userId))
    await deps.avatars
      .remove(avatarKey(userId))
      .catch((error) => logger.warn('a cleared avatar was not deleted', { error: String(error) }));
  // Told with its avatar's GET signed once: every member of these rooms may show it.
  const shown = await shownProfile(profile, deps.avatars);
  const events = rooms.map((m) =>
    roomFrameEvent(m.roomId, {
      type: 'profile',
      ...shown,
      roomId: m.roomId,
      // Whose rows to update: the member's key there, as its messages carry it; the name is the one it last entered
      // under, which someone else may show now.
      authorKey: memberKey(m.roomId, userId),
      username: m.username ?? caller.chosenName ?? caller.username,
    } satisfies ProfileFrame),
  );
  for (let i = 0; i < events.length; i += 10) {
    try {
      await deps.events.publish(events.slice(i, i + 10));
    } catch (error) {
      logger.warn('a profile change was not told to some rooms', { error: String(error) });
    }
  }
  // The person's own other devices, in a room or not, show the same profile at once: the reply's frame, pushed.
  const answer: ProfileFrame = { type: 'profile', ...shown };
  if (deps.otherDevices) await tellOtherDevices(deps.otherDevices, caller, answer);
  return answer;
}
