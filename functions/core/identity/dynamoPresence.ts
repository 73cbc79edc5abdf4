import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure } from '#platform/aws/conditions';
import type { MemberChange } from '#protocol';
import { type BoardContent, PRESENCE_NAMED, PRESENCE_STALE_MS, type PresenceBoard } from './presence';

/**
 * Rooms' presence boards in the Limits table, one item per room (`presence#<roomId>`): `changes`, the named changes in
 * order (`e`: join or leave, `u`: the name), at most PRESENCE_NAMED; `joined` and `left`, the changes counted past
 * them; `opened`, when the board was opened (ms); a TTL an hour on, so a board nobody took is shed. Written by the
 * features that tell presence, taken whole by the fan-out's Prepare.
 */
export class DynamoPresenceBoard implements PresenceBoard {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly limitsTable: string,
  ) {}

  private key = (roomId: string) => ({ limitKey: `presence#${roomId}` });

  async write(roomId: string, change: MemberChange, nowMs: number): Promise<boolean> {
    const values = { ':now': nowMs, ':ttl': Math.floor(nowMs / 1000) + 3600 };
    let old: Record<string, unknown> | undefined;
    try {
      ({ Attributes: old } = await this.db.send(
        new UpdateCommand({
          TableName: this.limitsTable,
          Key: this.key(roomId),
          UpdateExpression:
            'SET #changes = list_append(if_not_exists(#changes, :none), :change), #opened = if_not_exists(#opened, :now), #ttl = :ttl',
          // The board names PRESENCE_NAMED changes at most: its item, and so each write's units, stays small.
          ConditionExpression: 'attribute_not_exists(#changes) OR size(#changes) < :named',
          ExpressionAttributeNames: { '#changes': 'changes', '#opened': 'opened', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ...values,
            ':none': [],
            ':change': [{ e: change.event, u: change.username, ...(change.reason && { r: change.reason }) }],
            ':named': PRESENCE_NAMED,
          },
          ReturnValues: 'UPDATED_OLD',
        }),
      ));
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // The board names as many as it may: this change is counted.
      ({ Attributes: old } = await this.db.send(
        new UpdateCommand({
          TableName: this.limitsTable,
          Key: this.key(roomId),
          UpdateExpression: 'ADD #count :one SET #opened = if_not_exists(#opened, :now), #ttl = :ttl',
          ExpressionAttributeNames: {
            '#count': change.event === 'join' ? 'joined' : 'left',
            '#opened': 'opened',
            '#ttl': 'ttl',
          },
          ExpressionAttributeValues: { ...values, ':one': 1 },
          ReturnValues: 'UPDATED_OLD',
        }),
      ));
    }
    const opened = old?.opened;
    return typeof opened !== 'number' || nowMs - opened > PRESENCE_STALE_MS;
  }

  async take(roomId: string): Promise<BoardContent | undefined> {
    const { Attributes } = await this.db
      .send(
        new UpdateCommand({
          TableName: this.limitsTable,
          Key: this.key(roomId),
          UpdateExpression: 'REMOVE #changes, #joined, #left, #opened',
          // Only a board there is taken: a repeat wake writes no empty item.
          ConditionExpression: 'attribute_exists(#opened)',
          ExpressionAttributeNames: {
            '#changes': 'changes',
            '#joined': 'joined',
            '#left': 'left',
            '#opened': 'opened',
          },
          ReturnValues: 'ALL_OLD',
        }),
      )
      .catch((error: unknown) => {
        if (isConditionFailure(error)) return { Attributes: undefined };
        throw error;
      });
    if (!Attributes) return undefined;
    const changes = (Array.isArray(Attributes.changes) ? Attributes.changes : [])
      .filter(
        (c): c is { e: MemberChange['event']; u: string; r?: unknown } =>
          typeof c === 'object' &&
          c !== null &&
          (c.e === 'join' || c.e === 'leave') &&
          typeof c.u === 'string',
      )
      .map((c) => ({
        event: c.e,
        username: c.u,
        ...((c.r === 'removed' || c.r === 'banned') && {
          reason: c.r as NonNullable<MemberChange['reason']>,
        }),
      }));
    const count = (n: unknown) => (typeof n === 'number' && n > 0 ? n : 0);
    return { changes, joined: count(Attributes.joined), left: count(Attributes.left) };
  }
}
