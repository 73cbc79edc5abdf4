import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { isGapMarker } from '#core/gaps';
import { type ModerationItem, moderationItemId, roleIn, withModeration } from '#core/moderation';
import type { Room, RoomLife } from '#core/ports';
import type { ChatMessage } from '#core/protocol';
import { toMessage } from '#core/storedItems';
import { applied, isConditionFailure } from '#platform/aws/conditions';
import { retryingConflicts } from '#platform/aws/conflicts';
import { wakes } from './appending';
import type { NewSendRecord, SendRecord, SendStore, SeqTaken } from './ports';
import {
  asRecord,
  moderationRefusal,
  putEvent,
  putGap,
  putRecord,
  type SendTables,
  seqRefusal,
  takeSeqUpdate,
} from './roomEvents';

/** The item a refused conditional write returned (`ALL_OLD`), which the document client leaves in DynamoDB's form. */
function itemOf(error: unknown): Record<string, unknown> | undefined {
  const item = (error as { Item?: Parameters<typeof unmarshall>[0] }).Item;
  return item ? unmarshall(item) : undefined;
}

/**
 * The DynamoDB adapter of SendStore: the room's seq taken by an atomic counter, then the send record and the message
 * each put if absent, and the record's publishing claim taken and released. No transaction: senders of one room never
 * meet each other (docs/RELIABILITY.md, "The send path").
 */
