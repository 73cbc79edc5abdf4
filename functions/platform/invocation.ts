import { type LambdaHandler, withPowertools } from './powertoolsHandler';
import { loadSettings } from './settings';

/**
 * What every invocation runs through: Powertools' middleware (functions/platform/powertoolsHandler.ts) and the
 * runtime settings' load (functions/platform/settings.ts). It sits above both because settings.ts itself logs and
 * traces through powertools.ts; the wrapper living in powertools.ts made the two import each other.
 */

export type { LambdaHandler };

/**
 * Wraps a Lambda entry point in Powertools' middleware (`withPowertools`) and loads the runtime settings of the
 * invocation first: every entry point, the WebSocket routes, the REST routes and Deliver, comes through here. The
 * authorizers read no runtime setting and use `withPowertools` alone.
 */
export function instrumented<E, R>(handler: LambdaHandler<E, R>): LambdaHandler<E, R> {
  return withPowertools(async (event: E, context) => {
    await loadSettings();
    return handler(event, context);
  });
}
