import { BAN_PREFIX, MOD_PREFIX, MUTE_PREFIX, moderationItemId } from '#core/moderation';
import type { ModerationChange, OwnerChange } from '#core/ports';
import { REMOVED_NAMES_MAX } from './roomMembers';

/**
 * The writes of a moderation change (core/moderation.ts): one to the room's item, which holds the room's life, its
 * owner and `moderated`, and one to its moderation item, which holds the moderators, mutes and removed names, in one
 * transaction. A condition cannot span two items, so "the owner or a moderator" is two attempts: as the owner (the
 * room's item checks `ownerId`/`ownerKey`), then as a moderator (the moderation item checks `mod#<key>`).
 */

/** Who the write is made as: the room's item checks the owner, the moderation item a moderator. */
export type ActingAs = 'owner' | 'moderator';

/** One item's UpdateItem in a transaction, built clause by clause (unused names or values are refused by DynamoDB). */
export class ItemUpdate {
  readonly set: string[] = [];
  readonly remove: string[] = [];
  readonly add: string[] = [];
  readonly delete: string[] = [];
  readonly conditions: string[] = [];
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};

  constructor(
    private readonly table: string,
    private readonly roomId: string,
  ) {}

  /** The transaction's Update of this item. */
  write() {
    const clauses = [
      this.set.length > 0 ? `SET ${this.set.join(', ')}` : '',
      this.remove.length > 0 ? `REMOVE ${this.remove.join(', ')}` : '',
      this.add.length > 0 ? `ADD ${this.add.join(', ')}` : '',
      this.delete.length > 0 ? `DELETE ${this.delete.join(', ')}` : '',
    ].filter((clause) => clause !== '');
    return {
      TableName: this.table,
      Key: { roomId: this.roomId },
      UpdateExpression: clauses.join(' '),
      ...(this.conditions.length > 0 && { ConditionExpression: this.conditions.join(' AND ') }),
      ...(Object.keys(this.names).length > 0 && { ExpressionAttributeNames: this.names }),
      ...(Object.keys(this.values).length > 0 && { ExpressionAttributeValues: this.values }),
    };
  }
}

/**
 * The room's side of a moderation write: marks it `moderated` (a send reads the moderation item only then), only while
 * the room is the one the actor read (`createdAt`) and lives (not closed, TTL not passed), and, acting as the owner,
 * only for its owner (user id, or key in the room).
 */
export function roomSide(
  table: string,
  roomId: string,
  actor: { userId?: string; key: string; roomCreatedAt: string },
  as: ActingAs,
  nowSeconds: number,
): ItemUpdate {
  const room = new ItemUpdate(table, roomId);
  room.set.push('moderated = :true');
  room.values[':true'] = true;
  room.conditions.push(
    'createdAt = :created',
    'attribute_not_exists(closedAt)',
    '(attribute_not_exists(#ttl) OR #ttl > :now)',
  );
  room.names['#ttl'] = 'ttl';
  room.values[':created'] = actor.roomCreatedAt;
  room.values[':now'] = nowSeconds;
  if (as === 'owner') {
    room.conditions.push('(ownerId = :owner OR ownerKey = :ownerKey)');
    room.values[':owner'] = actor.userId ?? '';
    room.values[':ownerKey'] = actor.key;
  }
  return room;
}

/**
 * The moderation item's side: it becomes (or stays) this room's (`room` = its `createdAt`; an item left by an earlier
 * room under the same code refuses the write, and is cleared by the caller: staleModeration) and, acting as a
 * moderator, holds only while the actor's `mod#<key>` is there.
 */
export function moderationSide(
  table: string,
  roomId: string,
  actor: { key: string; roomCreatedAt: string },
  as: ActingAs,
): ItemUpdate {
  const item = new ItemUpdate(table, moderationItemId(roomId));
  item.set.push('#room = :created');
  item.names['#room'] = 'room';
  item.values[':created'] = actor.roomCreatedAt;
  item.conditions.push('(attribute_not_exists(#room) OR #room = :created)');
  if (as === 'moderator') {
    item.conditions.push('attribute_exists(#actor)');
    item.names['#actor'] = `${MOD_PREFIX}${actor.key}`;
  }
  return item;
}

/** The target is not the owner (by its key in the room, and by its user id when it has one): on the room's item. */
function notOwner(room: ItemUpdate, key: string, userId: string | undefined): void {
  room.conditions.push('(attribute_not_exists(ownerKey) OR ownerKey <> :targetKey)');
  room.values[':targetKey'] = key;
  if (userId === undefined) return;
  room.conditions.push('ownerId <> :target');
  room.values[':target'] = userId;
}

/** The target is no moderator: on the moderation item, and on the room's item for an entry of the older layout. */
function notModerator(room: ItemUpdate, item: ItemUpdate, key: string): void {
  for (const side of [room, item]) {
    side.conditions.push('attribute_not_exists(#targetMod)');
    side.names['#targetMod'] = `${MOD_PREFIX}${key}`;
  }
}

/**
 * Adds a role, mute, unmute or the room's words to the two sides (unban and slow mode are written by the room store
 * itself).
 */
