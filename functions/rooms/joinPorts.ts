import { S3AttachmentReads } from '#attachments/s3Read';
import { DynamoProfiles } from '#core/aws/profiles';
import { pageAuthorProfiles } from '#core/profiles';
import { connectionStore, roomStore } from '#core/wiring/dynamodb';
import { presencePublisher } from '#core/wiring/presence';
import { messageStore } from '#messages/readers';
import { documentClient } from '#platform/aws/clients';
import { systemClock } from '#platform/clock';
import { requireEnv } from '#platform/config';
import { roomEntry } from './wiring';

/**
 * The profiles of a page's signed-in authors (core/profiles.ts), given with a join's backlog: the DirectoryTable's
 * profile items and the attachments bucket that signs their avatars' GETs. Here, not in wiring.ts, so that the
 * functions that build no join (reading) do not bundle the S3 client.
 */
const authorProfiles = () =>
  pageAuthorProfiles(
    new DynamoProfiles(documentClient(), requireEnv('DIRECTORY_TABLE')),
    new S3AttachmentReads(),
  );

/**
 * What a join into a room needs (functions/rooms/joining.ts): the connection, the room, its recent messages,
 * the atomic entry, and the bus that tells the room. Shared by every route that joins (joinroom, opendm).
 */
export const joinPorts = () => ({
  connections: connectionStore(),
  rooms: roomStore(),
  messages: messageStore(),
  entry: roomEntry(),
  events: presencePublisher(),
  now: systemClock,
  authorProfiles: authorProfiles(),
});
