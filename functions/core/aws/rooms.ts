import { createHash } from 'node:crypto';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  BAN_PREFIX,
  type BanItem,
  banItemId,
  banRosterId,
  type ModerationItem,
  moderationItemId,
  withModeration,
} from '#core/moderation';
import type { ModerationChange, OwnerChange, Room, RoomActor, RoomStore } from '#core/ports';
import { stableHash } from '#core/stableHash';
import { applied, cancellationCodes, isConditionFailure } from '#platform/aws/conditions';
import { retryingConflicts } from '#platform/aws/conflicts';
import {
  type ActingAs,
  applyChange,
  applyUnban,
  type ItemUpdate,
  moderationSide,
  ownerWrites,
  roomSide,
} from './roomModeration';

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
    const room = Item as Room | undefined;
    // The moderation item is read only for a room that has one (core/moderation.ts).
    if (!room?.moderated) return room;
    return withModeration(room, await this.moderationItem(roomId));
  }

  /** The room's moderation item (core/moderation.ts), strongly consistent. */
  private async moderationItem(roomId: string): Promise<ModerationItem | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { roomId: moderationItemId(roomId) },
        ConsistentRead: true,
      }),
    );
    return Item as ModerationItem | undefined;
  }

  /**
   * Whether a moderation write was refused by an item an earlier room under the same code left (its `room` is not
   * `createdAt`): if so it is deleted (only while it is still that room's), and the write may be made again.
   */
  private async clearedStale(roomId: string, createdAt: string): Promise<boolean> {
    const item = await this.moderationItem(roomId);
    if (item?.room === undefined || item.room === createdAt) return false;
    await applied(
      this.db.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { roomId: moderationItemId(roomId) },
          ConditionExpression: '#room = :stale',
          ExpressionAttributeNames: { '#room': 'room' },
          ExpressionAttributeValues: { ':stale': item.room },
        }),
      ),
    );
    return true;
  }

  /**
   * One transaction of a moderation write: the room's side, the moderation item's (when given) and `more`. 'done';
   * 'room' or 'moderation' when that side's condition refused it; 'stale' when the moderation item was an earlier
   * room's and was cleared (write it again).
   */
  private async moderationTransaction(
    roomId: string,
    createdAt: string,
    room: { write(): object } | object,
    moderation: ItemUpdate | undefined,
    more: object[],
  ): Promise<'done' | 'room' | 'moderation' | 'stale'> {
    const roomWrite = 'write' in room ? (room as { write(): object }).write() : room;
    return retryingConflicts(async () => {
      try {
        await this.db.send(
          new TransactWriteCommand({
            TransactItems: [
              { Update: roomWrite },
              ...(moderation ? [{ Update: moderation.write() }] : []),
              ...more,
            ] as NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>,
          }),
        );
        return 'done' as const;
      } catch (error) {
        const codes = cancellationCodes(error);
        if (codes?.[0] === 'ConditionalCheckFailed') return 'room' as const;
        if (moderation && codes?.[1] === 'ConditionalCheckFailed')
          return (await this.clearedStale(roomId, createdAt)) ? ('stale' as const) : ('moderation' as const);
        throw error;
      }
    });
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
    // As the owner, then (a ban) as a moderator: the two are checked on different items (roomModeration.ts).
    const attempts: ActingAs[] = moderatorKey === undefined ? ['owner'] : ['owner', 'moderator'];
    let changed = false;
    for (let i = 0; i < attempts.length && !changed; i++) {
      const as = attempts[i] as ActingAs;
      for (let tries = 0; tries < 2; tries++) {
        const { former, createdAt = '' } = await this.beforeRotation(roomId, change);
        // A room without a `createdAt` has no moderation item to write (a close or a rotation alone needs none).
        if (createdAt === '' && (removing || ban || as === 'moderator')) return undefined;
        const writes = ownerWrites(
          this.table,
          roomId,
          ownerId,
          nowSeconds,
          change,
          former,
          as,
          as === 'owner' ? callerKey : moderatorKey,
          createdAt,
          gateKeyId,
        );
        // The room's change, its moderation item's, a ban's items (off the item every send rewrites) and every gate's.
        const outcome = await this.moderationTransaction(roomId, createdAt, writes.room, writes.moderation, [
          ...(ban ? banWrites(this.table, roomId, ban) : []),
          ...gateWrites(this.table, roomId, gateKeyId, nowSeconds),
        ]);
        if (outcome === 'stale') continue;
        changed = outcome === 'done';
        break;
      }
    }
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
    if (change.kind === 'slowMode') return this.slowMode(roomId, actor, nowSeconds, change.seconds);
    // As the owner, then (where allowed) as a moderator: the two are checked on different items (roomModeration.ts).
    for (const as of (actor.moderator ? ['owner', 'moderator'] : ['owner']) as ActingAs[]) {
      for (let tries = 0; tries < 2; tries++) {
        const room = roomSide(this.table, roomId, actor, as, nowSeconds);
        const moderation = moderationSide(this.table, roomId, actor, as);
        const more: object[] = [];
        if (change.kind === 'unban') {
          applyUnban(room, moderation, change.key, change.name);
          more.push(...this.unbanWrites(roomId, change.key));
        } else applyChange(room, moderation, change);
        const outcome = await this.moderationTransaction(roomId, actor.roomCreatedAt, room, moderation, more);
        if (outcome === 'done') return this.get(roomId);
        if (outcome !== 'stale') break;
      }
    }
    return undefined;
  }

  /** Slow mode, on the room's item (the send's take returns it): by the owner, while the room lives. */
  private async slowMode(
    roomId: string,
    actor: RoomActor,
    nowSeconds: number,
    seconds: number,
  ): Promise<Room | undefined> {
    try {
      const { Attributes } = await retryingConflicts(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { roomId },
            UpdateExpression: 'SET slowModeSeconds = :seconds',
            ConditionExpression:
              '(ownerId = :owner OR ownerKey = :ownerKey) AND attribute_not_exists(closedAt) AND (attribute_not_exists(#ttl) OR #ttl > :now)',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: {
              ':owner': actor.userId ?? '',
              ':ownerKey': actor.key,
              ':now': nowSeconds,
              ':seconds': seconds,
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      const room = Attributes as Room | undefined;
      return room?.moderated ? withModeration(room, await this.moderationItem(roomId)) : room;
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
    return (await this.bans(room)).filter((ban) => ban.name === name).map((ban) => ban.key);
  }

  async bans(room: Pick<Room, 'roomId' | 'createdAt'>): Promise<{ key: string; name: string }[]> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { roomId: banRosterId(room.roomId) },
        ConsistentRead: true,
      }),
    );
    // Entries of an earlier room under the same code are not this room's.
    return Object.entries(Item ?? {}).flatMap(([attribute, entry]) => {
      const ban = entry as { name?: string; room?: string };
      return attribute.startsWith(BAN_PREFIX) && typeof ban.name === 'string' && ban.room === room.createdAt
        ? [{ key: attribute.slice(BAN_PREFIX.length), name: ban.name }]
        : [];
    });
  }

  /** An unban's other writes: the ban's item deleted, its roster entry removed. */
  private unbanWrites(roomId: string, key: string): object[] {
    return [
      { Delete: { TableName: this.table, Key: { roomId: banItemId(roomId, key) } } },
      {
        Update: {
          TableName: this.table,
          Key: { roomId: banRosterId(roomId) },
          UpdateExpression: 'REMOVE #ban',
          ExpressionAttributeNames: { '#ban': `${BAN_PREFIX}${key}` },
        },
      },
    ];
  }

  /**
   * The room's `createdAt` and, for a rotation, its former key ids once its current key is replaced: the stored ones
   * and the current key's, the last FORMER_KEYS of them. Read (strongly consistent, four small attributes) before the
   * change's transaction: an expression cannot append one attribute's value to another. Two rotations at once may both
   * keep the same key and lose the one between them, a key that was current for the length of one transaction.
   */
  private async beforeRotation(
    roomId: string,
    change: OwnerChange,
  ): Promise<{ former: string[]; createdAt?: string }> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { roomId },
        ProjectionExpression: 'inviteKey, keyId, formerKeyIds, createdAt',
        ConsistentRead: true,
      }),
    );
    const room = Item as Pick<Room, 'inviteKey' | 'keyId' | 'formerKeyIds' | 'createdAt'> | undefined;
    if (change.kind !== 'rotateKey') return { former: [], createdAt: room?.createdAt };
    const current = room?.keyId ?? (room?.inviteKey === undefined ? undefined : keyIdOf(room.inviteKey));
    const kept = room?.formerKeyIds ?? [];
    return {
      former: (current === undefined ? kept : [...kept, current]).slice(-FORMER_KEYS),
      createdAt: room?.createdAt,
    };
  }
}
