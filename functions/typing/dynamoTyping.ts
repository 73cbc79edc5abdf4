import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { roomMemberPages } from '#core/aws/roomMembers';
import type { SubscriptionTables } from '#core/aws/subscriptions';
import type { Member } from '#core/ports';
import { applied } from '#platform/aws/conditions';
import type { TypingStore } from './relay';

/**
 * The typing marks on the connection item (relay.ts, TypingMarks) and a bounded read of a room's members. Each write
 * is conditional on the connection still being in the room the frame was read in, so a member that moved on since
 * relays nothing to its old room.
 */
export class DynamoTypingStore implements TypingStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    /** Where a room's members are read: the subscriptions table and its RoomSubscribers index. */
    private readonly subscriptions: SubscriptionTables,
    /** The Limits table, holding each signed-in member's typing turn per room (`typing#<roomId>#<userId>`). */
    private readonly limitsTable: string,
  ) {}

  async takeMemberTurn(roomId: string, member: string, at: number, intervalMs: number): Promise<boolean> {
    return applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.limitsTable,
          Key: { limitKey: `typing#${roomId}#${member}` },
          UpdateExpression: 'SET turnAt = :at, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(turnAt) OR turnAt <= :due',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          // Kept a minute past its interval (TTL deletes late; the condition, not the TTL, decides).
          ExpressionAttributeValues: {
            ':at': at,
            ':due': at - intervalMs,
            ':ttl': Math.ceil((at + intervalMs) / 1000) + 60,
          },
        }),
      ),
    );
  }

  noteStart(
    connectionId: string,
    roomId: string,
    at: number,
    previous: number | undefined,
  ): Promise<boolean> {
    return this.conditional({
      Key: { connectionId },
      // The room is any the connection follows (the route checked it: core/websocket.ts), not only the one it
      // shows; it is noted with the heartbeat, so a stop is relayed to the room of its start only.
      UpdateExpression: 'SET typingAt = :at, typingRoom = :room',
      ConditionExpression:
        previous === undefined
          ? 'attribute_exists(connectionId) AND attribute_not_exists(typingAt)'
          : 'attribute_exists(connectionId) AND typingAt = :previous',
      ExpressionAttributeValues: {
        ':at': at,
        ':room': roomId,
        ...(previous !== undefined && { ':previous': previous }),
      },
    });
  }

  noteStop(connectionId: string, roomId: string, typingAt: number): Promise<boolean> {
    return this.conditional({
      Key: { connectionId },
      UpdateExpression: 'SET typingStoppedAt = :at',
      ConditionExpression:
        'typingRoom = :room AND typingAt = :at AND (attribute_not_exists(typingStoppedAt) OR typingStoppedAt <> :at)',
      ExpressionAttributeValues: { ':at': typingAt, ':room': roomId },
    });
  }

  async membersUpTo(roomId: string, limit: number): Promise<Member[]> {
    const members: Member[] = [];
    // One more than the limit tells the caller there are more; pages read no further, whatever the room's size.
    for await (const page of roomMemberPages(
      this.db,
      { ...this.subscriptions, roomId },
      () => limit + 1 - members.length,
    )) {
      members.push(...page);
      if (members.length > limit) break;
    }
    return members;
  }

  private conditional(update: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>) {
    return applied(this.db.send(new UpdateCommand({ TableName: this.table, ...update })));
  }
}
