import { documentClient } from '#platform/aws/clients';
import { config } from '#platform/config';
import { DynamoMessageStore } from './dynamoMessages';

/**
 * What other features read of the messages feature, wired apart from wiring.ts (the stores that write messages,
 * changes, threads and search) so a function that only reads holds none of those: a room's history, with its
 * messages' reactions and the room's pins (the Reactions table and the pins item), for a join's and a resume's
 * backlog (rooms, people's opendm) and the history route.
 */
export const messageStore = () =>
  new DynamoMessageStore(documentClient(), config.messagesTable(), config.reactionsTable());
