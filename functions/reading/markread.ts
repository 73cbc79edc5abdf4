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
import { documentClient } from '#platform/aws/clients';
import { systemClock } from '#platform/clock';
import { config } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { settings } from '#platform/settings';
import { markRead, parseReadSeq } from './reading';
import { readPositions } from './wiring';

const deps = onFirstCall(() => {
  const connections = connectionStore();
  return {
    connections,
    reads: readPositions(),
    now: systemClock,
    // A read that moved is pushed to rooms of at most SeenByMaxMembers (runtime setting, read on every call) through the fan-out.
    seen: {
      events: eventPublisher(),
      membersUpTo: (roomId: string, limit: number, keyLevel: Promise<number>) =>
        connections.membersUpTo(roomId, limit, undefined, keyLevel),
      get maxMembers() {
        return settings().SeenByMaxMembers;
      },
    },
    // A read that moved reaches the person's other devices (devices.ts): the user index, then one post each.
    otherDevices: {
      devices: new DynamoUserDevices(documentClient(), config.connectionsTable(), config.userIndex()),
      notifier: notifier(),
    },
  };
});

/**
 * markread: the caller's read position in its room moves forward (reading.ts), within the
 * person's read budget across its connections (PersonReadRateLimit; personRate.ts): a moved read is pushed to the
 * room and to the person's other devices, so ten connections of one person must not push ten times a person's reads.
 */
export const handler = routeHandler('markread', 'room', async (frame) => {
  const seq = parseReadSeq(frame.body.seq);
  const connection = await requireConnection(servedFrom(deps(), frame), frame.connectionId);
  const { identity } = frame.event.requestContext as { identity?: { sourceIp?: string } };
  await takePersonToken(personGate(), 'read', limitOwner(connection.userId, identity?.sourceIp));
  // The connection as read answers markRead's own first read of it.
  return markRead(servedFrom(deps(), { ...frame, admitted: connection }), frame.connectionId, seq);
});
