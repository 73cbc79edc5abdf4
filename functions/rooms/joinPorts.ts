import { connectionStore, roomStore } from '#core/wiring/dynamodb';
import { eventPublisher } from '#core/wiring/eventbridge';
import { messageStore } from '#messages/wiring';
import { systemClock } from '#platform/clock';
import { authorProfiles, roomEntry } from './wiring';

/**
 * What a join into a room needs (functions/rooms/joining.ts): the connection, the room, its recent messages,
 * the atomic entry, and the bus that tells the room. Shared by every route that joins (joinroom, opendm).
 */
export const joinPorts = () => ({
  connections: connectionStore(),
  rooms: roomStore(),
  messages: messageStore(),
  entry: roomEntry(),
  events: eventPublisher(),
  now: systemClock,
  authorProfiles: authorProfiles(),
});
