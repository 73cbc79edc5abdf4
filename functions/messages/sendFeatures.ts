import { mentionSendHook } from '#mentions/mentionSend';
import { mentionSendDeps } from '#mentions/wiring';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { settings } from '#platform/settings';
import { moderationRecords } from '#safety/auditWiring';
import { filterSendHook } from '#safety/screening';
import { threadSendHook } from '#threads/threadSend';
import { followedStore, threadStore } from '#threads/wiring';
import type { SendHook } from './sendHooks';

/**
 * The features that take part in sending a message (sendHooks.ts), in the order each phase runs them, built with the
 * template's names on the first send. Threads read their frame fields before the filter screens the text (a bad
 * `threadOf` is refused before the filter's audit row); the notices of mentions read what the thread left.
 */
export const sendHooks = onFirstCall((): readonly SendHook[] => [
  threadSendHook(threadStore(), followedStore()),
  filterSendHook(
    () => ({ words: settings().FilterWords, mode: settings().FilterMode }),
    onFirstCall(moderationRecords),
    systemClock,
  ),
  mentionSendHook(mentionSendDeps()),
]);
