import { Forbidden, NotAllowed } from '#core/errors';
import { senderOf } from '#core/memberKeys';
import type { Connection } from '#core/ports';
import { logger } from '#platform/powertools';
import type { FilterMode } from '#platform/settingsSchema';
import type { AuditLog } from './audit';
import type { DmBlocks } from './dynamoDmBlocks';
import { FilteredWords, filterText } from './filter';

/**
 * What the messages and people functions ask of the safety feature before they store or open anything: the word
 * filter (with its audit row) and the direct-message blocks.
 */

/**
 * The text to store after the word filter; a refusal (FILTERED) or a mask is recorded in the moderation log first.
 * `who` is read only when a word matched, so a clean message costs nothing.
 */
export async function screenText(
  text: string,
  setting: { words: string; mode: FilterMode },
  who: () => Promise<Connection | undefined>,
  audit: () => AuditLog,
  now: Date,
): Promise<string> {
  let matched: string[];
  let screened: string;
  let refused: FilteredWords | undefined;
  try {
    ({ text: screened, matched } = filterText(text, setting));
  } catch (error) {
    if (!(error instanceof FilteredWords)) throw error;
    refused = error;
    matched = error.matched;
    screened = text;
  }
  if (matched.length > 0) {
    const connection = await who().catch(() => undefined);
    // Built on the first hit only: a function whose texts never match needs no moderation log wired.
    await Promise.resolve()
      .then(() =>
        audit().record({
          kind: 'filtered',
          roomId: connection?.roomId ?? 'unknown',
          actor: connection ? senderOf(connection) : 'unknown',
          actorName: connection?.username ?? 'unknown',
          at: now.toISOString(),
          detail: { outcome: refused ? 'refused' : 'masked', words: matched },
        }),
      )
      .catch((error: unknown) =>
        logger.error('moderation log: a filtered message was not recorded', error as Error),
      );
  }
  if (refused) throw refused;
  return screened;
}

/**
 * Refuses a send into a direct-message room where either of the pair blocks the other. The blocked one is not told
 * why (a sentence that also fits other reasons, as Discord does); the blocker is told to unblock first.
 */
export async function admitDirectSend(blocks: DmBlocks, sender: Connection): Promise<void> {
  const blockers = await blocks.blockers(sender.roomId);
  if (blockers.length === 0) return;
  if (sender.userId !== undefined && blockers.includes(sender.userId))
    throw new Forbidden('You blocked this person: unblock them to send them messages.');
  throw new NotAllowed(NOT_DELIVERED);
}

const NOT_DELIVERED =
  'Your message could not be delivered: this person may have left, or does not take direct messages from you.';

/** opendm's check of a pair: the blocked one is refused with the send's sentence, learning nothing more. */
export async function admitDirectOpen(blocks: DmBlocks, dmRoomId: string, opener: string): Promise<void> {
  const blockers = await blocks.blockers(dmRoomId);
  if (blockers.length === 0) return;
  if (blockers.includes(opener))
    throw new Forbidden('You blocked this person: unblock them to send them messages.');
  throw new NotAllowed(NOT_DELIVERED);
}

/**
 * The word filter's part in sending a message (functions/messages/sendHooks.ts, typed there by shape: safety imports
 * no messages module): the text screened before anything is read or stored, refused FILTERED or stored masked, with
 * the setting in force (FilterWords, FilterMode) read on every send.
 */
export function filterSendHook(
  setting: () => { words: string; mode: FilterMode },
  audit: () => AuditLog,
  clock: () => Date,
) {
  return {
    name: 'word filter',
    begin: async (frame: { text: string; connection: () => Promise<Connection> }) => ({
      text: await screenText(frame.text, setting(), frame.connection, audit, clock()),
    }),
  };
}
