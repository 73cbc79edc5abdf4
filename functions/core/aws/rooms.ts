import { createHash } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { BAN_PREFIX, type BanItem, banItemId, banRosterId, MOD_PREFIX, MUTE_PREFIX } from '#core/moderation';
import type { ModerationChange, OwnerChange, Room, RoomActor, RoomStore } from '#core/ports';
import { stableHash } from '#core/stableHash';
import { applied, cancellationCodes, isConditionFailure } from '#platform/aws/conditions';
import { retryingConflicts } from '#platform/aws/conflicts';
import { REMOVED_NAMES_MAX } from './roomMembers';

/**
 * A room's key id: a hash of its invite key, written with the key (the room store), so that `myrooms` tells whether a
 * member's stored key is still the room's without reading the key itself (its IAM policy may not read `inviteKey`).
 */
export function keyIdOf(inviteKey: string): string {
  return createHash('sha256').update(inviteKey).digest('base64url').slice(0, 22);
}

/**
 * A room's **gates**: small items beside the room's (`<roomId>#gate#<n>` in the Rooms table, n a stable hash of the
 * joining connection's id modulo ROOM_GATES), each holding the room's current key id (`keyId`, or CLOSED once closed),
 * written only by an owner's key rotation, removal or close, all of them in the transaction that changes the room. A
 * join's or subscribe's transaction checks its connection's gate, not the room's item: a join admitted with a key a
 * rotation has since replaced (or to a room since closed) fails there (dynamoEntry.ts), and since joins are spread
 * over ROOM_GATES gates and sends never touch them, joins neither conflict with the room's sends (whose seq `ADD` is
 * on the room's item) nor, mostly, with each other. A gate that was never written (no rotation yet) lets every key
 * through: the join's own read of the room checked its key. Nor does a gate past its day (`ttl`, which DynamoDB
 * deletes days late): only a rotation racing a join in flight matters (seconds at most), and that rotation writes
 * every gate. So a room created again under an old code, or a gate left by an older layout, bars no one for more than
 * a day.
 * Exported for tests: removalRace.test.ts steps the clock past a gate's expiry.
 */
export const ROOM_GATE_TTL_SECONDS = 24 * 3600;
/**
 * How many gates a room has. Joins at the same moment conflict only on a shared gate: 24 joins at once into one room
 * met another at their first try 112 times in 240 over 12 gates, 24 over 48, 6 over 96 (tests/messages/joinGates.test.ts).
 * An owner's change writes them all with the room's item in one transaction (≤ 100 items), a rare write of 49 items.
 * Exported for tests: removalRace.test.ts holds every gate.
 */
export const ROOM_GATES = 48;
/**
 * How many replaced keys a room remembers (Room.formerKeyIds): a member away while the room's key was replaced up to
 * this many times is told KEY_REPLACED on its return, not charged a guess. 16 ids of 22 characters, under 400 bytes
 * of the room's item.
 */
const FORMER_KEYS = 16;
/** The gate `keyId` of a closed room: no key's id (keyIdOf gives 22 base64url characters). */
const CLOSED = 'closed';
/** The gate `keyId` a join into a room without an invite key is checked against: no key's id either. */
export const NO_KEY = 'none';
/** The Rooms table key of a connection's gate into a room. */
export const roomGateOf = (roomId: string, connectionId: string): string =>
  `${roomId}#gate#${stableHash(connectionId) % ROOM_GATES}`;
const roomGates = (roomId: string): string[] =>
  Array.from({ length: ROOM_GATES }, (_, gate) => `${roomId}#gate#${gate}`);

/** A ban's item (read by key at each way in) and its roster entry (read by unban), for the ban's transaction. */
function banWrites(table: string, roomId: string, ban: NonNullable<BanChange>) {
  return [
    {
      Put: {
        TableName: table,
        Item: {
          roomId: banItemId(roomId, ban.key),
          roomCreatedAt: ban.roomCreatedAt,
          name: ban.name,
          at: ban.at,
        },
      },
    },
    {
      Update: {
        TableName: table,
        Key: { roomId: banRosterId(roomId) },
        UpdateExpression: 'SET #ban = :entry',
        ExpressionAttributeNames: { '#ban': `${BAN_PREFIX}${ban.key}` },
        ExpressionAttributeValues: { ':entry': { name: ban.name, room: ban.roomCreatedAt } },
      },
    },
  ];
}
type BanChange = Extract<OwnerChange, { kind: 'rotateKey' }>['ban'];

