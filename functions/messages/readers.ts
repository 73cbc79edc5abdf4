import { documentClient } from '#platform/aws/clients';
import { config } from '#platform/config';
import { DynamoMessageStore } from './dynamoMessages';
import { readThreadRoot } from './dynamoThreadRoots';

/**
 * What other features read of the messages feature, wired apart from wiring.ts (the stores that write messages,
 * changes, threads and search) so a function that only reads holds none of those: a room's history, with its
 * messages' reactions and the room's pins (the Reactions table and the pins item), for a join's and a resume's
 * backlog (rooms, people's opendm) and the history route; a thread's followers, for push.
 */
export const messageStore = () =>
  new DynamoMessageStore(documentClient(), config.messagesTable(), config.reactionsTable());

/** The signed-in followers (`userId`s) of the thread rooted at `rootSeq`; [] when the root is gone. */
export const threadFollowers =
  () =>
  async (roomId: string, rootSeq: number, nowSeconds: number): Promise<string[]> =>
    (await readThreadRoot(documentClient(), config.messagesTable(), roomId, rootSeq, nowSeconds))
      ?.followerUsers ?? [];
