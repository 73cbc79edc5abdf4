import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Report } from '#protocol';

/**
 * Moderation on record, in the Sessions table (the deployment's audit trail: docs/SECURITY.md, "What is logged and
 * what is kept"), beside the sessions and kept as long (SessionRetentionDays). Each item is keyed like no connection
 * (`#audit#…`, `#report#…`) and carries in `username` a key no member's name can be (names have no `#`), so the
 * table's UsernameIndex (`username`, `connectedAt`) lists them:
 *
 * - `#audit#<day>`: every moderation action of a UTC day (a report, a filtered message), oldest first: the operators'
 *   queue (docs/OPERATIONS.md, "Reports and the moderation log");
 * - `#reports#<roomId>`: the room's reports with the reported message as it was (its owner's `reports`).
 */

export interface AuditRow {
  kind: 'report' | 'filtered';
  roomId: string;
  /** Who acted (a report's reporter, a filtered message's sender): its identity and name in the room. */
  actor: string;
  actorName: string;
  at: string;
  /** What else the action records: a report's id and seq, a filter's outcome and the words found (never the text). */
  detail: Record<string, string | number | string[]>;
}

export interface AuditLog {
  record(row: AuditRow): Promise<void>;
}

export interface ReportStore {
  /** Keeps the report with its evidence (the message's text as it was). */
  keep(report: Report, reporterId: string): Promise<void>;
  /** The room's reports, newest first. */
  ofRoom(roomId: string, limit: number): Promise<Report[]>;
}

const auditKey = (day: string) => `#audit#${day}`;
const reportsKey = (roomId: string) => `#reports#${roomId}`;

/** The Sessions table's moderation items (audit rows, reports), kept `retentionSeconds` from their writing (TTL). */
export class DynamoModerationRecords implements AuditLog, ReportStore {
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
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          connectionId: `#audit#${row.at}#${randomUUID()}`,
          username: auditKey(row.at.slice(0, 10)),
          connectedAt: row.at,
          ...row,
          ttl: this.ttl(row.at),
        },
        ConditionExpression: 'attribute_not_exists(connectionId)',
      }),
    );
  }

  async keep(report: Report, reporterId: string): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          connectionId: `#report#${report.reportId}`,
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

  async ofRoom(roomId: string, limit: number): Promise<Report[]> {
    const { Items = [] } = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: this.usernameIndex,
        KeyConditionExpression: 'username = :key',
        ExpressionAttributeValues: { ':key': reportsKey(roomId) },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return Items.map((item) => item.report as Report);
  }
}
