import { documentClient } from '#platform/aws/clients';
import { config, requireEnv } from '#platform/config';
import { DynamoDirectoryStore } from './dynamoDirectory';
import { DynamoRoomEntry } from './dynamoEntry';
import { DynamoMembershipStore } from './dynamoMemberships';

/** The rooms feature's DynamoDB adapters, each given the table names template.yaml sets for it. */
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

/** The directory of public rooms and the profiles (directory.ts), with the rooms it checks listed ones against. */
export const directoryStore = () =>
  new DynamoDirectoryStore(documentClient(), {
    directory: requireEnv('DIRECTORY_TABLE'),
    rooms: config.roomsTable(),
  });
