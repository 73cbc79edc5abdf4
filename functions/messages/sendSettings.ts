import { guardStore } from '#core/wiring/dynamodb';
import { systemClock } from '#platform/clock';
import { config } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { settings } from '#platform/settings';
import type { SendSettings } from './ports';

/**
 * The template parameter every write of a message takes (sendmessage, and editmessage, deletemessage and react),
 * read once. The runtime settings a write obeys (SendRateLimit, RoomIdleDays) are read where they are used, from
 * the settings in force (rateLimit.ts takeMessageToken, the room's end in sending.ts and changing.ts). Assigned onto
 * `deps` itself, so the getters a route's deps hold stay getters.
 */
export function withSendSettings<T extends object>(deps: T): T & SendSettings {
  return Object.assign(deps, { messageRetentionDays: config.messageRetentionDays() });
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
