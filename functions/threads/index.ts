import { handler as followthread } from './followthread';
import { handler as mythreads } from './mythreads';
import { handler as threadread } from './threadread';

/**
 * The threads feature's routes, for the route table of the function that hosts them (messages/index.ts):
 * `followthread`, `mythreads` (the Threads view: a person's followed threads across its rooms, followedThreads.ts) and
 * `threadread` (a followed thread's replies read while its pane stays open, readMark.ts).
 * A thread's page is `history` with `threadOf` (threads.ts threadPage, registered in messages/historyFeatures.ts,
 * which gives it the room history's frames); a reply is a `sendmessage` whose part threads take through the send
 * path's hooks (threadSend.ts, registered in messages/sendFeatures.ts).
 */
export const threadRoutes = [followthread, mythreads, threadread];
