import { declareRoute, featureHandler } from '#core/features';
import { handler as connect } from './connect';
import { handler as fallback } from './default';
import { handler as disconnect } from './disconnect';

/**
 * The connection feature: the handshake ($connect, behind the authorizer), the close ($disconnect) and the frames
 * no route matches ($default), one function routed by route key (core/features.ts).
 * Exported for tests: tests/template/routes.test.ts holds each feature's routes to the template.
 */
export const routes = [declareRoute('$connect', connect), declareRoute('$disconnect', disconnect), fallback];
export const handler = featureHandler('connection', routes);
