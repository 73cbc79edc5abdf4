import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { SendTables } from '../../../platform/aws/dynamo';
import type { Room, SendRecord } from '../../ports';
import { roomEnd } from '../../rooms/roomLife';
import type { StoredChange, StoredMessage } from './frames';
import type { ChangeOutcome, ChangeStore, PlannedChange, TargetUpdate } from './ports';

/** DynamoDB's cancellation reasons of a transaction, in the order of its items (items in attribute-value form). */
type Reasons = { Code?: string; Item?: Parameters<typeof unmarshall>[0] }[];

/** The write of the message's item that a change makes: its new state, only if no other change came first. */
function targetWrite(update: TargetUpdate, event: StoredChange, readChangeSeq: number | undefined) {
  const names: Record<string, string> = { '#seq': 'seq' };
  const values: Record<string, unknown> = { ':change': event.seq };
  let set = 'changeSeq = :change';
  let remove = '';
  if (update.kind === 'edit') {
    set += ', #text = :text, editedAt = :at, editSeqs = list_append(if_not_exists(editSeqs, :none), :edit)';
    Object.assign(names, { '#text': 'text' });
    Object.assign(values, {
      ':text': update.text,
      ':at': update.editedAt,
      ':none': [],
      ':edit': [event.seq],
    });
  } else if (update.kind === 'delete') {
    set += ', deleted = :by';
    remove = ' REMOVE #text, reactors, editedAt';
    Object.assign(names, { '#text': 'text' });
    values[':by'] = update.by;
  } else {
    set += ', reactors = :reactors';
    values[':reactors'] = update.reactors;
  }
  if (readChangeSeq !== undefined) values[':read'] = readChangeSeq;
  return {
    UpdateExpression: `SET ${set}${remove}`,
    // The message exists (not deleted by its TTL), is as it was read, and a delete has not come first.
    ConditionExpression: `attribute_exists(#seq) AND attribute_not_exists(deleted) AND ${
      readChangeSeq === undefined ? 'attribute_not_exists(changeSeq)' : 'changeSeq = :read'
    }`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/** The changes' one transaction: the room's seq (as a send takes it), the event, the message, the send record. */
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

  async record(sendKey: string): Promise<SendRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tables.sends, Key: { sendKey }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const { ttl: _ttl, ...record } = Item;
    return record as SendRecord;
  }

  async apply(change: PlannedChange): Promise<ChangeOutcome> {
    const { event, roomSeq, life, record, update } = change;
    const { roomId, seq } = event;
    const roomCondition = roomSeq === undefined ? 'attribute_not_exists(roomId)' : 'seq = :was';
    const scrubs = update.kind === 'delete' ? update.scrub : [];
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tables.rooms,
                Key: { roomId },
                ...(life
                  ? {
                      UpdateExpression: 'SET seq = :seq, #ttl = :ttl',
                      ConditionExpression: `${roomCondition} AND attribute_not_exists(closedAt) AND (attribute_not_exists(#ttl) OR #ttl > :now)`,
                      ExpressionAttributeNames: { '#ttl': 'ttl' },
                    }
                  : { UpdateExpression: 'SET seq = :seq', ConditionExpression: roomCondition }),
                ExpressionAttributeValues: {
                  ':seq': seq,
                  ...(roomSeq !== undefined && { ':was': roomSeq }),
                  ...(life && { ':ttl': life.ttl, ':now': life.nowSeconds }),
                },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Put: {
                TableName: this.tables.messages,
                Item: { ...event, ttl: change.expiresAt },
                ConditionExpression: 'attribute_not_exists(seq)',
              },
            },
            {
              Update: {
                TableName: this.tables.messages,
                Key: { roomId, seq: event.targetSeq },
                ...targetWrite(update, event, change.readChangeSeq),
              },
            },
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
            ...(record
              ? [
                  {
                    Put: {
                      TableName: this.tables.sends,
                      Item: {
                        sendKey: record.sendKey,
                        messageId: event.messageId,
                        seq,
                        sentAt: event.sentAt,
                        publisher: record.publisher,
                        ttl: record.expiresAt,
                      },
                      ConditionExpression: 'attribute_not_exists(sendKey)',
                      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
                    },
                  },
                ]
              : []),
          ],
        }),
      );
      return { kind: 'stored' };
    } catch (error) {
      if ((error as { name?: string }).name !== 'TransactionCanceledException') throw error;
      const reasons = ((error as { CancellationReasons?: Reasons }).CancellationReasons ?? []).map(
        (reason) => reason ?? {},
      );
      const [room, _event, target] = reasons;
      const sent = record ? reasons.at(-1) : undefined;
      const failed = (reason?: { Code?: string }) => reason?.Code === 'ConditionalCheckFailed';
      if (failed(sent) && sent?.Item) {
        const { ttl: _ttl, ...found } = unmarshall(sent.Item);
        return { kind: 'sentBefore', record: found as unknown as SendRecord };
      }
      if (reasons.some((reason) => reason.Code === 'TransactionConflict')) return { kind: 'conflict' };
      if (failed(room) && room?.Item) {
        const found = unmarshall(room.Item) as Room;
        if (life && roomEnd(found, new Date(life.nowSeconds * 1000)))
          return { kind: 'roomGone', room: found };
        return { kind: 'seqTaken', roomSeq: Number(found.seq ?? 0), targetChanged: failed(target) };
      }
      // The message changed, or an edit event to scrub is gone (its TTL): read the message again.
      if (failed(target) || reasons.slice(3).some(failed)) return { kind: 'targetChanged' };
      throw error;
    }
  }
}
