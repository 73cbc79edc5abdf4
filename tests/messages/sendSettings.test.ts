import { withSendSettings } from '#messages/sendSettings';
import { withSettings } from '../helpers/unitSettings';

/**
 * The send settings sendmessage and the message changes share (functions/messages/sendSettings.ts): an operator who
 * changes SendRateLimit or RoomIdleDays in the settings document sees the next message obey it, with no redeploy and
 * no cold start. The deps are built once per runtime, so the runtime settings must stay getters on them.
 */
afterEach(() => withSettings());

it('reads the runtime settings on every use, after the deps were built', () => {
  withSettings({ SendRateLimit: 5, SendRateWindowSeconds: 10, RoomIdleDays: 30 });
  const deps = withSendSettings({ sends: 'the store' });
  expect(deps).toMatchObject({ sends: 'the store', messageRetentionDays: 7, roomIdleDays: 30 });
  expect(deps.sendRate).toEqual({ limit: 5, windowSeconds: 10 });

  withSettings({ SendRateLimit: 0, RoomIdleDays: 2 });
  expect(deps.sendRate).toBeUndefined();
  expect(deps.roomIdleDays).toBe(2);
});

it('keeps them live through a copy the route makes per invocation', () => {
  const deps = withSendSettings({});
  withSettings({ RoomIdleDays: 3 });
  expect({ ...deps }.roomIdleDays).toBe(3);
  withSettings({ RoomIdleDays: 4 });
  expect({ ...deps }.roomIdleDays).toBe(4);
});
