import { UnknownConnection } from '#core/errors';
import type { ChatPorts, Connection, ConnectionInfo } from '#core/ports';
import { LOBBY, USAGE } from '#core/protocol';
import { presenceEvent } from './presence';

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

export async function disconnect(
  deps: Pick<ChatPorts, 'connections' | 'events'>,
  connectionId: string,
): Promise<Connection | undefined> {
  const gone = await deps.connections.remove(connectionId);
  if (!gone) return gone;
  // Every room it followed hears it leave, under the name it showed there (LIMITS.subscriptionsMax at most, so a
  // bounded number of events, ten to a PutEvents call); the shown room too when its subscription was pruned.
  const rooms = new Map((gone.followed ?? []).map((s) => [s.roomId, s.username]));
  if (!rooms.has(gone.roomId)) rooms.set(gone.roomId, gone.username);
  rooms.delete(LOBBY);
  const events = [...rooms].map(([roomId, username]) => presenceEvent(roomId, 'leave', username));
  for (let i = 0; i < events.length; i += 10) await deps.events.publish(events.slice(i, i + 10));
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
