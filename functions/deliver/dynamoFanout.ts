import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoPostBudget } from './dynamoPostBudget';
import { DynamoResyncNotes } from './dynamoResyncNotes';
import type { FanoutTables } from './dynamoWrites';

export { grantedPosts, type PostGrant } from './dynamoPostBudget';
export { MAX_RESYNC_NOTES } from './dynamoResyncNotes';
export type { FanoutTables } from './dynamoWrites';

/**
 * The fan-out's own state in DynamoDB, as Deliver uses it: the account-wide posting budget (dynamoPostBudget.ts) and
 * the members owed a resync frame (dynamoResyncNotes.ts). Order and checkpoints are the fan-out queue's (template.yaml,
 * FanoutQueue): nothing of a room's delivery is stored here.
 */
export class DynamoFanoutStore {
  readonly reserve: DynamoPostBudget['reserve'];
  readonly reserveAll: DynamoPostBudget['reserveAll'];
  readonly refund: DynamoPostBudget['refund'];
  readonly markResync: DynamoResyncNotes['markResync'];
  readonly resyncNotes: DynamoResyncNotes['resyncNotes'];
  readonly clearResync: DynamoResyncNotes['clearResync'];

  constructor(
    db: DynamoDBDocumentClient,
    tables: FanoutTables,
    /** Picks the budget's shards (a test's own sequence). */
    random: () => number = Math.random,
  ) {
    const notes = new DynamoResyncNotes(db, tables);
    const budget = new DynamoPostBudget(db, tables, random);
    this.reserve = budget.reserve.bind(budget);
    this.reserveAll = budget.reserveAll.bind(budget);
    this.refund = budget.refund.bind(budget);
    this.markResync = notes.markResync.bind(notes);
    this.resyncNotes = notes.resyncNotes.bind(notes);
    this.clearResync = notes.clearResync.bind(notes);
  }
}
