import { connectionStore } from '#core/wiring/dynamodb';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { type ThreadFrames, threadPage } from '#threads/threads';
import { followedStore, threadStore } from '#threads/wiring';
import { messageFrameOf, type StoredMessage } from './changeFrames';
import type { HistoryPage } from './historyPages';
import type { MessageStore } from './ports';
import { messageStore } from './readers';
import { framesFor, withQuotes } from './roomHistory';

/** A thread's replies and root shown as this room's history shows its messages (threads.ts threadHistory). */
const threadFrames = (messages: MessageStore): ThreadFrames => ({
  replies: async (reader, replies, nowSeconds) =>
    framesFor(messages, reader, await withQuotes(messages, reader.roomId, replies, nowSeconds)),
  root: (message) => messageFrameOf(message as StoredMessage),
});

/**
 * The features whose pages `history` reads (historyPages.ts), built with the template's names on the first call:
 * a thread's page (`threadOf`: its replies, with its root; functions/threads/threads.ts), shown by this room
 * history's frames.
 */
export const historyPages = onFirstCall((): readonly HistoryPage[] => [
  threadPage({
    connections: connectionStore(),
    threads: threadStore(),
    followed: followedStore(),
    frames: threadFrames(messageStore()),
    now: systemClock,
  }),
]);
