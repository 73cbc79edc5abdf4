import { DynamoUserDevices } from '#core/aws/userDevices';
import { auditModeration } from '#core/identity/sessionHooks';
import { connectionStore, roomStore } from '#core/wiring/dynamodb';
import { notifier } from '#core/wiring/managementApi';
import { presencePublisher } from '#core/wiring/presence';
import { documentClient } from '#platform/aws/clients';
import { systemClock } from '#platform/clock';
import { config } from '#platform/config';
import type { ModerationDeps } from './moderation';
import { membershipStore } from './wiring';

/** The ports of the moderation routes (moderation.ts), with the template's names. */
export const moderationPorts = (): ModerationDeps => ({
  connections: connectionStore(),
  rooms: roomStore(),
  memberships: membershipStore(),
  devices: new DynamoUserDevices(documentClient(), config.connectionsTable(), config.userIndex()),
  notifier: notifier(),
  events: presencePublisher(),
  now: systemClock,
  audit: auditModeration,
});
