import { Busy, PublishFailed } from '../../platform/errors';
import { logger } from '../../platform/powertools';
import type { ChatPorts, SendRecord } from '../ports';
import { epochSeconds } from '../rooms/roomLife';

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

/**
 * The tries of one append, for the loop that makes them: `another()` before each try, `pauseAfterConflict()` before
 * the fresh read that follows a transaction conflict; a lost race is tried again at once. When `another()` says no
 * (out of patience: a conflict that persists, or a room busier than MAX_TRIES races), the sender is told Busy and
 * retries its clientMsgId.
 */
export class AppendTries {
  private tries = 0;
  private conflicts = 0;

  constructor(private readonly signal: AbortSignal | undefined) {}

  /** Whether to try once more; Busy when the sender was already answered Busy (its retry stores the event). */
  another(): boolean {
    if (this.tries >= MAX_TRIES || this.conflicts >= MAX_CONFLICTS) return false;
    if (this.signal?.aborted) throw new Busy();
    this.tries++;
    return true;
  }

  async pauseAfterConflict(): Promise<void> {
    this.conflicts++;
    await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 20 * this.conflicts));
  }
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

/** How long a clientMsgId's record is kept: a retry within it gets the first reply. */
const SEND_RECORD_TTL_SECONDS = 24 * 3600;
/** A publisher with no invocation deadline (outside Lambda) holds publishing this long: sendmessage's timeout. */
const PUBLISH_WITHOUT_DEADLINE_MS = 10_000;

/**
 * The record an attempt writes with its event under a clientMsgId: it publishes the event, until its invocation ends
 * (`deadline`, epoch ms).
 */
export function sendRecordOf(sendKey: string, attempt: string, now: Date, deadline: number | undefined) {
  return {
    sendKey,
    publisher: attempt,
    publishUntil: deadline ?? now.getTime() + PUBLISH_WITHOUT_DEADLINE_MS,
    expiresAt: epochSeconds(now) + SEND_RECORD_TTL_SECONDS,
  };
}

/**
 * Whether a retry (`attempt`, whose invocation ends at `deadline`) publishes the event its clientMsgId stored before:
 * when nobody publishes it, because its publisher handed publishing back or that publisher's invocation has ended. On
 * Lambda an invocation that answered (busy, before its timeout) is frozen at once, and its environment may be shut
 * down before its PutEvents: the event would reach the room only with the room's next one. Two publishes of one
 * event are harmless: the fan-out delivers each seq once (its cursor).
 */
export async function takesPublishing(
  deps: Pick<ChatPorts, 'sends' | 'now'>,
  record: SendRecord,
  attempt: string,
  deadline: number | undefined,
): Promise<boolean> {
  const now = deps.now().getTime();
  if (record.publisher !== undefined && !((record.publishUntil ?? Infinity) < now)) return false;
  return deps.sends.takePublishing(record.sendKey, attempt, {
    now,
    until: deadline ?? now + PUBLISH_WITHOUT_DEADLINE_MS,
  });
}
