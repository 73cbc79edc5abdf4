import { DynamoUserDevices } from '#core/aws/userDevices';
import { notifier } from '#core/wiring/managementApi';
import { documentClient } from '#platform/aws/clients';
import { config, requireEnv } from '#platform/config';
import { DynamoRoomEntry } from './dynamoEntry';
import { DynamoMembershipStore } from './dynamoMemberships';

/**
 * The rooms feature's DynamoDB adapters other functions take too (opendm joins a DM room), each given the table names
 * template.yaml sets for it. The directory's is in functions/directory/wiring.ts, so a bundle that joins rooms does not hold it.
 */
/** A join's move into a room, atomic with the room's key (joinroom). */
export const roomEntry = () =>
  new DynamoRoomEntry(documentClient(), {
    rooms: config.roomsTable(),
    connections: config.connectionsTable(),
    subscriptions: config.subscriptions().table,
  });

/** Read positions and memberships (memberships.ts), with the reads of rooms, messages and connections they need. */
export const membershipStore = () =>
  new DynamoMembershipStore(documentClient(), {
    memberships: requireEnv('MEMBERSHIPS_TABLE'),
    rooms: config.roomsTable(),
    connections: config.connectionsTable(),
    messages: config.messagesTable(),
  });

/**
 * The person's other connections (core/identity/otherDevices.ts): a room joined, created or left reaches them as
 * `myroom` (memberships.ts), by the user index and one post each.
 */
export const otherDevices = () => ({
  devices: new DynamoUserDevices(documentClient(), config.connectionsTable(), config.userIndex()),
  notifier: notifier(),
});
