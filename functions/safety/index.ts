import { featureHandler } from '#core/features';
import {
  blocklistRoute,
  blockRoute,
  modLogRoute,
  reportRoute,
  reportsRoute,
  resolveReportRoute,
  unblockRoute,
} from './routes';

/**
 * The safety feature: blocking people, reporting messages, the reports their owners and moderators list and
 * resolve, and the room's moderation log they read (modlog.ts); one function routed by route key
 * (core/features.ts). Its role alone writes block lists and reports; the word filter (filter.ts) runs in the
 * messages function, before a message is stored.
 * Exported for tests: tests/template/routes.test.ts holds each feature's routes to the template.
 */
export const routes = [
  blockRoute,
  unblockRoute,
  blocklistRoute,
  reportRoute,
  reportsRoute,
  resolveReportRoute,
  modLogRoute,
];
export const handler = featureHandler('safety', routes);
