import { documentClient } from '#platform/aws/clients';
import { config } from '#platform/config';
import { DynamoDmBlocks } from './dynamoDmBlocks';

/**
 * The safety feature's adapters other features take, each given the table names template.yaml sets for it: the
 * messages and people functions' screening (screening.ts); the moderation log's is in auditWiring.ts (the messages
 * function's word filter and the safety function write it, opendm does not). What only the safety function's routes use (block lists,
 * the reported message's read) is built in routes.ts, so no other bundle holds it.
 */

/** Direct-message blocks (the Rooms table's `<dmRoomId>#blocks` items): the safety, messages and people functions. */
export const dmBlocks = () => new DynamoDmBlocks(documentClient(), config.roomsTable());
