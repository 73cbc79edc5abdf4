import { S3AttachmentReads } from '#attachments/s3Read';
import { requireConnection } from '#core/identity/connections';
import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { eventPublisher } from '#core/wiring/eventbridge';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { parseProfile, setProfile } from './directory';
import { directoryStore } from './directoryWiring';
import { membershipStore } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  directory: directoryStore(),
  memberships: membershipStore(),
  events: eventPublisher(),
  now: systemClock,
  avatars: new S3AttachmentReads(),
}));

/** setprofile: a signed-in user's display name, status and avatar, told to the rooms it belongs to (directory.ts). */
export const handler = routeHandler('setprofile', 'connection', async (frame) => {
  const change = parseProfile(frame.body);
  const ports = servedFrom(deps(), frame);
  return setProfile(ports, await requireConnection(ports, frame.connectionId), change);
});
