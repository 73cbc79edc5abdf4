import { documentClient } from '#platform/aws/clients';
import { config, requireEnv } from '#platform/config';
import { settings } from '#platform/settings';
import { DynamoModerationRecords } from './audit';
import { DynamoBlockStore } from './dynamoBlocks';
import { DynamoDmBlocks } from './dynamoDmBlocks';

/**
 * The safety feature's adapters, each given the table names template.yaml sets for it. The messages and people
 * functions take `dmBlocks` and `moderationRecords` from here (their screening: screening.ts); what only the safety
 * function's routes use is built in routes.ts, so their bundles hold none of it.
 */

/** Direct-message blocks (the Rooms table's `<dmRoomId>#blocks` items): the safety, messages and people functions. */
export const dmBlocks = () => new DynamoDmBlocks(documentClient(), config.roomsTable());

/** Block lists (the Memberships table's `blocks#<memberKey>` partitions): the safety function. */
export const blockStore = () => new DynamoBlockStore(documentClient(), requireEnv('MEMBERSHIPS_TABLE'));

/** The moderation log and reports, in the Sessions table (audit.ts). */
export const moderationRecords = () =>
  new DynamoModerationRecords(
    documentClient(),
    requireEnv('SESSIONS_TABLE'),
    requireEnv('SESSIONS_BY_NAME_INDEX'),
    () => settings().SessionRetentionDays * 86400,
  );
