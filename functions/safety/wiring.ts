import { documentClient } from '#platform/aws/clients';
import { config, requireEnv } from '#platform/config';
import { settings } from '#platform/settings';
import { DynamoModerationRecords } from './audit';
import { DynamoDmBlocks } from './dynamoDmBlocks';

/**
 * The safety feature's adapters other features take, each given the table names template.yaml sets for it: the
 * messages and people functions' screening (screening.ts). What only the safety function's routes use (block lists,
 * the reported message's read) is built in routes.ts, so no other bundle holds it.
 */

/** Direct-message blocks (the Rooms table's `<dmRoomId>#blocks` items): the safety, messages and people functions. */
export const dmBlocks = () => new DynamoDmBlocks(documentClient(), config.roomsTable());

/** The moderation log and reports, in the Sessions table (audit.ts). */
export const moderationRecords = () =>
  new DynamoModerationRecords(
    documentClient(),
    requireEnv('SESSIONS_TABLE'),
    requireEnv('SESSIONS_BY_NAME_INDEX'),
    () => settings().SessionRetentionDays * 86400,
  );
