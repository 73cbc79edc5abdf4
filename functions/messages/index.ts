// The first import: X-Ray wraps the handler and the SDK clients of this function (functions/platform/tracing.ts).
import '#platform/tracing';
import { featureHandler } from '#core/features';
import { searchRoutes } from '#search/index';
import { threadRoutes } from '#threads/index';
import { changeRoutes } from './changes';
import { handler as history } from './history';
import { handler as sendmessage } from './sendmessage';

/**
 * The messages feature: sending, reading back (history) and changing messages (edit, delete, react), and the routes of
 * the features this function hosts (threads', search's); one function routed by route key (core/features.ts), traced
 * as a message's path (Tracing: Active).
 * Exported for tests: tests/template/routes.test.ts holds each feature's routes to the template.
 */
export const routes = [
  sendmessage,
  history,
  // editmessage, deletemessage, react, pinmessage: every change action the protocol names (changes.ts).
  ...changeRoutes,
  // followthread, mythreads, threadread: the threads feature's routes (threads/index.ts).
  ...threadRoutes,
  // search: the search feature's routes (search/index.ts).
  ...searchRoutes,
];
export const handler = featureHandler('messages', routes);
