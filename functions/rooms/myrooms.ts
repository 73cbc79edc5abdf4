import { S3AttachmentReads } from '#attachments/s3Read';
import { DynamoProfiles } from '#core/aws/profiles';
import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { documentClient } from '#platform/aws/clients';
import { systemClock } from '#platform/clock';
import { requireEnv } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { ownProfile } from '#profiles/ownProfile';
import { myRooms } from './memberships';
import { membershipStore } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  memberships: membershipStore(),
  now: systemClock,
  profiles: new DynamoProfiles(documentClient(), requireEnv('DIRECTORY_TABLE')),
  avatars: new S3AttachmentReads(),
}));

/**
 * myrooms: the rooms the caller belongs to, with unread counts (functions/rooms/memberships.ts), and a signed-in
 * caller's own profile (functions/profiles/ownProfile.ts), read side by side.
 */
export const handler = routeHandler('myrooms', 'connection', async (frame) => {
  const ports = servedFrom(deps(), frame);
  const [listed, profile] = await Promise.all([
    myRooms(ports, frame.connectionId),
    ownProfile(ports, frame.connectionId),
  ]);
  return profile ? { ...listed, profile } : listed;
});
