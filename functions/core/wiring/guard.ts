import type { GuardDeps } from '#core/limits/guard';
import { limitSettings } from '#core/limits/limitSettings';
import type { PersonGate } from '#core/limits/personRate';
import { systemClock } from '#platform/clock';
import { onFirstCall } from '#platform/onFirstCall';
import { guardStore, quotaStore } from './dynamodb';
import { connectionCloser } from './managementApi';

/** The abuse limits of every WebSocket route (guard.ts), with the limits the template sets, built once per runtime. */
export const guard = onFirstCall(
  (): GuardDeps => ({
    store: guardStore(),
    closer: connectionCloser(),
    // Runtime settings: read from the settings document on every invocation (platform/settings.ts).
    get limits() {
      return limitSettings.guardLimits();
    },
    now: systemClock,
  }),
);

/** A person's budgets across its connections (personRate.ts), in the Limits table; for the routes that take them. */
export const personGate = onFirstCall(
  (): PersonGate => ({
    store: quotaStore(),
    rates: () => limitSettings.personRates(),
    now: systemClock,
  }),
);
