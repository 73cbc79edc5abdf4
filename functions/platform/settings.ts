import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { SSMClient } from '@aws-sdk/client-ssm';
import { onFirstCall } from './onFirstCall';
import { logger, traced } from './powertools';

/**
 * The runtime settings: everything a function reads while it runs, in one JSON document in Parameter Store (the
 * stack's SettingsParameter, named by SETTINGS_PARAMETER). The document holds only overrides (`{}` = every default);
 * the defaults and the values each setting may take live here and nowhere else. `npm run settings` edits the
 * document (scripts/settings.mjs); a change reaches warm functions within SETTINGS_MAX_AGE_SECONDS, no redeploy.
 * What CloudFormation itself consumes (the fan-out's chunk sizes, the route throttle, retention...) cannot change
 * at run time: those are template.yaml's `Mappings.Deploy.Settings`.
 */
interface IntegerSetting {
  type: 'integer';
  min: number;
  max: number;
  default: number;
  description: string;
}
interface ChoiceSetting<T extends string = string> {
  type: 'choice';
  values: readonly T[];
  default: T;
  description: string;
}
interface TextSetting {
  type: 'text';
  /** The whole value must match. */
  pattern: RegExp;
  /** What the pattern allows, in words, for error messages. */
  allowed: string;
  default: string;
  description: string;
}
export type SettingSchema = IntegerSetting | ChoiceSetting | TextSetting;

const MAX = 999_999;
const int = (def: number, min: number, max: number, description: string): IntegerSetting => ({
  type: 'integer',
  default: def,
  min,
  max,
  description,
});

/** Who may post in the lobby (setting LobbyPolicy; lobby.ts). */
export type LobbyPolicy = 'open' | 'broadcasts' | 'off';
const LOBBY_POLICIES: readonly LobbyPolicy[] = ['open', 'broadcasts', 'off'];

export const SETTINGS = {
  SendRateLimit: int(10, 0, MAX, 'sends and message changes per connection per SendRateWindowSeconds; 0 = no limit'),
  SendRateWindowSeconds: int(10, 1, MAX, 'the window of SendRateLimit'),
  FrameRateLimit: int(
    100,
    0,
    MAX,
    'frames of every route per connection per FrameRateWindowSeconds (above the sends allowed); 0 = no limit',
  ),
  FrameRateWindowSeconds: int(60, 1, MAX, 'the window of FrameRateLimit'),
  StrikeLimit: int(10, 0, MAX, 'refused frames within StrikeWindowSeconds that close a connection; 0 = never'),
  StrikeWindowSeconds: int(600, 1, MAX, 'the window of StrikeLimit'),
  JoinGuessLimit: int(50, 0, MAX, 'failed joins by code per owner (a token bucket); 0 = no limit'),
  JoinGuessRefillHours: int(1, 1, MAX, 'hours the JoinGuessLimit bucket takes to refill'),
  ConnectionsPerSource: int(50, 0, 1000, 'live connections per owner; 0 = no cap'),
  ConnectRateLimit: int(50, 0, MAX, 'handshakes per owner per 10 minutes; 0 = no limit'),
  RoomCreateLimit: int(20, 0, MAX, 'rooms per owner per hour (createroom and opendm); 0 = no limit'),
  LobbyPolicy: {
    type: 'choice',
    values: LOBBY_POLICIES,
    default: 'broadcasts',
    description: 'who posts in the lobby: open (members), broadcasts (admin broadcasts only) or off (no lobby)',
  } as ChoiceSetting<LobbyPolicy>,
  LobbyPostLimit: int(20, 0, MAX, 'LobbyPolicy=open: lobby posts per source per LobbyPostWindowSeconds; 0 = no limit'),
  LobbyPostWindowSeconds: int(60, 1, MAX, 'the window of LobbyPostLimit'),
  SeenByMaxMembers: int(50, 1, 1000, 'largest room seenby shows read positions for and markread pushes reads to'),
  TypingMaxMembers: int(100, 0, 500, 'largest room typing is relayed in; 0 = typing off'),
  AttachmentsPerDay: int(100, 0, 99_999, 'image uploads per owner per day; 0 = no limit'),
  EditWindowMinutes: int(15, 1, MAX, 'minutes after sending in which a member may edit or delete its message'),
  RoomIdleDays: int(30, 1, MAX, 'days a room lives after its last message'),
  SessionRetentionDays: int(30, 1, MAX, 'days a closed session record is kept'),
  FanoutPostsPerSecond: int(8000, 1, MAX, 'posts per second every fan-out of the account may make in all'),
  OidcJwksUri: {
    type: 'text',
    pattern: /^(https:\/\/\S+)?$/,
    allowed: 'empty or an https URL',
    default: '',
    description: 'AuthMode=oidc: the JWKS URL; empty = <OidcIssuer>/.well-known/jwks.json',
  } as TextSetting,
  OidcGroupsClaim: {
    type: 'text',
    pattern: /^[A-Za-z0-9_:./-]{1,128}$/,
    allowed: '1-128 of A-Z a-z 0-9 _ : . / -',
    default: 'groups',
    description: "AuthMode=oidc: the token claim listing the user's groups",
  } as TextSetting,
} satisfies Record<string, SettingSchema>;

export type SettingName = keyof typeof SETTINGS;
type ValueOf<S> = S extends IntegerSetting
  ? number
  : S extends ChoiceSetting<infer T>
    ? T
    : S extends TextSetting
      ? string
      : never;
export type Settings = { [K in SettingName]: ValueOf<(typeof SETTINGS)[K]> };

export const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

