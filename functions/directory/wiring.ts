import { documentClient } from '#platform/aws/clients';
import { config, requireEnv } from '#platform/config';
import { DynamoDirectoryStore } from './dynamoDirectory';

/**
 * The directory of public rooms (directory.ts) and the profiles (functions/profiles/profiles.ts), in the DirectoryTable,
 * with the rooms it checks listed ones against.
 */
export const directoryStore = () =>
  new DynamoDirectoryStore(documentClient(), {
    directory: requireEnv('DIRECTORY_TABLE'),
    rooms: config.roomsTable(),
  });
