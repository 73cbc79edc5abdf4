import { DynamoPresenceBoard } from '#core/identity/dynamoPresence';
import { PresenceOnBoards } from '#core/identity/presence';
import { documentClient } from '#platform/aws/clients';
import { requireEnv } from '#platform/config';
import { eventPublisher } from './eventbridge';

/** Rooms' presence boards, in the Limits table (`presence#<roomId>`): written where presence is told, taken by Prepare. */
export const presenceBoard = () => new DynamoPresenceBoard(documentClient(), requireEnv('LIMITS_TABLE'));

/**
 * The chat bus for a feature that tells joins and leaves: each goes on its room's presence board, and only a board's
 * opening puts the room's wake on the bus (core/identity/presence.ts); every other event is published as it is.
 */
export const presencePublisher = () => new PresenceOnBoards(eventPublisher(), presenceBoard());
