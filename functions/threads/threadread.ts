import { DynamoUserDevices } from '#core/aws/userDevices';
import { BadRequest } from '#core/errors';
import { servedFrom } from '#core/limits/guard';
import { parseThreadOf } from '#core/protocol';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { notifier } from '#core/wiring/managementApi';
import { documentClient } from '#platform/aws/clients';
import { systemClock } from '#platform/clock';
import { config } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { markThreadRead } from './readMark';
import { followedStore, threadStore } from './wiring';

const deps = onFirstCall(() => ({
  connections: connectionStore(),
  threads: threadStore(),
  followed: followedStore(),
  now: systemClock,
  // The person's other devices (core/identity/otherDevices.ts): the user index, one post each.
  otherDevices: {
    devices: new DynamoUserDevices(documentClient(), config.connectionsTable(), config.userIndex()),
    notifier: notifier(),
  },
}));

/** threadread: mark the replies of a followed thread of the room read, on every device of the person (readMark.ts). */
export const handler = routeHandler('threadread', 'room', (frame) => {
  const seq = parseThreadOf(frame.body.seq);
  if (seq === undefined) throw new BadRequest('"seq" must be the seq of a message in this room.');
  return markThreadRead(servedFrom(deps(), frame), frame.connectionId, seq);
});