/** Why `value` is not a value of `name`, or undefined when it is one (also used by scripts/settings.mjs's twin). */
export function refusal(name: string, value: unknown): string | undefined {
  const schema = (SETTINGS as Record<string, SettingSchema>)[name];
  if (!schema) return `${name} is not a runtime setting`;
  switch (schema.type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) && value >= schema.min && value <= schema.max
        ? undefined
        : `${name} must be a whole number from ${schema.min} to ${schema.max}, got ${JSON.stringify(value)}`;
    case 'choice':
      return typeof value === 'string' && schema.values.includes(value)
        ? undefined
        : `${name} must be one of ${schema.values.join(', ')}, got ${JSON.stringify(value)}`;
    case 'text':
      return typeof value === 'string' && schema.pattern.test(value)
        ? undefined
        : `${name} must be ${schema.allowed}, got ${JSON.stringify(value)}`;
  }
}

export function defaultSettings(): Settings {
  return Object.fromEntries(SETTING_NAMES.map((name) => [name, SETTINGS[name].default])) as Settings;
}

/**
 * The settings in force under a document of overrides: each valid override replaces its default; an invalid or
 * unknown one is ignored with an error log naming it, so one bad value never takes a function down.
 */
export function resolveSettings(document: Record<string, unknown>): Settings {
  const settings: Record<string, unknown> = defaultSettings();
  for (const [name, value] of Object.entries(document)) {
    const wrong = refusal(name, value);
    if (wrong) {
      logger.error(`roomcast settings: ${wrong}; the default is used`, { setting: name });
      continue;
    }
    settings[name] = value;
  }
  return settings as Settings;
}

/** How long a read document is kept before the next invocation reads it again (SSM GetParameter: docs/PARITY.md). */
export const SETTINGS_MAX_AGE_SECONDS = 60;
/** The cache age in force: the local cloud may shorten it for its tests (SETTINGS_MAX_AGE_SECONDS); AWS never sets it. */
function maxAgeSeconds(): number {
  const given = Number(process.env.SETTINGS_MAX_AGE_SECONDS);
  return Number.isFinite(given) && given > 0 ? given : SETTINGS_MAX_AGE_SECONDS;
}

const provider = onFirstCall(() => new SSMProvider({ awsSdkV3Client: traced(new SSMClient({})) }));

let current: Settings | undefined;
/** The last document read and what it resolved to: an unchanged document is not validated (or logged) again. */
let lastDocument: { raw: unknown; settings: Settings } | undefined;
/** After a failed read, the next read waits one cache age (a throttled Parameter Store is not asked per frame). */
let retryAt = 0;

/** Tests only: a fixed document instead of Parameter Store, kept across Jest's module registries. */
const TEST_DOCUMENT = Symbol.for('roomcast.settings.testDocument');
type TestHolder = { [TEST_DOCUMENT]?: Record<string, unknown> };

async function readDocument(): Promise<unknown> {
  const fixed = (globalThis as TestHolder)[TEST_DOCUMENT];
  if (fixed !== undefined) return fixed;
  const name = process.env.SETTINGS_PARAMETER;
  if (name === undefined || name === '') {
    throw new Error('roomcast configuration: environment variable SETTINGS_PARAMETER is not set (template.yaml sets it)');
  }
  return provider().get(name, { transform: 'json', maxAge: maxAgeSeconds() });
}

/**
 * Loads the settings for this invocation; every entry point calls it first (functions/platform/powertools.ts,
 * `instrumented`). Powertools' cache answers most calls without a Parameter Store call. An unreadable document
 * (throttled, missing, not JSON, not an object) keeps the last good settings, else the defaults: a user's frame never
 * fails because of it.
 */
export async function loadSettings(): Promise<void> {
  if (Date.now() < retryAt && current !== undefined) return;
  try {
    const raw = await readDocument();
    const last = lastDocument;
    if (last !== undefined && last.raw === raw) {
      current = last.settings;
      return;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new Error(`the settings document must be a JSON object, got ${JSON.stringify(raw)}`);
    }
    const settings = resolveSettings(raw as Record<string, unknown>);
    lastDocument = { raw, settings };
    current = settings;
  } catch (error) {
    if (String(error).includes('SETTINGS_PARAMETER')) throw error;
    retryAt = Date.now() + maxAgeSeconds() * 1000;
    logger.error(
      `roomcast settings: the document could not be read; ${current ? 'the last good settings' : 'the defaults'} are used`,
      { error },
    );
    current ??= defaultSettings();
  }
}

/** The settings in force; reading one before loadSettings() is a programming error and fails loudly. */
export function settings(): Settings {
  if (current !== undefined) return current;
  const fixed = (globalThis as TestHolder)[TEST_DOCUMENT];
  if (fixed !== undefined) return resolveSettings(fixed);
  throw new Error('roomcast settings read before loadSettings(): call it at the start of the invocation');
}

/**
 * Tests only: the document every later load reads (no Parameter Store), in force at once. Kept on globalThis, so a
 * module loaded again by jest.isolateModules sees it too.
 */
export function useSettingsForTests(document: Partial<Record<SettingName, unknown>>): void {
  (globalThis as TestHolder)[TEST_DOCUMENT] = document;
  current = undefined;
  lastDocument = undefined;
  retryAt = 0;
}

/** Tests only: back to Parameter Store, nothing loaded. */
export function resetSettingsForTests(): void {
  delete (globalThis as TestHolder)[TEST_DOCUMENT];
  current = undefined;
  lastDocument = undefined;
  retryAt = 0;
  provider().clearCache();
}
