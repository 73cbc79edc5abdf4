import { threadShown } from '#threads/threadShown';
import type { MessagePart } from './changeHooks';

/**
 * The features that show something of their own on a message's frame (changeHooks.ts MessagePart), in the order the
 * frame lists them: threads show a reply's place and a root's summary (threads/threadShown.ts).
 */
export const messageParts: readonly MessagePart[] = [threadShown];
