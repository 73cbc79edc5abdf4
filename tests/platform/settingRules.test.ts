import { resolveSettings } from '#platform/settings';
import { brokenRules, defaultSettings, SETTING_RULES } from '#platform/settingsSchema';

/**
 * The rules between runtime settings (settingsSchema.ts SETTING_RULES) as a function reads its settings document:
 * the defaults keep every rule, and overrides that together break one fall back to that rule's defaults, so a
 * connection sending within its send rate is never closed by the frame guard.
 */
it('keeps every rule with the defaults', () => {
  expect(SETTING_RULES.length).toBeGreaterThan(0);
  expect(brokenRules(defaultSettings())).toEqual([]);
});

it('reads a send rate the frame guard would punish as the defaults of both, keeping the other overrides', () => {
  const settings = resolveSettings({ SendRateLimit: 20, StrikeLimit: 5 });
  expect(settings.SendRateLimit).toBe(10);
  expect(settings.FrameRateLimit).toBe(100);
  expect(settings.StrikeLimit).toBe(5);
  expect(brokenRules(settings)).toEqual([]);
});

it('takes overrides that keep the rule together', () => {
  const settings = resolveSettings({ SendRateLimit: 20, FrameRateLimit: 150 });
  expect(settings.SendRateLimit).toBe(20);
  expect(settings.FrameRateLimit).toBe(150);
});

it('lets 0 (no limit) on either side stand', () => {
  expect(resolveSettings({ SendRateLimit: 500, FrameRateLimit: 0 }).SendRateLimit).toBe(500);
  expect(resolveSettings({ SendRateLimit: 0, FrameRateLimit: 5 }).FrameRateLimit).toBe(5);
});
