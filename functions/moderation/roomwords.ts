import { servedFrom } from '#core/limits/guard';
import { routeHandler } from '#core/websocket';
import { type ModerationDeps, parseRoomWords, roomWords } from './moderation';

/** roomwords: the owner sets the room's own filtered words ([] clears them) (functions/moderation/moderation.ts). */
export const roomwordsRoute = (deps: () => ModerationDeps) =>
  routeHandler('roomwords', 'room', (frame) =>
    roomWords(servedFrom(deps(), frame), frame.connectionId, parseRoomWords(frame.body.words)),
  );