export class DynamoSendStore implements SendStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: SendTables,
  ) {}

  async takeSeq(roomId: string, at: number, life?: RoomLife): Promise<SeqTaken> {
    let Attributes: Record<string, unknown> | undefined;
    try {
      // An owner's change (a rotation, removal or close) holds the room's item in a transaction for a moment: wait it
      // out.
      ({ Attributes } = await retryingConflicts(() =>
        this.db.send(new UpdateCommand(takeSeqUpdate(this.tables, roomId, at, life))),
      ));
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return seqRefusal(itemOf(error), life);
    }
    // The previous values: this seq is the next, and a room found asleep (or awake for too long) is woken.
    const awakeSince = Attributes?.awake === undefined ? undefined : Number(Attributes.awake);
    const seq = Number(Attributes?.seq ?? 0) + 1;
    const wakesRoom = wakes(awakeSince, at);
    // A room with moderation state: its moderation item, read after the take (core/moderation.ts).
    const room =
      life?.memberKey !== undefined && Attributes?.moderated === true
        ? withModeration(Attributes as unknown as Room, await this.moderationOf(roomId))
        : (Attributes as unknown as Room | undefined);
    const refused = life && room ? moderationRefusal(room, life) : undefined;
    if (refused) return { ...refused, given: { seq, wakes: wakesRoom } };
    const slowModeSeconds = Number(Attributes?.slowModeSeconds ?? 0);
    return {
      kind: 'taken',
      seq,
      wakes: wakesRoom,
      ...(room?.roomWords !== undefined && { roomWords: room.roomWords }),
      // The room's name, read from the previous values the take returns anyway: no read of its own.
      ...(life && { roomName: typeof Attributes?.name === 'string' ? Attributes.name : null }),
      // Slow mode binds members only: the owner and the moderators are exempt (core/moderation.ts).
      ...(slowModeSeconds > 0 && {
        slowModeSeconds,
        exempt:
          life?.memberKey !== undefined &&
          roleIn(room, { userId: life.userId, key: life.memberKey }) !== 'member',
      }),
    };
  }

  /**
   * The room's moderation item, strongly consistent: a mute or removal that answered before the take is in it (its
   * transaction marked the room `moderated`, which the take read).
   */
  private async moderationOf(roomId: string): Promise<ModerationItem | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tables.rooms,
        Key: { roomId: moderationItemId(roomId) },
        ConsistentRead: true,
      }),
    );
    return Item as ModerationItem | undefined;
  }

  async raiseSeq(roomId: string, seq: number): Promise<void> {
    await applied(
      retryingConflicts(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tables.rooms,
            Key: { roomId },
            UpdateExpression: 'SET seq = :seq, deliveredSeq = if_not_exists(deliveredSeq, :seq)',
            ConditionExpression: 'attribute_exists(roomId) AND seq < :seq',
            ExpressionAttributeValues: { ':seq': seq },
          }),
        ),
      ),
    );
  }

  async newestSeq(roomId: string): Promise<number> {
    const { Items } = await this.db.send(
      new QueryCommand({
        TableName: this.tables.messages,
        KeyConditionExpression: 'roomId = :room',
        ExpressionAttributeValues: { ':room': roomId },
        ProjectionExpression: 'seq',
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    return Number(Items?.[0]?.seq ?? 0);
  }

  async recorded(sendKey: string): Promise<SendRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tables.sends, Key: { sendKey }, ConsistentRead: true }),
    );
    return Item ? asRecord(Item) : undefined;
  }

  async record(
    event: { seq: number; messageId: string; sentAt: string },
    record: NewSendRecord,
  ): Promise<SendRecord | undefined> {
    try {
      await retryingConflicts(() => this.db.send(new PutCommand(putRecord(this.tables, event, record))));
      return undefined;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const item = itemOf(error);
      if (item) return asRecord(item);
      // Refused without the item (it expired between the condition and the answer): read what is there.
      const found = await this.recorded(record.sendKey);
      if (!found) throw error;
      return found;
    }
  }

  async moveRecord(sendKey: string, attempt: string, from: number, to: number): Promise<boolean> {
    return applied(
      retryingConflicts(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tables.sends,
            Key: { sendKey },
            UpdateExpression: 'SET seq = :to',
            ConditionExpression: 'attempt = :me AND seq = :from',
            ExpressionAttributeValues: { ':me': attempt, ':from': from, ':to': to },
          }),
        ),
      ),
    );
  }

  async takeOverRecord(sendKey: string, attempt: string, from: number, to: number): Promise<boolean> {
    return applied(
      retryingConflicts(() =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tables.sends,
            Key: { sendKey },
            UpdateExpression: 'SET seq = :to, attempt = :me',
            ConditionExpression: 'seq = :from',
            ExpressionAttributeValues: { ':me': attempt, ':from': from, ':to': to },
          }),
        ),
      ),
    );
  }

  async isGap(roomId: string, seq: number): Promise<boolean> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tables.messages, Key: { roomId, seq }, ConsistentRead: true }),
    );
    return Item !== undefined && isGapMarker(Item);
  }

  async put(message: ChatMessage, expiresAt: number): Promise<boolean> {
    return applied(
      retryingConflicts(() => this.db.send(new PutCommand(putEvent(this.tables, message, expiresAt)))),
    );
  }

  async markGap(roomId: string, seq: number, expiresAt: number): Promise<void> {
    await applied(
      retryingConflicts(() => this.db.send(new PutCommand(putGap(this.tables, roomId, seq, expiresAt)))),
    );
  }

  async message(roomId: string, seq: number): Promise<ChatMessage | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tables.messages, Key: { roomId, seq }, ConsistentRead: true }),
    );
    return Item && Item.gap !== true ? toMessage(Item) : undefined;
  }

  async replyTarget(
    roomId: string,
    seq: number,
    nowSeconds: number,
  ): Promise<{ username: string; deleted: boolean } | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.tables.messages,
        Key: { roomId, seq },
        ProjectionExpression: 'username, deleted, #change, gap, #ttl',
        ExpressionAttributeNames: { '#change': 'change', '#ttl': 'ttl' },
      }),
    );
    // A change event or a gap marker holds a seq but is no message; an item past its TTL may linger until deleted.
    if (!Item || Item.change !== undefined || Item.gap === true) return undefined;
    if (typeof Item.ttl === 'number' && Item.ttl <= nowSeconds) return undefined;
    return { username: String(Item.username), deleted: Item.deleted !== undefined };
  }
}
