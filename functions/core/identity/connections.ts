import { UnknownConnection } from '#core/errors';
import type { ChatPorts, Connection, ConnectionInfo, Departure } from '#core/ports';
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
 * signed-in user's departure is recorded (`departures`) before the connection is forgotten, so a return processed at
 * any point of this close (API Gateway orders nothing between one connection's `$disconnect` and another's frames)
 * finds either the old connection or the open record, and tells no join; the settle then finds it back.
 */
export async function disconnect(
  deps: Pick<ChatPorts, 'connections' | 'events'> & {
    departures?: Pick<DepartureRecords, 'put'>;
    now?: Clock;
  },
  connectionId: string,
): Promise<Connection | undefined> {
  const { departures, now } = deps;
  const early = departures && now ? await signedInDeparture(deps, connectionId) : undefined;
  if (early && departures && now) await recordDeparture({ departures, now }, early);
  const gone = await deps.connections.remove(connectionId);
  if (!gone) return gone;
  const found = departureOf(gone);
  if (!found) return gone;
  // The rooms as the delete found them, under the recorded departure's id so its settle closes that record; a room
  // followed between the read and the delete is recorded too. Stamped with the close's time, from which its settle
  // counts a storm's stretch even when its machine starts late.
  const departure: Departure = {
    ...(early ? { ...found, messageId: early.messageId } : found),
    ...(now && { closedAt: now().getTime() }),
  };
  const recorded = early !== undefined && sameRooms(early, departure);
  await Promise.all([
    // Past its tries the close still goes on (its place given back, its session closed): the rooms keep showing the
    // person until their next `who`, and the error is logged with the rooms it concerns.
    publishDeparture(deps.events, departure).catch((error: unknown) =>
      logger.error('publishing the departure failed', { rooms: departure.rooms.length, error }),
    ),
    !recorded && departures && now && recordDeparture({ departures, now }, departure),
  ]);
  return gone;
}

/**
 * The departure a signed-in connection's close will make, read before anything is deleted (one GetItem and one Query
 * of its subscriptions); undefined for a guest, whose departure is never recorded, and for a connection gone already.
 */
async function signedInDeparture(
  deps: Pick<ChatPorts, 'connections'>,
  connectionId: string,
): Promise<Departure | undefined> {
  const connection = await deps.connections.get(connectionId);
  if (!connection?.userId?.startsWith('user:')) return undefined;
  return departureOf({ ...connection, followed: await deps.connections.followed(connectionId) });
}

/** Whether two departures name the same rooms under the same names, in whatever order. */
function sameRooms(a: Departure, b: Departure): boolean {
  const key = (d: Departure) =>
    d.rooms
      .map((r) => `${r.roomId}\n${r.username}`)
      .sort()
      .join('\n');
  return key(a) === key(b);
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
