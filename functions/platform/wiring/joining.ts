import { systemClock } from '../clock';
import { connectionStore, messageStore, roomEntry, roomStore } from './dynamodb';
import { eventPublisher } from './eventbridge';

/**
 * What a join into a room needs (functions/domain/rooms/joining.ts): the connection, the room, its recent messages,
 * the atomic entry, and the bus that tells the room. Shared by every route that joins (joinroom, opendm).
 */
export const joinPorts = () => ({
  connections: connectionStore(),
  rooms: roomStore(),
  messages: messageStore(),
  entry: roomEntry(),
  events: eventPublisher(),
  now: systemClock,
});
