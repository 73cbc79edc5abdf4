import { type SettingName, useSettingsForTests } from '#platform/settings';

/**
 * The settings document of the unit tests (tests/setup/env.ts puts it in force for every file): an open lobby and
 * every limit per connection or source off, as the local cloud runs; a test of a limit turns it on with withSettings.
 */
export const UNIT_SETTINGS: Readonly<Partial<Record<SettingName, unknown>>> = {
  LobbyPolicy: 'open',
  LobbyPostLimit: 0,
  ConnectionsPerSource: 0,
  SendRateLimit: 0,
  FrameRateLimit: 0,
  ConnectRateLimit: 0,
  RoomCreateLimit: 0,
  StrikeLimit: 0,
  JoinGuessLimit: 0,
};

/** The unit tests' document with `overrides` over it, in force from now on (no Parameter Store). */
export function withSettings(overrides: Partial<Record<SettingName, unknown>> = {}): void {
  useSettingsForTests({ ...UNIT_SETTINGS, ...overrides });
}

/** The per-connection guards at their deployed defaults (functions/platform/settingsSchema.ts): sends, frames, strikes. */
export const DEFAULT_GUARDS: Readonly<Partial<Record<SettingName, unknown>>> = {
  SendRateLimit: 10,
  SendRateWindowSeconds: 10,
  FrameRateLimit: 100,
  FrameRateWindowSeconds: 60,
  StrikeLimit: 10,
  StrikeWindowSeconds: 600,
};
