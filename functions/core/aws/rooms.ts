import { createHash } from 'node:crypto';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { OwnerChange, Room, RoomStore } from '#core/ports';
import { applied, unlessRefused } from '#platform/aws/conditions';
import { retryingConflicts } from '#platform/aws/conflicts';

/**
 * A room's key id: a hash of its invite key, written with the key (the room store), so that `myrooms` tells whether a
 * member's stored key is still the room's without reading the key itself (its IAM policy may not read `inviteKey`).
 */
export function keyIdOf(inviteKey: string): string {
  return createHash('sha256').update(inviteKey).digest('base64url').slice(0, 22);
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

  async changeAsOwner(
    roomId: string,
    ownerId: string,
    nowSeconds: number,
    change: OwnerChange,
  ): Promise<Room | undefined> {
    const removing = change.kind === 'rotateKey' && change.removedName !== undefined;
    // The room's item is in every send's transaction: in a busy room the write may meet one and is tried again.
    const changed = await retryingConflicts(() =>
      unlessRefused(
        this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { roomId },
            UpdateExpression:
              change.kind === 'rotateKey'
                ? `SET inviteKey = :key, keyId = :keyId, keyRequired = :true${removing ? ' ADD removedNames :removed' : ''}`
                : 'SET closedAt = :closedAt, #ttl = :now',
            // Only the owner, and only while the room lives: neither closed nor past its TTL (not yet deleted).
            ConditionExpression:
              'ownerId = :owner AND attribute_not_exists(closedAt) AND (attribute_not_exists(#ttl) OR #ttl > :now)',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: {
              ':owner': ownerId,
              ':now': nowSeconds,
              ...(change.kind === 'rotateKey'
                ? {
                    ':key': change.inviteKey,
                    ':keyId': keyIdOf(change.inviteKey),
                    ':true': true,
                    ...(removing && { ':removed': new Set([change.removedName]) }),
                  }
                : { ':closedAt': change.closedAt }),
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      ),
    );
    return changed?.Attributes as Room | undefined;
  }
}
