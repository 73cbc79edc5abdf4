import { S3Avatars } from '#attachments/s3Avatars';
import { DynamoUserDevices } from '#core/aws/userDevices';
import { requireConnection } from '#core/identity/connections';
import { servedFrom } from '#core/limits/guard';
import { takePersonToken } from '#core/limits/personRate';
import { limitOwner } from '#core/limits/quotas';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { eventPublisher } from '#core/wiring/eventbridge';
import { personGate } from '#core/wiring/guard';
import { notifier } from '#core/wiring/managementApi';
import { directoryStore } from '#directory/wiring';
import { documentClient } from '#platform/aws/clients';
import { systemClock } from '#platform/clock';
import { config } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import type { ProfileRooms } from './ports';
import { parseProfile, setProfile } from './profiles';

/**
 * setprofile: a signed-in user's display name, status and avatar, told to the rooms it belongs to and to the person's
 * other devices (profiles.ts): one
 * change is up to 100 rooms' events, so the person's budget across its connections (PersonProfileRateLimit;
 * personRate.ts) is taken before anything is read. `memberships` builds the hosting function's store of the rooms a
 * user belongs to (ports.ts), once, on the first call.
 */
export function setprofileRoute(memberships: () => ProfileRooms) {
  const deps = onFirstCall(() => ({
    connections: connectionStore(),
    directory: directoryStore(),
    memberships: memberships(),
    events: eventPublisher(),
    now: systemClock,
    avatars: new S3Avatars(),
    person: personGate(),
    // The change reaches the person's other devices too (core/identity/otherDevices.ts): the user index, one post each.
    otherDevices: {
      devices: new DynamoUserDevices(documentClient(), config.connectionsTable(), config.userIndex()),
      notifier: notifier(),
    },
  }));
  return routeHandler('setprofile', 'connection', async (frame) => {
    const change = parseProfile(frame.body);
    const ports = servedFrom(deps(), frame);
    const caller = await requireConnection(ports, frame.connectionId);
    const { identity } = frame.event.requestContext as { identity?: { sourceIp?: string } };
    await takePersonToken(ports.person, 'profile', limitOwner(caller.userId, identity?.sourceIp));
    return setProfile(ports, caller, change);
  });
}