/**
 * The owner's change to the room's item (rotateKey or close), in the transaction changeAsOwner writes. Only the owner
 * (or, given, a moderator), and only while the room lives: neither closed nor past its TTL (not yet deleted). A
 * removal, while the room has removed fewer than REMOVED_NAMES_MAX names (the fan-out's filter). A ban, never of the
 * owner or a moderator (core/moderation.ts).
 */
function ownerUpdate(
  table: string,
  roomId: string,
  ownerId: string,
  nowSeconds: number,
  change: OwnerChange,
  former: string[],
  moderatorKey: string | undefined,
  callerKey: string | undefined,
) {
  const owner = callerKey === undefined ? 'ownerId = :owner' : '(ownerId = :owner OR ownerKey = :ownerKey)';
  const removing = change.kind === 'rotateKey' && change.removedName !== undefined;
  const ban = change.kind === 'rotateKey' ? change.ban : undefined;
  const gateKeyId = change.kind === 'rotateKey' ? keyIdOf(change.inviteKey) : CLOSED;
  return {
    TableName: table,
    Key: { roomId },
    UpdateExpression:
      change.kind === 'rotateKey'
        ? `SET inviteKey = :key, keyId = :keyId, keyRequired = :true, formerKeyIds = :former${removing ? ' ADD removedNames :removed' : ''}`
        : 'SET closedAt = :closedAt, #ttl = :now',
    ConditionExpression: `${moderatorKey === undefined ? owner : `(${owner} OR attribute_exists(#actor))`} AND attribute_not_exists(closedAt) AND (attribute_not_exists(#ttl) OR #ttl > :now)${
      removing ? ' AND (attribute_not_exists(removedNames) OR size(removedNames) < :maxRemoved)' : ''
    }${ban ? ` AND createdAt = :created AND attribute_not_exists(#targetMod) AND (attribute_not_exists(ownerKey) OR ownerKey <> :targetKey)${ban.userId === undefined ? '' : ' AND ownerId <> :target'}` : ''}`,
    ExpressionAttributeNames: {
      '#ttl': 'ttl',
      ...(moderatorKey !== undefined && { '#actor': `${MOD_PREFIX}${moderatorKey}` }),
      ...(ban && { '#targetMod': `${MOD_PREFIX}${ban.key}` }),
    },
    ExpressionAttributeValues: {
      ':owner': ownerId,
      ...(ban && { ':created': ban.roomCreatedAt }),
      ...(ban?.userId !== undefined && { ':target': ban.userId }),
      ...(ban && { ':targetKey': ban.key }),
      ...(callerKey !== undefined && { ':ownerKey': callerKey }),
      ':now': nowSeconds,
      ...(change.kind === 'rotateKey'
        ? {
            ':key': change.inviteKey,
            ':keyId': gateKeyId,
            ':true': true,
            ':former': former,
            ...(removing && {
              ':removed': new Set([change.removedName, ...(change.otherNames ?? [])]),
              ':maxRemoved': REMOVED_NAMES_MAX,
            }),
          }
        : { ':closedAt': change.closedAt }),
    },
  };
}

/** Every gate of the room set to the key's id (CLOSED for a closed room), living ROOM_GATE_TTL_SECONDS. */
function gateWrites(table: string, roomId: string, gateKeyId: string, nowSeconds: number) {
  return roomGates(roomId).map((gate) => ({
    Update: {
      TableName: table,
      Key: { roomId: gate },
      UpdateExpression: 'SET keyId = :keyId, #ttl = :ttl',
      ExpressionAttributeNames: { '#ttl': 'ttl' },
      ExpressionAttributeValues: {
        ':keyId': gateKeyId,
        ':ttl': nowSeconds + ROOM_GATE_TTL_SECONDS,
      },
    },
  }));
}

/** The DynamoDB adapter of RoomStore: one item per room, its owner's changes conditional on the room still living. */
export class DynamoRoomStore implements RoomStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(room: Room): Promise<boolean> {
    return applied(
      this.db.send(
        new PutCommand({
          TableName: this.table,
          // The key's id goes with the key (rooms.ts keyIdOf): what `myrooms` compares.
          Item: room.inviteKey === undefined ? room : { ...room, keyId: keyIdOf(room.inviteKey) },
          ConditionExpression: 'attribute_not_exists(roomId)',
        }),
      ),
    );
  }

  async get(roomId: string): Promise<Room | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { roomId }, ConsistentRead: true }),
    );
    return Item as Room | undefined;
  }

  async raiseKeyLevel(roomId: string, level: number): Promise<void> {
    // A plain update beside the sends' `ADD seq`; one that meets an owner's transaction on the item is tried again.
    await retryingConflicts(() =>
      applied(
        this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { roomId },
            UpdateExpression: 'SET keyLevel = :level',
            ConditionExpression:
              'attribute_exists(roomId) AND (attribute_not_exists(keyLevel) OR keyLevel < :level)',
            ExpressionAttributeValues: { ':level': level },
          }),
        ),
      ),
    );
  }

  async changeAsOwner(
    roomId: string,
    ownerId: string,
    nowSeconds: number,
    change: OwnerChange,
    moderatorKey?: string,
    callerKey?: string,
  ): Promise<Room | undefined> {
    const removing = change.kind === 'rotateKey' && change.removedName !== undefined;
    const ban = change.kind === 'rotateKey' ? change.ban : undefined;
    const gateKeyId = change.kind === 'rotateKey' ? keyIdOf(change.inviteKey) : CLOSED;
    // The room's change and every gate's in one transaction (above); one that meets a join's or send's is tried again.
    const changed = await retryingConflicts(async () => {
      const former = change.kind === 'rotateKey' ? await this.formerKeyIdsAfter(roomId) : [];
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: ownerUpdate(
                  this.table,
                  roomId,
                  ownerId,
                  nowSeconds,
                  change,
                  former,
                  moderatorKey,
                  callerKey,
                ),
              },
              // A ban is an item of its own and a roster entry (core/moderation.ts), off the item every send rewrites.
              ...(ban ? banWrites(this.table, roomId, ban) : []),
              ...gateWrites(this.table, roomId, gateKeyId, nowSeconds),
            ],
          }),
        );
        return true;
      } catch (error) {
        // Refused by the room's condition (a transaction is cancelled as a whole): not the owner, or the room ended.
        if (cancellationCodes(error)?.[0] === 'ConditionalCheckFailed') return false;
        throw error;
      }
    });
    if (!changed) return undefined;
    // The room as this change left it (a transaction returns no item): read after the commit, with the change's own
    // values over any a later owner's change wrote since, so the caller shares the key it wrote, not another's.
    const room = await this.get(roomId);
    if (!room) return undefined;
    if (change.kind === 'close') return { ...room, closedAt: change.closedAt, ttl: nowSeconds };
    return {
      ...room,
      inviteKey: change.inviteKey,
      keyId: gateKeyId,
      keyRequired: true,
      ...(removing && {
        removedNames: new Set([
          ...(room.removedNames ?? []),
          change.removedName as string,
          ...(change.otherNames ?? []),
        ]),
      }),
    };
  }

  async moderate(
    roomId: string,
    actor: RoomActor,
    nowSeconds: number,
    change: ModerationChange,
  ): Promise<Room | undefined> {
    const names: Record<string, string> = { '#ttl': 'ttl' };
    const values: Record<string, unknown> = {
      ':owner': actor.userId ?? '',
      ':ownerKey': actor.key,
      ':now': nowSeconds,
    };
    // Who may: the owner (its user id, or its key in the room), or (where the change allows it) a moderator; only
    // while the room lives.
    const owner = '(ownerId = :owner OR ownerKey = :ownerKey)';
    const may = actor.moderator ? `(${owner} OR attribute_exists(#actor))` : owner;
    if (actor.moderator) names['#actor'] = `${MOD_PREFIX}${actor.key}`;
    const conditions = [may, 'attribute_not_exists(closedAt)', '(attribute_not_exists(#ttl) OR #ttl > :now)'];
    let update: string;
    const notOwner = (userId: string | undefined, key: string) => {
      conditions.push('(attribute_not_exists(ownerKey) OR ownerKey <> :targetKey)');
      values[':targetKey'] = key;
      if (userId === undefined) return;
      conditions.push('ownerId <> :target');
      values[':target'] = userId;
    };
    switch (change.kind) {
      case 'role':
        names['#mod'] = `${MOD_PREFIX}${change.key}`;
        notOwner(change.userId, change.key);
        if (change.role === 'moderator') {
          update = 'SET #mod = :name';
          values[':name'] = change.name;
        } else update = 'REMOVE #mod';
        break;
      case 'mute': {
        names['#mute'] = `${MUTE_PREFIX}${change.key}`;
        names['#mod'] = `${MOD_PREFIX}${change.key}`;
        notOwner(change.userId, change.key);
        conditions.push('attribute_not_exists(#mod)');
        values[':mute'] = { until: change.until, name: change.name };
        // Mutes already over go in the same write: the room's item stays as small as its live entries.
        const expired = change.expired.filter((key) => key !== change.key).slice(0, 20);
        expired.forEach((key, i) => {
          names[`#old${i}`] = `${MUTE_PREFIX}${key}`;
        });
        update = `SET #mute = :mute${expired.length > 0 ? ` REMOVE ${expired.map((_, i) => `#old${i}`).join(', ')}` : ''}`;
        break;
      }
      case 'unmute':
        names['#mute'] = `${MUTE_PREFIX}${change.key}`;
        update = 'REMOVE #mute';
        break;
      case 'unban':
        return this.unban(roomId, change, conditions, names, values);
      case 'slowMode':
        values[':seconds'] = change.seconds;
        update = 'SET slowModeSeconds = :seconds';
        break;
    }
    try {
      const { Attributes } = await retryingConflicts(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { roomId },
            UpdateExpression: update,
            ConditionExpression: conditions.join(' AND '),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return Attributes as Room | undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  async banOf(roomId: string, key: string): Promise<BanItem | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { roomId: banItemId(roomId, key) },
        ProjectionExpression: 'roomCreatedAt',
        ConsistentRead: true,
      }),
    );
    return Item === undefined ? undefined : { roomCreatedAt: String(Item.roomCreatedAt) };
  }

  async bannedNamed(room: Pick<Room, 'roomId' | 'createdAt'>, name: string): Promise<string[]> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { roomId: banRosterId(room.roomId) },
        ConsistentRead: true,
      }),
    );
    // Entries of an earlier room under the same code are not this room's.
    return Object.entries(Item ?? {})
      .filter(([attribute, entry]) => {
        const ban = entry as { name?: string; room?: string };
        return attribute.startsWith(BAN_PREFIX) && ban.name === name && ban.room === room.createdAt;
      })
      .map(([attribute]) => attribute.slice(BAN_PREFIX.length));
  }

  /**
   * An unban: the ban's item and roster entry deleted, a ban on the room's own item (written before bans had items)
   * removed, and the name taken from the removed names (the member may come back under it), in one transaction
   * conditional on the caller's role as every moderation change is.
   */
  private async unban(
    roomId: string,
    change: Extract<ModerationChange, { kind: 'unban' }>,
    conditions: string[],
    names: Record<string, string>,
    values: Record<string, unknown>,
  ): Promise<Room | undefined> {
    const done = await retryingConflicts(async () => {
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.table,
                  Key: { roomId },
                  UpdateExpression: 'REMOVE #ban DELETE removedNames :name',
                  ConditionExpression: [...conditions, 'createdAt = :created'].join(' AND '),
                  ExpressionAttributeNames: { ...names, '#ban': `${BAN_PREFIX}${change.key}` },
                  ExpressionAttributeValues: {
                    ...values,
                    ':name': new Set([change.name]),
                    ':created': change.roomCreatedAt,
                  },
                },
              },
              { Delete: { TableName: this.table, Key: { roomId: banItemId(roomId, change.key) } } },
              {
                Update: {
                  TableName: this.table,
                  Key: { roomId: banRosterId(roomId) },
                  UpdateExpression: 'REMOVE #ban',
                  ExpressionAttributeNames: { '#ban': `${BAN_PREFIX}${change.key}` },
                },
              },
            ],
          }),
        );
        return true;
      } catch (error) {
        if (cancellationCodes(error)?.[0] === 'ConditionalCheckFailed') return false;
        throw error;
      }
    });
    return done ? this.get(roomId) : undefined;
  }

  /**
   * The room's former key ids once its current key is replaced: the stored ones and the current key's, the last
   * FORMER_KEYS of them. Read (strongly consistent, three small attributes) before the rotation's transaction: an
   * expression cannot append one attribute's value to another. Two rotations at once may both keep the same key and
   * lose the one between them, a key that was current for the length of one transaction.
   */
  private async formerKeyIdsAfter(roomId: string): Promise<string[]> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { roomId },
        ProjectionExpression: 'inviteKey, keyId, formerKeyIds',
        ConsistentRead: true,
      }),
    );
    const room = Item as Pick<Room, 'inviteKey' | 'keyId' | 'formerKeyIds'> | undefined;
    const current = room?.keyId ?? (room?.inviteKey === undefined ? undefined : keyIdOf(room.inviteKey));
    const kept = room?.formerKeyIds ?? [];
    return (current === undefined ? kept : [...kept, current]).slice(-FORMER_KEYS);
  }
}
