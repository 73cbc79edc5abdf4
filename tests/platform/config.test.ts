import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { busyFrom, toErrorFrame } from '#core/errors';
import { limitSettings } from '#core/limits/limitSettings';
import { sendRateOf } from '#core/limits/rateLimit';
import { config } from '#platform/config';
import { logger } from '#platform/powertools';
import { loadSettings, resetSettingsForTests, SettingsUnavailable, settings } from '#platform/settings';
import { createLocalSsm } from '../../tools/local/ssm';
import { DEFAULT_GUARDS, withSettings } from '../helpers/unitSettings';

/**
 * Names of the stack's resources and deploy-time constants come from the environment, and a missing one fails
 * loudly with its name. The runtime settings come from the settings document, loaded at the start of each
 * invocation: read through Powertools from Parameter Store (here the local cloud's twin), a bad value or an
 * unreadable document never fails a user's frame, and reading a setting before the load is a programming error.
 */
const saved = { ...process.env };
/**
 * Moves the clock `ms` on: the settings cache (Powertools' and the retry's) reads `Date`, so only `Date` is faked
 * and the local SSM's sockets and timers run as usual.
 */
function later(ms: number): void {
  jest.useFakeTimers({
    doNotFake: [
      'nextTick',
      'setImmediate',
      'setTimeout',
      'clearTimeout',
      'setInterval',
      'clearInterval',
      'queueMicrotask',
      'hrtime',
      'performance',
    ],
  });
  jest.setSystemTime(Date.now() + ms);
}
/** What `run` throws. */
function catching(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
afterEach(() => {
  jest.useRealTimers();
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
  withSettings();
  jest.restoreAllMocks();
});

it('refuses to run without MESSAGE_RETENTION_DAYS, a deploy-time constant, naming it', () => {
  delete process.env.MESSAGE_RETENTION_DAYS;
  expect(() => config.messageRetentionDays()).toThrow(
    'environment variable MESSAGE_RETENTION_DAYS is not set',
  );
  process.env.MESSAGE_RETENTION_DAYS = 'seven';
  expect(() => config.messageRetentionDays()).toThrow(
    'MESSAGE_RETENTION_DAYS must be a number above 0, got "seven"',
  );
});

it('reads the limits and windows from the document', () => {
  withSettings({
    ...DEFAULT_GUARDS,
    JoinGuessLimit: 50,
    JoinGuessRefillHours: 2,
  });
  expect(sendRateOf(settings())).toEqual({ limit: 10, windowSeconds: 10 });
  expect(limitSettings.guardLimits()).toEqual({
    frames: { limit: 100, windowSeconds: 60 },
    joinGuesses: { limit: 50, windowSeconds: 7200 },
    strikes: { limit: 10, windowSeconds: 600 },
  });
});

it('turns a guard off at 0', () => {
  withSettings({ SendRateLimit: 0, FrameRateLimit: 0, StrikeLimit: 0, JoinGuessLimit: 0 });
  expect(sendRateOf(settings())).toBeUndefined();
  expect(limitSettings.guardLimits()).toEqual({});
});

it('uses the default of a setting the document leaves out', () => {
  withSettings({});
  resetSettingsForTests();
  withSettings({});
  expect(settings().SeenByMaxMembers).toBe(50);
});

it('ignores a value outside its schema with an error log naming it, and uses the default', async () => {
  const errors = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
  withSettings({ SendRateLimit: -1, LobbyPolicy: 'everyone', TypingMaxMembers: 20 });
  await loadSettings();
  expect(sendRateOf(settings())).toEqual({ limit: 10, windowSeconds: 10 });
  expect(settings().LobbyPolicy).toBe('broadcasts');
  expect(settings().TypingMaxMembers).toBe(20);
  const logged = errors.mock.calls.map((call) => String(call[0]));
  expect(logged).toEqual(
    expect.arrayContaining([
      expect.stringContaining('SendRateLimit must be a whole number from 0 to 999999, got -1'),
      expect.stringContaining('LobbyPolicy must be one of open, broadcasts, off, got "everyone"'),
    ]),
  );
});

it('fails loudly when a setting is read before the invocation loaded the document', () => {
  resetSettingsForTests();
  expect(() => settings()).toThrow('roomcast settings read before loadSettings()');
});

describe('the document in Parameter Store, read through Powertools', () => {
  const NAME = '/test-stack/settings';
  let server: Server;
  let endpoint: string;
  let ssm: SSMClient;
  const put = (value: string) =>
    ssm.send(new PutParameterCommand({ Name: NAME, Value: value, Type: 'String', Overwrite: true }));

  beforeAll(async () => {
    server = createServer(
      createLocalSsm({
        region: 'us-east-1',
        accountId: '000000000000',
        parameters: [{ name: NAME, value: '{}', type: 'String' }],
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ssm = new SSMClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
  });
  afterAll(async () => {
    resetSettingsForTests();
    withSettings();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(async () => {
    resetSettingsForTests();
    Object.assign(process.env, {
      SETTINGS_PARAMETER: NAME,
      AWS_ENDPOINT_URL_SSM: endpoint,
      SETTINGS_MAX_AGE_SECONDS: '1',
    });
    await put('{}');
  });

  it('sees a change once the cache age has passed, without a restart', async () => {
    await put('{"SendRateLimit":3}');
    await loadSettings();
    expect(settings().SendRateLimit).toBe(3);
    await put('{"SendRateLimit":7}');
    await loadSettings();
    expect(settings().SendRateLimit).toBe(3); // still cached
    later(1_100);
    await loadSettings();
    expect(settings().SendRateLimit).toBe(7);
  });

  it('keeps the last good document when the next one cannot be read, and says so', async () => {
    const errors = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    await put('{"SendRateLimit":4}');
    await loadSettings();
    await put('{not json');
    later(1_100);
    await loadSettings();
    expect(settings().SendRateLimit).toBe(4);
    expect(String(errors.mock.calls.at(-1)?.[0])).toContain('the last good settings are used');
  });

  it('fails closed when no document was ever read: a setting read is BUSY, never a default, until a read succeeds', async () => {
    const errors = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    process.env.SETTINGS_PARAMETER = '/no-such-stack/settings';
    await loadSettings();
    expect(() => settings()).toThrow(SettingsUnavailable);
    // A route turns it into its BUSY frame (a retry in a moment), not INTERNAL.
    expect(toErrorFrame(busyFrom(catching(() => settings())), 'sendmessage', {})).toMatchObject({
      type: 'error',
      code: 'BUSY',
    });
    expect(String(errors.mock.calls.at(-1)?.[0])).toContain('requests are refused BUSY until it is');
    // The document appears: the environment reads it again a second later (not a cache age) and runs on it.
    process.env.SETTINGS_PARAMETER = NAME;
    await put('{"SendRateLimit":5}');
    await loadSettings();
    expect(() => settings()).toThrow(SettingsUnavailable); // within the second: not asked again
    later(1_100);
    await loadSettings();
    expect(settings().SendRateLimit).toBe(5);
  });
});
