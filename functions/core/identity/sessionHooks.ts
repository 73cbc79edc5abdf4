import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import type { ChatPorts } from '#core/ports';
import { sessionStore } from '#core/wiring/dynamodb';
import { systemClock } from '#platform/clock';
import { config } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { logger } from '#platform/powertools';
import { countingSends, type ModerationRecord } from './sessions';

/**
 * The one-line hooks that keep sessions on record from the handlers. Each is a no-op without SESSIONS_TABLE, and
 * none fails the frame it rides on: a lost audit write is logged as an error, the chat goes on.
 */
const built = onFirstCall(sessionStore);
const store = () => (config.sessionsTable() === undefined ? undefined : built());
const logged = (what: string) => (error: unknown) =>
  logger.error(`session record: ${what} failed`, error as Error);

type WebSocketEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: {
    identity?: { sourceIp?: string; userAgent?: string };
    disconnectStatusCode?: number;
    disconnectReason?: string;
  };
};

export async function openSession(
  event: WebSocketEvent,
  member: { username: string; userId: string },
): Promise<void> {
  const { connectionId, connectedAt, identity } = event.requestContext;
  await store()
    ?.open({
      connectionId,
      username: member.username,
      userId: member.userId,
      sourceIp: identity?.sourceIp,
      userAgent: identity?.userAgent?.slice(0, 256),
      connectedAt: (connectedAt === undefined ? systemClock() : new Date(connectedAt)).toISOString(),
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
      disconnectedAt: systemClock().toISOString(),
      closeCode: disconnectStatusCode,
      closeReason: disconnectReason?.slice(0, 256),
    })
    .catch(logged('close'));
}

export function withSessionCount<T extends Pick<ChatPorts, 'events' | 'now'>>(
  deps: T,
  connectionId: string,
): T {
  const sessions = store();
  return sessions ? countingSends(deps, sessions, connectionId, logged('message count')) : deps;
}

/**
 * Records the broadcast's own send time, before it is published (broadcast/announcing.ts): a member may receive the broadcast
 * and disconnect at once, and its session must still show the broadcast as seen before the disconnect.
 */
export async function markBroadcast(roomId: string | undefined, sentAt: string): Promise<void> {
  await store()?.broadcastSent(roomId, sentAt).catch(logged('broadcast mark'));
}

/**
 * Puts a moderation action on record (dynamoSessions.ts `moderation`): every owner's and moderator's action on a room
 * writes one row. Never fails the action: a lost row is logged as an error.
 */
export async function auditModeration(row: ModerationRecord): Promise<void> {
  await store()?.moderation(row).catch(logged('moderation'));
}
