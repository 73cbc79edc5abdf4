import { randomUUID } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { moderationLogKey, moderationRowId } from '#core/identity/dynamoSessions';
import { stableHash } from '#core/stableHash';
import type { ModLogEntry, Report, ReportOutcome, Role } from '#protocol';

/**
 * Moderation on record, in the Sessions table (the deployment's audit trail: docs/SECURITY.md, "What is logged and
 * what is kept"), beside the sessions and kept as long (SessionRetentionDays). Each item is keyed like no connection
 * (`#audit#…`, `#report#…`) and carries in `username` a key no member's name can be (names have no `#`), so the
 * table's UsernameIndex (`username`, `connectedAt`) lists them:
 *
 * - `#audit#<day>#<n>`: the moderation actions of a UTC day (a report, a filtered message), spread over AUDIT_SHARDS
 *   keys (n a stable hash of the row's id), each oldest first: the operators' queue is every shard of the day
 *   (`ofDay`; docs/OPERATIONS.md, "Reports and the moderation log");
 * - `#reports#<roomId>`: the room's open reports with the reported message as it was (its owner's and moderators'
 *   `reports`, newest first); `resolvereport` moves one to `#resolved#<roomId>` (one conditional UpdateItem: the
 *   index drops it from the open list, the item keeps who closed it, how and when, until its TTL).
 */

interface AuditRow {
  kind: 'report' | 'filtered' | 'resolvereport';
  roomId: string;
  /** Who acted (a report's reporter or resolver, a filtered message's sender): its identity and name in the room. */
  actor: string;
  actorName: string;
  at: string;
  /**
   * What else the action records: a report's id and seq (and a resolution's outcome), a filter's outcome and the words
   * found (never the text).
   */
  detail: Record<string, string | number | string[]>;
}

export interface AuditLog {
  record(row: AuditRow): Promise<void>;
}

/** Where a page of reports starts: after the report of this time and id (the last one listed). */
export interface ReportsAfter {
  reportedAt: string;
  reportId: string;
}

interface Resolution {
  outcome: ReportOutcome;
  resolvedBy: string;
  resolvedAt: string;
}

/** Where a page of the room's moderation log starts: after the row of this time and id (the last one listed). */
export interface LogAfter {
  at: string;
  id: string;
}

/** A room's moderation log (core/identity/dynamoSessions.ts writes it): its owners' and moderators' actions. */
export interface RoomLog {
  /** Up to `limit` rows, newest first, after `after`; `next` when older ones may remain. */
  ofRoomLog(
    roomId: string,
    limit: number,
    after?: LogAfter,
  ): Promise<{ entries: ModLogEntry[]; next?: LogAfter }>;
}

export interface ReportStore {
  /** Keeps the report with its evidence (the message's text as it was). */
  keep(report: Report, reporterId: string): Promise<void>;
  /** The room's open reports, newest first: up to `limit`, after `after`; `more` when older ones may remain. */
  ofRoom(roomId: string, limit: number, after?: ReportsAfter): Promise<{ reports: Report[]; more: boolean }>;
  /** The report `reportId`, open or closed (undefined: none, or gone with its TTL). */
  find(reportId: string): Promise<Report | undefined>;
  /** Closes the open report of room `roomId`: false when it is not open there (closed already, in between). */
  resolve(roomId: string, reportId: string, resolution: Resolution): Promise<boolean>;
}

/**
 * How many index keys a day's audit rows are spread over (docs/DECISIONS.md, "Moderation state beside the room's
 * item; the audit log sharded"). One UsernameIndex key takes 1,000 WCU/s, and a throttled index throttles the
 * Sessions table's writes (its sessions too); a row writes 1 WCU there. 16 keys take 16,000 rows/s, above every send
 * of the account's 10,000 API Gateway requests/s drawing a filter hit; a day's listing is 16 Queries (≥ 0.5 RCU each).
 * Exported for tests: auditShards.test.ts writes more rows than shards and finds them on several.
 */
export const AUDIT_SHARDS = 16;
/** The index key of a day's audit shard `shard` (0 … AUDIT_SHARDS - 1). */
const auditKey = (day: string, shard: number) => `#audit#${day}#${shard}`;
/** The shard of the row stored as `connectionId`: its random id spreads a day's rows evenly. */
const auditShardOf = (connectionId: string) => stableHash(connectionId) % AUDIT_SHARDS;
const reportsKey = (roomId: string) => `#reports#${roomId}`;
const resolvedKey = (roomId: string) => `#resolved#${roomId}`;
const reportItemKey = (reportId: string) => `#report#${reportId}`;

