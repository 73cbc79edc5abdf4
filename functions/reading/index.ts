import { featureHandler } from '#core/features';
import { handler as markread } from './markread';
import { handler as seenby } from './seenby';

/**
 * The reading feature: a member's read position (markread) and who has seen a message (seenby); one function routed
 * by route key (core/features.ts).
 * Exported for tests: tests/template/routes.test.ts holds each feature's routes to the template.
 */
export const routes = [markread, seenby];
export const handler = featureHandler('reading', routes);
