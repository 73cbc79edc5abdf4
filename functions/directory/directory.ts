import { nameSkeleton } from '#core/confusables';
import { BadRequest, Forbidden, NameTaken, RoomClosed, RoomNotFound } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import type { ModerationRecord } from '#core/identity/sessions';
import { memberKey, senderOf } from '#core/memberKeys';
import { roleIn } from '#core/moderation';
import type { ChatPorts, Room, RoomStore } from '#core/ports';
import { LOBBY } from '#core/protocol';
import { roomFrameEvent } from '#core/roomFrames';
import { epochSeconds, roomEnd } from '#core/roomLife';
import {
  DIRECTORY_LIMITS,
  foldName,
  type ListedRoom,
  type RoomChangedFrame,
  type RoomInfo,
  type RoomsFrame,
} from '#protocol';
import { labelField } from '#safety/labels';
import type { DirectoryStore, ListedEntry } from './ports';

/**
 * Named rooms and the directory of public rooms (protocol/directory.ts; docs/DECISIONS.md, "Named rooms, the
 * directory and profiles"; profiles, kept in the same table: functions/profiles/profiles.ts). A public room's name is held by its entry in the directory, written in the same
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
  const name = labelField(body, 'name', 'title', DIRECTORY_LIMITS.roomNameMaxChars, "room's name");
  if (name !== undefined) info.name = name;
  const topic = labelField(body, 'topic', 'text', DIRECTORY_LIMITS.topicMaxChars, "room's topic");
  if (topic !== undefined) info.topic = topic;
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
