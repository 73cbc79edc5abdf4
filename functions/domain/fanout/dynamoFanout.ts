import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoLease } from './dynamoLease';
import { DynamoPostBudget } from './dynamoPostBudget';
import { DynamoResyncNotes } from './dynamoResyncNotes';
import { DynamoRoomReads } from './dynamoRoomReads';
import type { FanoutTables } from './dynamoWrites';

export { grantedPosts, type PostGrant } from './dynamoPostBudget';
export { MAX_RESYNC_NOTES } from './dynamoResyncNotes';
/**
 * The fan-out's own state in DynamoDB, as the Deliver steps use it: one store over the room's lease and cursor
 * (dynamoLease.ts), the account-wide posting budget (dynamoPostBudget.ts), the room's resync notes
 * (dynamoResyncNotes.ts) and what it reads of a room (dynamoRoomReads.ts).
 */
export type { MembersPage } from './dynamoRoomReads';
export type { FanoutTables } from './dynamoWrites';

export class DynamoFanoutStore {
  readonly claim: DynamoLease['claim'];
  readonly release: DynamoLease['release'];
  readonly abandon: DynamoLease['abandon'];
  readonly afterFailedClaim: DynamoLease['afterFailedClaim'];
  readonly resume: DynamoLease['resume'];
  readonly renew: DynamoLease['renew'];
  readonly reserve: DynamoPostBudget['reserve'];
  readonly reserveInParts: DynamoPostBudget['reserveInParts'];
  readonly reserveAll: DynamoPostBudget['reserveAll'];
  readonly refund: DynamoPostBudget['refund'];
  readonly messages: DynamoRoomReads['messages'];
  readonly membersPage: DynamoRoomReads['membersPage'];
  readonly stillIn: DynamoRoomReads['stillIn'];
  readonly markResync: DynamoResyncNotes['markResync'];
  readonly resyncNotes: DynamoResyncNotes['resyncNotes'];
  readonly clearResync: DynamoResyncNotes['clearResync'];
  readonly forgetResync: DynamoResyncNotes['forgetResync'];

  constructor(
    db: DynamoDBDocumentClient,
    tables: FanoutTables,
    /** Picks the budget's shards (a test's own sequence). */
    random: () => number = Math.random,
  ) {
    const reads = new DynamoRoomReads(db, tables);
    const lease = new DynamoLease(db, tables, reads);
    const budget = new DynamoPostBudget(db, tables, random);
    const notes = new DynamoResyncNotes(db, tables);
    this.claim = lease.claim.bind(lease);
    this.release = lease.release.bind(lease);
    this.abandon = lease.abandon.bind(lease);
    this.afterFailedClaim = lease.afterFailedClaim.bind(lease);
    this.resume = lease.resume.bind(lease);
    this.renew = lease.renew.bind(lease);
    this.reserve = budget.reserve.bind(budget);
    this.reserveInParts = budget.reserveInParts.bind(budget);
    this.reserveAll = budget.reserveAll.bind(budget);
    this.refund = budget.refund.bind(budget);
    this.messages = reads.messages.bind(reads);
    this.membersPage = reads.membersPage.bind(reads);
    this.stillIn = reads.stillIn.bind(reads);
    this.markResync = notes.markResync.bind(notes);
    this.resyncNotes = notes.resyncNotes.bind(notes);
    this.clearResync = notes.clearResync.bind(notes);
    this.forgetResync = notes.forgetResync.bind(notes);
  }
}
