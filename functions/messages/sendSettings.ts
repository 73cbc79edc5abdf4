import type { SendRate } from '#core/ports';
import { guardStore } from '#core/wiring/dynamodb';
import { systemClock } from '#platform/clock';
import { config } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { type Settings, settings } from '#platform/settings';
import type { SendSettings } from './ports';

/**
 * The per-connection send rate (SendRateLimit per SendRateWindowSeconds); a limit of 0 = no limit.
 * Exported for tests: config.test.ts reads the rate of a settings document without a route's deploy-time constants.
 */
export function sendRateOf(s: Settings): SendRate | undefined {
  return s.SendRateLimit > 0 ? { limit: s.SendRateLimit, windowSeconds: s.SendRateWindowSeconds } : undefined;
}

/**
 * The settings every write of a message takes (sendmessage, and editmessage, deletemessage and react), said once.
 * MessageRetentionDays is a template parameter, read once; RoomIdleDays and SendRateLimit are runtime settings, read
 * from the settings document on every invocation (platform/settings.ts), so they are getters defined on `deps`
 * itself. Never `{ ...withSendSettings({}) }` at build time: spreading an object of getters evaluates them once and
 * the route would keep the first invocation's values.
 */
export function withSendSettings<T extends object>(deps: T): T & SendSettings {
  return Object.defineProperties(deps, {
    messageRetentionDays: { value: config.messageRetentionDays(), enumerable: true },
    roomIdleDays: { get: () => settings().RoomIdleDays, enumerable: true },
    sendRate: { get: () => sendRateOf(settings()), enumerable: true },
  }) as T & SendSettings;
}

/** Who may post in the lobby and how often (LobbyPolicy, LobbyPostLimit): every message write checks it. */
export const lobbyGate = onFirstCall(() => ({
  get policy() {
    return settings().LobbyPolicy;
  },
  get postRate() {
    const s = settings();
    return { limit: s.LobbyPostLimit, windowSeconds: s.LobbyPostWindowSeconds };
  },
  store: guardStore(),
  now: systemClock,
}));
