import {
  type DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { pinsWrite, readPins } from '#pins/dynamoPins';
import { unlessRefused } from '#platform/aws/conditions';
import type { Pin } from '#protocol';
import type { StoredChange, StoredMessage } from './changeFrames';
import type { ChangeOutcome, ChangeStore, PlannedChange, SendRecord, TargetUpdate } from './ports';
import {
  asRecord,
  cancellationReasons,
  conditionFailed,
  putEvent,
  putRecord,
  recordFound,
  type SendTables,
} from './roomEvents';

/**
 * The write of the message's item that a change makes, as its kind planned it (changeKinds/kind.ts TargetUpdate):
 * its new state, only if no other change came first. Every attribute goes through a name placeholder, so a kind may
 * set any (`text` is a reserved word).
 */
function targetWrite(update: TargetUpdate, event: StoredChange, readChangeSeq: number | undefined) {
  const names: Record<string, string> = { '#seq': 'seq' };
  const values: Record<string, unknown> = { ':change': event.seq };
  const set = ['changeSeq = :change'];
  Object.entries(update.set ?? {}).forEach(([field, value], i) => {
    names[`#set${i}`] = field;
    values[`:set${i}`] = value;
    set.push(`#set${i} = :set${i}`);
  });
  if (update.appendSeq) {
    names['#append'] = update.appendSeq;
    Object.assign(values, { ':none': [], ':appended': [event.seq] });
    set.push('#append = list_append(if_not_exists(#append, :none), :appended)');
  }
  const remove = (update.remove ?? []).map((field, i) => {
    names[`#remove${i}`] = field;
    return `#remove${i}`;
  });
  if (readChangeSeq !== undefined) values[':read'] = readChangeSeq;
  return {
    UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
    // The message exists (not deleted by its TTL), is as it was read, and a delete has not come first.
    ConditionExpression: `attribute_exists(#seq) AND attribute_not_exists(deleted) AND ${
      readChangeSeq === undefined ? 'attribute_not_exists(changeSeq)' : 'changeSeq = :read'
    }`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/**
 * The changes' one transaction, over the message's own items: the event under the seq it took (as a send takes one),
 * the message, the edits a delete scrubs, the send record. The room's item is not in it: changes never hold up sends.
 */
export class DynamoChangeStore implements ChangeStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tables: SendTables,
  ) {}

  async item(roomId: string, seq: number): Promise<StoredMessage | StoredChange | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tables.messages, Key: { roomId, seq }, ConsistentRead: true }),
    );
    return Item as StoredMessage | StoredChange | undefined;
  }

  pins(roomId: string): Promise<Pin[]> {
    return readPins(this.db, this.tables.messages, roomId);
  }

  async record(sendKey: string): Promise<SendRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tables.sends, Key: { sendKey }, ConsistentRead: true }),
    );
    return Item ? asRecord(Item) : undefined;
  }

  async flagReacted(roomId: string, seq: number): Promise<void> {
    await unlessRefused(
      this.db.send(
        new UpdateCommand({
          TableName: this.tables.messages,
          Key: { roomId, seq },
          UpdateExpression: 'SET reacted = :true',
          ConditionExpression: 'attribute_exists(#seq) AND attribute_not_exists(reacted)',
          ExpressionAttributeNames: { '#seq': 'seq' },
          ExpressionAttributeValues: { ':true': true },
        }),
      ),
    );
  }

  async apply(change: PlannedChange): Promise<ChangeOutcome> {
    const { event, record, update } = change;
    const { roomId } = event;
    const scrubs = update?.scrub ?? [];
    // No update (a reaction: its state is in the Reactions table): the transaction holds only the event and the record.
    const target =
      update === undefined
        ? []
        : [
            {
              Update: {
                TableName: this.tables.messages,
                Key: { roomId, seq: event.targetSeq },
                ...targetWrite(update, event, change.readChangeSeq),
              },
            },
          ];
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: putEvent(this.tables, event, change.expiresAt) },
            ...target,
            // A delete leaves no copy of the text: each earlier edit event loses its text in the same write.
            ...scrubs.map((editSeq) => ({
              Update: {
                TableName: this.tables.messages,
                Key: { roomId, seq: editSeq },
                UpdateExpression: 'SET scrubbed = :true REMOVE #text',
                ConditionExpression: 'attribute_exists(#seq)',
                ExpressionAttributeNames: { '#text': 'text', '#seq': 'seq' },
                ExpressionAttributeValues: { ':true': true },
              },
            })),
            // A pin (or a delete of a pinned message) writes the room's pins item, held to the room's cap.
            ...(update?.pins
              ? [{ Update: pinsWrite(this.tables.messages, roomId, update.pins, change.expiresAt) }]
              : []),
            ...(record ? [{ Put: putRecord(this.tables, event, record) }] : []),
          ],
        }),
      );
      return { kind: 'stored' };
    } catch (error) {
      const reasons = cancellationReasons(error);
      const [put] = reasons;
      const targets = reasons.slice(1, record ? -1 : undefined);
      const pins = update?.pins ? targets.pop() : undefined;
      const sentBefore = recordFound(record ? reasons.at(-1) : undefined);
      if (sentBefore) return { kind: 'sentBefore', record: sentBefore };
      if (reasons.some((reason) => reason.Code === 'TransactionConflict')) return { kind: 'conflict' };
      if (conditionFailed(put)) return { kind: 'seqOccupied' };
      // The message changed, or an edit event to scrub is gone (its TTL): read the message again.
      if (targets.some(conditionFailed)) return { kind: 'targetChanged' };
      // The message is as read but the pins item is not: at the cap for a pin (a racing pin came first).
      if (conditionFailed(pins))
        return update?.pins && 'add' in update.pins ? { kind: 'pinsFull' } : { kind: 'targetChanged' };
      throw error;
    }
  }
}
