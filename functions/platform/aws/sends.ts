import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AppendOutcome, RoomLife, SendStore } from '../../domain/ports';
import type { ChatMessage } from '../protocol';
import { applied } from './conditions';
import { toMessage } from './messages';
import {
  cancellationReasons,
  type EventRecord,
  putRecord,
  recordFound,
  roomRefusal,
  type SendTables,
  takeSeqAndPut,
} from './roomEvents';

/**
 * The DynamoDB adapter of SendStore: a message appended in one transaction with the room's seq and its send record,
 * and the record's publishing claim taken and released.
 */
export class DynamoSendStore implements SendStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: SendTables,
  ) {}

  async append(
    message: ChatMessage,
    roomSeq: number | undefined,
    expiresAt: number,
    record?: EventRecord,
    life?: RoomLife,
  ): Promise<AppendOutcome> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            ...takeSeqAndPut(this.tables, message, roomSeq, expiresAt, life),
            ...putRecord(this.tables, message, record),
          ],
        }),
      );
      return { kind: 'stored' };
    } catch (error) {
      const [room, stored, sent] = cancellationReasons(error);
      const sentBefore = recordFound(sent);
      if (sentBefore) return { kind: 'sentBefore', record: sentBefore };
      if ([room, stored, sent].some((reason) => reason?.Code === 'TransactionConflict'))
        return { kind: 'conflict' };
      const refused = roomRefusal(room, life);
      if (refused) return refused;
      // The room does not exist (only the lobby may appear here), or the seq holds a message the room never counted.
      throw error;
    }
  }

  async message(roomId: string, seq: number): Promise<ChatMessage | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tables.messages, Key: { roomId, seq }, ConsistentRead: true }),
    );
    return Item ? toMessage(Item) : undefined;
  }

  async releasePublishing(sendKey: string, publisher: string): Promise<void> {
    await applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.sends,
          Key: { sendKey },
          UpdateExpression: 'REMOVE publisher',
          ConditionExpression: 'publisher = :me',
          ExpressionAttributeValues: { ':me': publisher },
        }),
      ),
    );
  }

  async takePublishing(
    sendKey: string,
    publisher: string,
    lapse?: { now: number; until: number },
  ): Promise<boolean> {
    return applied(
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.sends,
          Key: { sendKey },
          ...(lapse
            ? {
                UpdateExpression: 'SET publisher = :me, publishUntil = :until',
                ConditionExpression:
                  'attribute_exists(sendKey) AND (attribute_not_exists(publisher) OR publishUntil < :now)',
                ExpressionAttributeValues: { ':me': publisher, ':now': lapse.now, ':until': lapse.until },
              }
            : {
                UpdateExpression: 'SET publisher = :me',
                ConditionExpression: 'attribute_exists(sendKey) AND attribute_not_exists(publisher)',
                ExpressionAttributeValues: { ':me': publisher },
              }),
        }),
      ),
    );
  }
}
