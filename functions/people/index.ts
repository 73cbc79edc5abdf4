import { featureHandler } from '#core/features';
import { handler as findpeople } from './findpeople';
import { handler as opendm } from './opendm';

/**
 * The people feature: finding members by name in the caller's rooms and opening a direct message with one; one
 * function routed by route key (core/features.ts). Kept apart from rooms: only these two routes read the
 * people and user indexes (a member's devices), so the rooms function's role holds neither.
 * Exported for tests: tests/template/routes.test.ts holds each feature's routes to the template.
 */
export const routes = [findpeople, opendm];
export const handler = featureHandler('people', routes);
