import { Busy, PublishFailed } from '../../platform/errors';
import { logger } from '../../platform/powertools';
import type { ChatPorts } from '../ports';

/**
 * Appending to a room, for a message (sending.ts) and a change to one (changes/changing.ts) alike: the transaction that
 * takes the room's next seq, tried until it ends, and publishing what it stored (docs/RELIABILITY.md, "The send path").
 */

/**
 * Transactions one append to a room (a message, or a change to one) may try. A lost race for the seq means another
 * event of the room was stored, so the room always progresses; with k appends racing in one room the last one loses
 * k - 1 races. A transaction conflict is a different matter (another transaction holds an item): a few tries, then
 * the sender is told to retry.
 */
const MAX_TRIES = 50;
const MAX_CONFLICTS = 4;

/** How one try ended: its result; `again` (a lost race, the try has read what it needs); `conflict`. */
export type TryOutcome<T> = { done: T } | 'again' | 'conflict';

/**
 * Tries the transaction that appends under the room's next seq until one ends: a lost race again at once, a
 * transaction conflict after a short pause and `readAgain` (a fresh read of what the transaction is held to).
 * Busy when the sender was already answered Busy (`signal`), or out of patience: a conflict that persists, or a
 * room busier than MAX_TRIES races. Either way nothing more is stored, and the sender retries its clientMsgId.
 */
export async function appendWithRetries<T>(
  signal: AbortSignal | undefined,
  tryOnce: () => Promise<TryOutcome<T>>,
  readAgain: () => Promise<void>,
): Promise<T> {
  let conflicts = 0;
  for (let tries = 1; tries <= MAX_TRIES && conflicts < MAX_CONFLICTS; tries++) {
    if (signal?.aborted) throw new Busy();
    const outcome = await tryOnce();
    if (outcome === 'conflict') {
      conflicts++;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 20 * conflicts));
      await readAgain();
    } else if (outcome !== 'again') return outcome.done;
  }
  throw new Busy();
}

/** One stored event to publish, and the attempt that stored it (the publisher its send record names). */
export interface StoredEvent {
  messageId: string;
  roomId: string;
  seq: number;
  /** The frame members get, serialized. */
  payload: string;
  sendKey?: string;
  attempt: string;
}

/**
 * Publishes a stored event to its room; on failure hands publishing back, so a retry with the same clientMsgId does
 * it, and tells the sender so (`storedNotSent`). `what` names the event in the log ("message", "change").
 */
export async function publishStored(
  deps: Pick<ChatPorts, 'events' | 'sends'>,
  stored: StoredEvent,
  what: string,
  storedNotSent: string,
): Promise<void> {
  const { messageId, roomId, seq, payload, sendKey, attempt } = stored;
  try {
    await deps.events.publish([{ type: 'MessageSent', messageId, roomId, seq, payload }]);
  } catch (error) {
    if (sendKey)
      await deps.sends
        .releasePublishing(sendKey, attempt)
        .catch((cause: unknown) =>
          logger.error(`a stored ${what} could not be handed back for publishing`, cause as Error),
        );
    throw error instanceof PublishFailed ? error.told(storedNotSent) : error;
  }
}
