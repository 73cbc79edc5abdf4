import { featureHandler } from '#core/features';
import { blocklistRoute, blockRoute, reportRoute, reportsRoute, unblockRoute } from './routes';

/**
 * The safety feature: blocking people, reporting messages and the owners' reports; one function routed by route key
 * (core/features.ts). Its role alone writes block lists and reports; the word filter (filter.ts) runs in the
 * messages function, before a message is stored.
 */
export const routes = [blockRoute, unblockRoute, blocklistRoute, reportRoute, reportsRoute];
export const handler = featureHandler('safety', routes);
