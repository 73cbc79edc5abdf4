import { logger } from '#platform/powertools';
import type { MessageFrame } from '#protocol';
import type { StoredMessage } from './changeKinds/kind';

/**
 * The change path's extension points. A feature that keeps something of its own in step with a message's changes
 * registers a ChangeHook (changeFeatures.ts lists them); the change path (changing.ts, changeAnswers.ts, reacting.ts)
 * runs whatever is registered and names none of them.
 *
 * `afterStore`: a change stored in the message's own transaction (an edit, a delete, any kind but a reaction), by the
 * attempt that stored it, beside its publish and its moderation row; every hook at once. Advisory: the change is
 * stored and sent whatever a hook does, so a hook's failure is logged under its name, never the changer's error. A
 * retry answered from its clientMsgId's record runs none (its first attempt did), nor does a reaction, kept on its
 * own path (reacting.ts) and changing no field of the message a hook reads.
 */
export interface ChangeHook {
  /** Its name in logs. */
  readonly name: string;
  afterStore(changed: MessageChanged): Promise<void>;
}

/** What `afterStore` sees: the message as the change found it and as it leaves it. */
interface MessageChanged {
  before: StoredMessage;
  after: StoredMessage;
  /** When the message's own items expire (epoch seconds): its send time plus MessageRetentionDays. */
  expiresAt: number;
}

/**
 * A feature's part in a message's frame (changeFrames.ts): the fields it shows from its own attributes on the
 * message's item, listed before any change kind's state. messageParts.ts lists the parts; the frame names none. A
 * pure function of the item, so every frame of the message (sent, changed, in history, caught up) shows the same.
 */
export type MessagePart = (message: StoredMessage) => Partial<MessageFrame>;

/** `afterStore` over every hook, at once; each hook's failure logged, never thrown. */
export async function afterChangeStored(
  hooks: readonly ChangeHook[] | undefined,
  changed: MessageChanged,
): Promise<void> {
  await Promise.all(
    (hooks ?? []).map((hook) =>
      Promise.resolve()
        .then(() => hook.afterStore(changed))
        .catch((error: unknown) =>
          logger.warn('a change hook failed after the change was stored', {
            hook: hook.name,
            roomId: changed.before.roomId,
            seq: changed.before.seq,
            error: (error as Error).name,
          }),
        ),
    ),
  );
}
