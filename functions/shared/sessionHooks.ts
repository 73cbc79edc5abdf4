import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { dynamo } from './adapters/clients';
import { sessionStore } from './adapters/dynamoSessions';
import type { ChatDeps } from './chat';
import { logger } from './powertools';
import { countingSends } from './sessions';

/**
 * The one-line hooks that keep sessions on record from the handlers. Each is a no-op without SESSIONS_TABLE, and
 * none fails the frame it rides on: a lost audit write is logged as an error, the chat goes on.
 */
const store = () => sessionStore(dynamo);
const logged = (what: string) => (error: unknown) =>
  logger.error(`session record: ${what} failed`, error as Error);

type WebSocketEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: {
    identity?: { sourceIp?: string; userAgent?: string };
    disconnectStatusCode?: number;
    disconnectReason?: string;
  };
};

export async function openSession(event: WebSocketEvent, username: string): Promise<void> {
  const { connectionId, connectedAt, identity } = event.requestContext;
  await store()
    ?.open({
      connectionId,
      username,
      sourceIp: identity?.sourceIp,
      userAgent: identity?.userAgent?.slice(0, 256),
      connectedAt: new Date(connectedAt ?? Date.now()).toISOString(),
    })
    .catch(logged('open'));
}

/** Without a room: the close itself. With the room the connection was in: its last broadcast, once it is gone. */
export async function closeSession(event: WebSocketEvent, roomId?: string): Promise<void> {
  const { connectionId, disconnectStatusCode, disconnectReason } = event.requestContext;
  const sessions = store();
  if (!sessions) return;
  if (roomId !== undefined) return sessions.broadcastSeen(connectionId, roomId).catch(logged('broadcast'));
  await sessions
    .close({
      connectionId,
      disconnectedAt: new Date().toISOString(),
      closeCode: disconnectStatusCode,
      closeReason: disconnectReason?.slice(0, 256),
    })
    .catch(logged('close'));
}

export function withSessionCount(deps: ChatDeps, connectionId: string): ChatDeps {
  const sessions = store();
  return sessions ? countingSends(deps, sessions, connectionId, logged('message count')) : deps;
}

export async function markBroadcast(roomId: string | undefined): Promise<void> {
  await store()?.broadcastSent(roomId, new Date().toISOString()).catch(logged('broadcast mark'));
}
