import { documentClient } from '#platform/aws/clients';
import { requireEnv } from '#platform/config';
import { settings } from '#platform/settings';
import { DynamoModerationRecords } from './audit';

/** The moderation log and reports, in the Sessions table (audit.ts). */
export const moderationRecords = () =>
  new DynamoModerationRecords(
    documentClient(),
    requireEnv('SESSIONS_TABLE'),
    requireEnv('SESSIONS_BY_NAME_INDEX'),
    () => settings().SessionRetentionDays * 86400,
  );
