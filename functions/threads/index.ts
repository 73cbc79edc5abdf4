import { handler as followthread } from './followthread';
import { handler as mythreads } from './mythreads';

/**
 * The threads feature's routes, for the route table of the function that hosts them (messages/index.ts):
 * `followthread`, and `mythreads` (the Threads view: a person's followed threads across its rooms, followedThreads.ts).
 * A thread's page is `history` with `threadOf` (messages/history.ts asks threads.ts threadHistory, giving it the room
 * history's frames); a reply is a `sendmessage` whose part threads take through the send path's hooks (threadSend.ts,
 * registered in messages/sendFeatures.ts).
 */
export const threadRoutes = [followthread, mythreads];
