import { onFirstCall } from '#platform/onFirstCall';
import { reindexHook } from '#search/searching';
import { wordIndex } from '#search/wiring';
import type { ChangeHook } from './changeHooks';

/**
 * The features that keep something of their own in step with a message's changes (changeHooks.ts), built with the
 * template's names on the first change: search rewrites the message's words in its index (search/searching.ts).
 */
export const changeHooks = onFirstCall((): readonly ChangeHook[] => [reindexHook(wordIndex())]);
