import { handler as search } from './search';

/**
 * The search feature's routes, for the route table of the function that hosts them (messages/index.ts): `search`.
 * Its index is written by the fan-out (indexing.ts, hosted by deliver/) and rewritten by a change (searching.ts
 * `reindexHook`, registered in messages/changeFeatures.ts).
 */
export const searchRoutes = [search];
