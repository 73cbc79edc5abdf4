import { randomUUID } from 'node:crypto';
import { PublishFailed, RoomNotFound } from '#core/errors';
import type { ChatPorts } from '#core/ports';
import { type BroadcastFrame, LOBBY } from '#core/protocol';

type BroadcastDeps = Pick<ChatPorts, 'rooms' | 'events' | 'now'> & {
  /**
   * Records the send time where sessions read it at disconnect. It runs before the publish: a member can receive the
   * broadcast and disconnect before the publish call returns, and its session must still show it as seen.
   */
  markSent?: (roomId: string | undefined, sentAt: string) => Promise<void>;
};

interface BroadcastInput {
  text: string;
  /** One room; absent = every connection of the API. */
  roomId?: string;
  /** LobbyPolicy=off: there is no lobby to announce to (lobby.ts). */
  noLobby?: boolean;
}

/**
 * An admin announcement: one `Broadcast` event on the chat bus, which the fan-out state machine delivers to the
 * room (Query of the room index) or, without a room, to every connection (the one Scan the design allows).
 */
export async function broadcast(deps: BroadcastDeps, input: BroadcastInput): Promise<{ messageId: string }> {
  const { text, roomId } = input;
  // The lobby exists unless the policy has none; its Rooms row only appears with its first message.
  if (roomId === LOBBY && input.noLobby) throw new RoomNotFound(roomId);
  if (roomId !== undefined && roomId !== LOBBY && !(await deps.rooms.get(roomId))) {
    throw new RoomNotFound(roomId);
  }
  const messageId = randomUUID();
  const frame: BroadcastFrame = {
    type: 'broadcast',
    messageId,
    text,
    sentAt: deps.now().toISOString(),
    ...(roomId !== undefined && { roomId }),
  };
  await deps.markSent?.(roomId, frame.sentAt);
  try {
    await deps.events.publish([
      {
        type: 'Broadcast',
        messageId,
        ...(roomId !== undefined && { roomId }),
        payload: JSON.stringify(frame),
      },
    ]);
  } catch (error) {
    throw error instanceof PublishFailed
      ? error.told('The announcement could not be queued. Try again.')
      : error;
  }
  return { messageId };
}
