import { handler as followthread } from './followthread';

/**
 * Threads' routes, served by the messages feature's function (its route table, ../index.ts, lists them). A thread's
 * page is `history` with `threadOf` (../history.ts asks threads.ts threadHistory); a reply is a `sendmessage` whose
 * part threads take through the send path's hooks (threadSend.ts, listed in ../sendFeatures.ts).
 */
export const threadRoutes = [followthread];
