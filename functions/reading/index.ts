import { featureHandler } from '#core/features';
import { handler as markread } from './markread';
import { handler as seenby } from './seenby';
import { handler as setnotices } from './setnotices';

/**
 * The reading feature: a member's read position (markread), who has seen a message (seenby) and a member's notices per room
 * (setnotices); one function routed
 * by route key (core/features.ts).
 * Exported for tests: tests/template/routes.test.ts holds each feature's routes to the template.
 */
export const routes = [markread, seenby, setnotices];
export const handler = featureHandler('reading', routes);
