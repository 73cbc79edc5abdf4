import { UnknownConnection } from '#core/errors';
import type { ChatPorts, Connection, ConnectionInfo } from '#core/ports';
import { LOBBY, USAGE } from '#core/protocol';
import type { Clock } from '#platform/clock';
import { logger } from '#platform/powertools';
import { type DepartureRecords, departureOf, publishDeparture, recordDeparture } from './departure';

/** Connections: registering one at $connect, forgetting it at $disconnect, and telling it about itself. */

export async function connect(
  deps: Pick<ChatPorts, 'connections' | 'now'>,
  connectionId: string,
  member: { username: string; userId: string; sendScope?: string; handshakeEndsAt?: number },
): Promise<Connection> {
  const connection: Connection = {
    connectionId,
    roomId: LOBBY,
    username: member.username,
    chosenName: member.username,
    userId: member.userId,
    ...(member.sendScope !== undefined && { sendScope: member.sendScope }),
    connectedAt: deps.now().toISOString(),
    ...(member.handshakeEndsAt !== undefined && { handshakeEndsAt: member.handshakeEndsAt }),
  };
  await deps.connections.put(connection);
  return connection;
}

/**
 * Forgets the connection and hands its rooms to the departure machine in one event, whatever their number
 * (departure.ts): each room hears the leave after LEAVE_GRACE_SECONDS unless the person is back in it by then. A
 * signed-in user's departure is also recorded (`departures`), so its return before the departure is settled tells no
 * join either.
 */
export async function disconnect(
  deps: Pick<ChatPorts, 'connections' | 'events'> & {
    departures?: Pick<DepartureRecords, 'put'>;
    now?: Clock;
  },
  connectionId: string,
): Promise<Connection | undefined> {
  const gone = await deps.connections.remove(connectionId);
  if (!gone) return gone;
  const departure = departureOf(gone);
  if (!departure) return gone;
  const { departures, now } = deps;
  await Promise.all([
    // Past its tries the close still goes on (its place given back, its session closed): the rooms keep showing the
    // person until their next `who`, and the error is logged with the rooms it concerns.
    publishDeparture(deps.events, departure).catch((error: unknown) =>
      logger.error('publishing the departure failed', { rooms: departure.rooms.length, error }),
    ),
    departures && now && recordDeparture({ departures, now }, departure),
  ]);
  return gone;
}

export async function requireConnection(
  deps: Pick<ChatPorts, 'connections'>,
  connectionId: string,
): Promise<Connection> {
  const connection = await deps.connections.get(connectionId);
  if (!connection) throw new UnknownConnection();
  return connection;
}

export async function connectionInfo(
  deps: Pick<ChatPorts, 'connections' | 'notifier'>,
  connectionId: string,
) {
  const [info, connection] = await Promise.all([
    deps.notifier.info(connectionId).catch((): ConnectionInfo | undefined => undefined),
    deps.connections.get(connectionId),
  ]);
  return {
    type: 'info' as const,
    connectionId,
    username: connection?.username,
    roomId: connection?.roomId,
    connectedAt: info?.connectedAt ?? connection?.connectedAt,
    sourceIp: info?.sourceIp,
    userAgent: info?.userAgent,
    lastActiveAt: info?.lastActiveAt,
    usage: USAGE,
  };
}