const text = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** The Sessions table's moderation items (audit rows, reports), kept `retentionSeconds` from their writing (TTL). */
export class DynamoModerationRecords implements AuditLog, ReportStore, RoomLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly usernameIndex: string,
    /** Read on every write: SessionRetentionDays is a runtime setting. */
    private readonly retentionSeconds: () => number,
  ) {}

  private ttl(at: string): number {
    return Math.floor(Date.parse(at) / 1000) + this.retentionSeconds();
  }

  async record(row: AuditRow): Promise<void> {
    const connectionId = `#audit#${row.at}#${randomUUID()}`;
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          connectionId,
          username: auditKey(row.at.slice(0, 10), auditShardOf(connectionId)),
          connectedAt: row.at,
          ...row,
          ttl: this.ttl(row.at),
        },
        ConditionExpression: 'attribute_not_exists(connectionId)',
      }),
    );
  }

  /**
   * The audit rows of a UTC day (`YYYY-MM-DD`), every shard read (one Query each, side by side, each paged to its
   * end), oldest first.
   */
  async ofDay(day: string): Promise<Record<string, unknown>[]> {
    const shards = await Promise.all(
      Array.from({ length: AUDIT_SHARDS }, async (_, shard) => {
        const rows: Record<string, unknown>[] = [];
        let start: Record<string, unknown> | undefined;
        do {
          const { Items = [], LastEvaluatedKey } = await this.db.send(
            new QueryCommand({
              TableName: this.table,
              IndexName: this.usernameIndex,
              KeyConditionExpression: 'username = :key',
              ExpressionAttributeValues: { ':key': auditKey(day, shard) },
              ...(start && { ExclusiveStartKey: start }),
            }),
          );
          rows.push(...Items);
          start = LastEvaluatedKey;
        } while (start);
        return rows;
      }),
    );
    return shards.flat().sort((a, b) => String(a.connectedAt).localeCompare(String(b.connectedAt)));
  }

  /**
   * A page of the room's moderation log, newest first: one Query of the index under `#moderation#<roomId>`,
   * backwards, `limit` rows (each row ~200 bytes: a page of 50 reads ≤ 3 RCU, eventually consistent).
   */
  async ofRoomLog(
    roomId: string,
    limit: number,
    after?: LogAfter,
  ): Promise<{ entries: ModLogEntry[]; next?: LogAfter }> {
    const key = moderationLogKey(roomId);
    const { Items = [], LastEvaluatedKey } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: this.usernameIndex,
        KeyConditionExpression: 'username = :key',
        ExpressionAttributeValues: { ':key': key },
        ScanIndexForward: false,
        Limit: limit,
        ...(after && {
          ExclusiveStartKey: {
            connectionId: moderationRowId(roomId, after.at, after.id),
            username: key,
            connectedAt: after.at,
          },
        }),
      }),
    );
    const entries = Items.map((item) => ({
      action: String(item.action),
      actor: String(item.actor),
      actorRole: (text(item.actorRole) ?? 'owner') as Role,
      at: String(item.at),
      ...(text(item.target) !== undefined && { target: text(item.target) }),
      ...(text(item.detail) !== undefined && { detail: text(item.detail) }),
    }));
    const last = Items.at(-1);
    return {
      entries,
      ...(LastEvaluatedKey &&
        last && { next: { at: String(last.at), id: String(last.connectionId).split('#').at(-1) ?? '' } }),
    };
  }

  async keep(report: Report, reporterId: string): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          connectionId: reportItemKey(report.reportId),
          username: reportsKey(report.roomId),
          connectedAt: report.reportedAt,
          report,
          reporterId,
          ttl: this.ttl(report.reportedAt),
        },
        ConditionExpression: 'attribute_not_exists(connectionId)',
      }),
    );
  }

  async ofRoom(
    roomId: string,
    limit: number,
    after?: ReportsAfter,
  ): Promise<{ reports: Report[]; more: boolean }> {
    const { Items = [], LastEvaluatedKey } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: this.usernameIndex,
        KeyConditionExpression: 'username = :key',
        ExpressionAttributeValues: { ':key': reportsKey(roomId) },
        ScanIndexForward: false,
        Limit: limit,
        // An index's start key is the item's table key and its index key (the position, whether or not it is open now).
        ...(after && {
          ExclusiveStartKey: {
            connectionId: reportItemKey(after.reportId),
            username: reportsKey(roomId),
            connectedAt: after.reportedAt,
          },
        }),
      }),
    );
    return { reports: Items.map((item) => item.report as Report), more: LastEvaluatedKey !== undefined };
  }

  async find(reportId: string): Promise<Report | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { connectionId: reportItemKey(reportId) },
        ConsistentRead: true,
      }),
    );
    return Item?.report as Report | undefined;
  }

  async resolve(roomId: string, reportId: string, resolution: Resolution): Promise<boolean> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { connectionId: reportItemKey(reportId) },
          UpdateExpression: 'SET username = :closed, resolution = :resolution',
          ConditionExpression: 'username = :open',
          ExpressionAttributeValues: {
            ':open': reportsKey(roomId),
            ':closed': resolvedKey(roomId),
            ':resolution': resolution,
          },
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
