import { config } from '../../functions/platform/config';

/**
 * Every setting has one source, the template: the code keeps no copy of a default, so a function deployed without
 * a variable it needs fails on its first invocation naming that variable, instead of running on a stale number.
 */
const saved = { ...process.env };
afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
});

it.each([
  ['MESSAGE_RETENTION_DAYS', () => config.messageRetentionDays()],
  ['SESSION_RETENTION_DAYS', () => config.sessionRetentionDays()],
  ['SEND_RATE_LIMIT', () => config.sendRate()],
  ['FRAME_RATE_LIMIT', () => config.guardLimits()],
  ['STRIKE_LIMIT', () => config.guardLimits()],
  ['OIDC_GROUPS_CLAIM', () => config.oidcGroupsClaim()],
])('refuses to run without %s, naming it', (name, read) => {
  process.env.OIDC_GROUPS_CLAIM = 'groups';
  delete process.env[name];
  expect(read).toThrow(`environment variable ${name} is not set`);
});

it.each([
  ['SEND_RATE_LIMIT', 'SEND_RATE_WINDOW_SECONDS', () => config.sendRate()],
  ['FRAME_RATE_LIMIT', 'FRAME_RATE_WINDOW_SECONDS', () => config.guardLimits()],
  ['JOIN_GUESS_LIMIT', 'JOIN_GUESS_REFILL_HOURS', () => config.guardLimits()],
])('needs %s window (%s) once the limit is on', (limit, window, read) => {
  process.env[limit] = '5';
  delete process.env[window];
  expect(read).toThrow(`environment variable ${window} is not set`);
  process.env[window] = '0';
  expect(read).toThrow(`${window} must be above 0`);
});

it('reads the limits and windows as the template sets them', () => {
  Object.assign(process.env, {
    SEND_RATE_LIMIT: '10',
    SEND_RATE_WINDOW_SECONDS: '10',
    FRAME_RATE_LIMIT: '100',
    FRAME_RATE_WINDOW_SECONDS: '60',
    STRIKE_LIMIT: '10',
    STRIKE_WINDOW_SECONDS: '600',
    JOIN_GUESS_LIMIT: '50',
    JOIN_GUESS_REFILL_HOURS: '2',
  });
  expect(config.sendRate()).toEqual({ limit: 10, windowSeconds: 10 });
  expect(config.guardLimits()).toEqual({
    frames: { limit: 100, windowSeconds: 60 },
    joinGuesses: { limit: 50, windowSeconds: 7200 },
    strikes: { limit: 10, windowSeconds: 600 },
  });
});

it('turns a guard off at 0, and leaves join guesses out of functions the template gives no JOIN_GUESS_LIMIT', () => {
  Object.assign(process.env, { SEND_RATE_LIMIT: '0', FRAME_RATE_LIMIT: '0', STRIKE_LIMIT: '0' });
  delete process.env.JOIN_GUESS_LIMIT;
  expect(config.sendRate()).toBeUndefined();
  expect(config.guardLimits()).toEqual({});
});

it('refuses a setting that is not a number', () => {
  process.env.MESSAGE_RETENTION_DAYS = 'seven';
  expect(() => config.messageRetentionDays()).toThrow('MESSAGE_RETENTION_DAYS must be a number, got "seven"');
});
