import { DynamoUserDevices } from '#core/aws/userDevices';
import { auditModeration } from '#core/identity/sessionHooks';
import { connectionStore, roomStore } from '#core/wiring/dynamodb';
import { notifier } from '#core/wiring/managementApi';
import { presencePublisher } from '#core/wiring/presence';
import { documentClient } from '#platform/aws/clients';
import { systemClock } from '#platform/clock';
import { config } from '#platform/config';
import type { ModerationDeps } from './moderation';
import type { ModerationMemberships } from './ports';

/**
 * The ports of the moderation routes (moderation.ts, and removemember's owners.ts), with the template's names;
 * `memberships` is the hosting function's store (ports.ts).
 */
export const moderationPorts = (memberships: ModerationMemberships): ModerationDeps => ({
  connections: connectionStore(),
  rooms: roomStore(),
  memberships,
  devices: new DynamoUserDevices(documentClient(), config.connectionsTable(), config.userIndex()),
  notifier: notifier(),
  events: presencePublisher(),
  now: systemClock,
  audit: auditModeration,
});
