import type { ChatPorts } from '#core/ports';

/**
 * Sessions on record: one item per connection, kept after it closes for the retention the template sets
 * (SessionRetentionDays), queryable by username. Never the text of a message: only counts and times.
 */
export interface SessionOpen {
  connectionId: string;
  username: string;
  /** The member's stable id (ports.ts Connection.userId). */
  userId?: string;
  sourceIp?: string;
  userAgent?: string;
  connectedAt: string;
}

export interface SessionClose {
  connectionId: string;
  disconnectedAt: string;
  closeCode?: number;
  closeReason?: string;
}

/**
 * A moderation action as the audit keeps it: the room, the action, who did it (its name there and its role), whom
 * (the name), and what (a mute's end, a slow mode's seconds).
 */
export interface ModerationRecord {
  roomId: string;
  action: string;
  at: string;
  actor: string;
  actorRole: string;
  target?: string;
  detail?: string;
}

export interface SessionStore {
  open(session: SessionOpen): Promise<void>;
  close(session: SessionClose): Promise<void>;
  /** One more message sent, at `at`. */
  messageSent(connectionId: string, at: string): Promise<void>;
  /** The last admin broadcast (to everyone or to `roomId`) the session may have received, as `lastBroadcastAt`. */
  broadcastSeen(connectionId: string, roomId: string): Promise<void>;
  /** Marks that a broadcast went out now, to one room or (no room) to everyone. */
  broadcastSent(roomId: string | undefined, at: string): Promise<void>;
}

/**
 * Ports whose publisher also records a sent message on the session, at the same time as PutEvents (in parallel,
 * so a send waits for no extra round trip). A failed record is logged, never fails the send.
 */
export function countingSends<T extends Pick<ChatPorts, 'events' | 'now'>>(
  deps: T,
  sessions: SessionStore,
  connectionId: string,
  onError: (error: unknown) => void,
): T {
  return {
    ...deps,
    events: {
      publish: async (events) => {
        const sent = events.some((e) => e.type === 'MessageSent');
        await Promise.all([
          deps.events.publish(events),
          sent ? sessions.messageSent(connectionId, deps.now().toISOString()).catch(onError) : undefined,
        ]);
      },
    },
  };
}
