import { servedFrom } from '#core/limits/guard';
import { lobbyClosed } from '#core/lobby';
import { parseHistoryQuery } from '#core/protocol';
import { routeHandler } from '#core/websocket';
import { connectionStore } from '#core/wiring/dynamodb';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { settings } from '#platform/settings';
import { type ThreadFrames, threadHistory } from '#threads/threads';
import { followedStore, threadStore } from '#threads/wiring';
import { messageFrameOf, type StoredMessage } from './changeFrames';
import type { MessageStore } from './ports';
import { messageStore } from './readers';
import { framesFor, history, withQuotes } from './roomHistory';
import { authorProfiles } from './wiring';

/** A thread's replies and root shown as this room's history shows its messages (threads.ts threadHistory). */
const threadFrames = (messages: MessageStore): ThreadFrames => ({
  replies: async (reader, replies, nowSeconds) =>
    framesFor(messages, reader, await withQuotes(messages, reader.roomId, replies, nowSeconds)),
  root: (message) => messageFrameOf(message as StoredMessage),
});

const deps = onFirstCall(() => {
  const messages = messageStore();
  return {
    connections: connectionStore(),
    messages,
    threads: threadStore(),
    followed: followedStore(),
    frames: threadFrames(messages),
    now: systemClock,
    authorProfiles: authorProfiles(),
  };
});

// Read on every call: LobbyPolicy is a runtime setting (platform/settings.ts).
const noLobby = () => lobbyClosed(settings().LobbyPolicy);

export const handler = routeHandler('history', 'room', (frame) => {
  const query = parseHistoryQuery(frame.body);
  // A thread's page (threadOf): its replies, with its root (functions/threads/threads.ts).
  if (query.threadOf !== undefined)
    return threadHistory(servedFrom(deps(), frame), frame.connectionId, {
      ...query,
      threadOf: query.threadOf,
    });
  return history(servedFrom(deps(), frame), frame.connectionId, query, { noLobby: noLobby() });
});
