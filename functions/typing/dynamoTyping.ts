import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Member } from '../domain/ports';
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
    private readonly roomIndex: string,
  ) {}

  noteStart(
    connectionId: string,
    roomId: string,
    at: number,
    previous: number | undefined,
  ): Promise<boolean> {
    return this.conditional({
      Key: { connectionId },
      UpdateExpression: 'SET typingAt = :at',
      ConditionExpression:
        previous === undefined
          ? 'roomId = :room AND attribute_not_exists(typingAt)'
          : 'roomId = :room AND typingAt = :previous',
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
        'roomId = :room AND typingAt = :at AND (attribute_not_exists(typingStoppedAt) OR typingStoppedAt <> :at)',
      ExpressionAttributeValues: { ':at': typingAt, ':room': roomId },
    });
  }

  async membersUpTo(roomId: string, limit: number): Promise<Member[]> {
    const members: Member[] = [];
    let startKey: Record<string, unknown> | undefined;
    // `Limit` bounds the items a page reads, so a room of any size costs at most limit + 1 items here.
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: this.roomIndex,
          KeyConditionExpression: 'roomId = :room',
          ExpressionAttributeValues: { ':room': roomId },
          ProjectionExpression: 'connectionId, username',
          Limit: limit + 1 - members.length,
          ExclusiveStartKey: startKey,
        }),
      );
      members.push(...((page.Items ?? []) as Member[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey && members.length <= limit);
    return members;
  }

  private async conditional(update: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>) {
    try {
      await this.db.send(new UpdateCommand({ TableName: this.table, ...update }));
      return true;
    } catch (error) {
      if (
        error instanceof ConditionalCheckFailedException ||
        (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException'
      )
        return false;
      throw error;
    }
  }
}