export function applyChange(
  room: ItemUpdate,
  item: ItemUpdate,
  change: Extract<ModerationChange, { kind: 'role' | 'mute' | 'unmute' | 'words' }>,
): void {
  switch (change.kind) {
    case 'words':
      if (change.words.length === 0) item.remove.push('roomWords');
      else {
        item.set.push('roomWords = :words');
        item.values[':words'] = change.words;
      }
      return;
    case 'role':
      notOwner(room, change.key, change.userId);
      item.names['#mod'] = `${MOD_PREFIX}${change.key}`;
      if (change.role === 'moderator') {
        item.set.push('#mod = :name');
        item.values[':name'] = change.name;
      } else {
        item.remove.push('#mod');
        // An entry of the older layout on the room's item goes too.
        room.remove.push('#mod');
        room.names['#mod'] = `${MOD_PREFIX}${change.key}`;
      }
      return;
    case 'mute': {
      notOwner(room, change.key, change.userId);
      notModerator(room, item, change.key);
      item.names['#mute'] = `${MUTE_PREFIX}${change.key}`;
      item.set.push('#mute = :mute');
      item.values[':mute'] = { until: change.until, name: change.name };
      room.remove.push('#mute');
      room.names['#mute'] = `${MUTE_PREFIX}${change.key}`;
      // Mutes already over go in the same write: the item stays as small as its live entries.
      change.expired
        .filter((key) => key !== change.key)
        .slice(0, 20)
        .forEach((key, i) => {
          item.names[`#old${i}`] = `${MUTE_PREFIX}${key}`;
          item.remove.push(`#old${i}`);
        });
      return;
    }
    case 'unmute':
      for (const side of [room, item]) {
        side.names['#mute'] = `${MUTE_PREFIX}${change.key}`;
        side.remove.push('#mute');
      }
      return;
  }
}

/** An unban's two sides: the ban of the older layout off the room's item, the name off the removed names of both. */
export function applyUnban(room: ItemUpdate, item: ItemUpdate, key: string, name: string): void {
  room.remove.push('#ban');
  room.names['#ban'] = `${BAN_PREFIX}${key}`;
  for (const side of [room, item]) {
    side.delete.push('removedNames :name');
    side.values[':name'] = new Set([name]);
  }
}

/**
 * The owner's change (rotateKey or close) in the transaction changeAsOwner writes: the room's item (its key, or its
 * close) and, for a removal, the moderation item (its removed names, while fewer than REMOVED_NAMES_MAX: the fan-out's
 * filter). Only the owner (the room's item) or, acting as a moderator where allowed, a moderator (the moderation item),
 * and only while the room lives: neither closed nor past its TTL (not yet deleted). A ban, never of the owner or a
 * moderator (core/moderation.ts).
 */
export function ownerWrites(
  table: string,
  roomId: string,
  ownerId: string,
  nowSeconds: number,
  change: OwnerChange,
  former: string[],
  as: ActingAs,
  actorKey: string | undefined,
  createdAt: string,
  keyId: string,
): { room: ItemUpdate | ReturnType<typeof closeUpdate>; moderation?: ItemUpdate } {
  if (change.kind === 'close')
    return { room: closeUpdate(table, roomId, ownerId, nowSeconds, change.closedAt, actorKey) };
  const actor = { userId: ownerId, key: actorKey ?? '', roomCreatedAt: createdAt };
  const room = roomSide(table, roomId, actor, as, nowSeconds);
  if (as === 'owner' && actorKey === undefined) {
    // Without a key in the room, the owner is its user id alone.
    room.conditions.pop();
    room.conditions.push('ownerId = :owner');
    delete room.values[':ownerKey'];
  }
  room.set.push('inviteKey = :key', 'keyId = :keyId', 'keyRequired = :keyRequired', 'formerKeyIds = :former');
  Object.assign(room.values, {
    ':key': change.inviteKey,
    ':keyId': keyId,
    ':keyRequired': true,
    ':former': former,
  });
  const removing = change.removedName !== undefined;
  const { ban } = change;
  if (!removing && !ban && as === 'owner') {
    // A rotation alone leaves the moderation item and `moderated` as they are, whichever room the owner's is.
    room.set.splice(room.set.indexOf('moderated = :true'), 1);
    delete room.values[':true'];
    room.conditions.splice(room.conditions.indexOf('createdAt = :created'), 1);
    delete room.values[':created'];
    return { room };
  }
  const moderation = moderationSide(table, roomId, actor, as);
  if (removing) {
    moderation.add.push('removedNames :removed');
    moderation.conditions.push('(attribute_not_exists(removedNames) OR size(removedNames) < :maxRemoved)');
    moderation.values[':removed'] = new Set([change.removedName as string, ...(change.otherNames ?? [])]);
    moderation.values[':maxRemoved'] = REMOVED_NAMES_MAX;
  }
  if (ban) {
    notModerator(room, moderation, ban.key);
    room.conditions.push('(attribute_not_exists(ownerKey) OR ownerKey <> :targetKey)');
    room.values[':targetKey'] = ban.key;
    if (ban.userId !== undefined) {
      room.conditions.push('ownerId <> :target');
      room.values[':target'] = ban.userId;
    }
  }
  return { room, moderation };
}

/** A close: the room's TTL set to now, by its owner (user id, or key in the room), while it lives. */
function closeUpdate(
  table: string,
  roomId: string,
  ownerId: string,
  nowSeconds: number,
  closedAt: string,
  callerKey: string | undefined,
) {
  return {
    TableName: table,
    Key: { roomId },
    UpdateExpression: 'SET closedAt = :closedAt, #ttl = :now',
    ConditionExpression: `${callerKey === undefined ? 'ownerId = :owner' : '(ownerId = :owner OR ownerKey = :ownerKey)'} AND attribute_not_exists(closedAt) AND (attribute_not_exists(#ttl) OR #ttl > :now)`,
    ExpressionAttributeNames: { '#ttl': 'ttl' },
    ExpressionAttributeValues: {
      ':owner': ownerId,
      ...(callerKey !== undefined && { ':ownerKey': callerKey }),
      ':now': nowSeconds,
      ':closedAt': closedAt,
    },
  };
}
