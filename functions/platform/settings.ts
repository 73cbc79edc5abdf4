import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { SSMClient } from '@aws-sdk/client-ssm';
import { onFirstCall } from './onFirstCall';
import { logger, METRIC, metrics, traced } from './powertools';
import { defaultSettings, refusal, SETTING_RULES, type SettingName, type Settings } from './settingsSchema';

export type { LobbyPolicy, SettingName, Settings } from './settingsSchema';
export { SETTING_NAMES, SETTINGS } from './settingsSchema';

/**
 * The runtime settings: everything a function reads while it runs, in one JSON document in Parameter Store (the
 * stack's SettingsParameter, named by SETTINGS_PARAMETER). The document holds only overrides (`{}` = every default);
 * the defaults and the values each setting may take live here and nowhere else. `npm run settings` edits the
 * document (scripts/settings.mjs); a change reaches warm functions within SETTINGS_MAX_AGE_SECONDS, no redeploy.
 * What CloudFormation itself consumes (the fan-out's chunk sizes, the route throttle, retention...) cannot change
 * at run time: those are template.yaml's `Mappings.Deploy.Settings`.
 */
/**
 * The settings in force under a document of overrides: each valid override replaces its default; an invalid or
 * unknown one is ignored with an error log naming it, so one bad value never takes a function down. Overrides that
 * together break a rule between settings (SETTING_RULES) are ignored likewise: that rule's settings keep their
 * defaults, which keep every rule.
 * Exported for tests: tests resolve a settings document as the functions do.
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
  const defaults = defaultSettings();
  for (const rule of SETTING_RULES) {
    const why = rule.broken(settings as Settings);
    if (why === undefined) continue;
    logger.error(`roomcast settings: ${why}; the defaults of ${rule.names.join(', ')} are used`);
    for (const name of rule.names) settings[name] = defaults[name];
  }
  return settings as Settings;
}

/** How long a read document is kept before the next invocation reads it again (SSM GetParameter: docs/PARITY.md). */
const SETTINGS_MAX_AGE_SECONDS = 60;
/** The cache age in force: the local cloud may shorten it for its tests (SETTINGS_MAX_AGE_SECONDS); AWS never sets it. */
function maxAgeSeconds(): number {
  const given = Number(process.env.SETTINGS_MAX_AGE_SECONDS);
  return Number.isFinite(given) && given > 0 ? given : SETTINGS_MAX_AGE_SECONDS;
}

const provider = onFirstCall(() => new SSMProvider({ awsSdkV3Client: traced(new SSMClient({})) }));

let current: Settings | undefined;
/** The last document read and what it resolved to: an unchanged document is not validated (or logged) again. */
let lastDocument: { raw: unknown; settings: Settings } | undefined;
/**
 * After a failed read, when the next read may be: one cache age for an environment that runs on its last good
 * settings (a throttled Parameter Store is not asked per frame), NEW_ENVIRONMENT_RETRY_MS for one that has none.
 */
let retryAt = 0;
/**
 * A new environment whose document cannot be read has no settings to run on: it refuses its requests (BUSY) and
 * reads again this soon, rather than run the defaults, which would turn the word filter and every operator's choice
 * off without a word.
 */
const NEW_ENVIRONMENT_RETRY_MS = 1000;

/**
 * A setting was read in an environment that has never read the settings document: the request is refused BUSY
 * (core/errors.ts busyFrom knows it by its name, so the platform's error needs no import into every bundle).
 * Exported for tests: tests/platform/config.test.ts checks what a read throws then.
 */
export class SettingsUnavailable extends Error {
  override readonly name = 'SettingsUnavailable';
}

/** Tests only: a fixed document instead of Parameter Store, kept across Jest's module registries. */
const TEST_DOCUMENT = Symbol.for('roomcast.settings.testDocument');
type TestHolder = { [TEST_DOCUMENT]?: Record<string, unknown> };

async function readDocument(): Promise<unknown> {
  const fixed = (globalThis as TestHolder)[TEST_DOCUMENT];
  if (fixed !== undefined) return fixed;
  const name = process.env.SETTINGS_PARAMETER;
  if (name === undefined || name === '') {
    throw new Error(
      'roomcast configuration: environment variable SETTINGS_PARAMETER is not set (template.yaml sets it)',
    );
  }
  return provider().get(name, { transform: 'json', maxAge: maxAgeSeconds() });
}

/**
 * Loads the settings for this invocation; every entry point calls it first (functions/platform/invocation.ts,
 * `instrumented`). Powertools' cache answers most calls without a Parameter Store call. An unreadable document
 * (throttled, missing, not JSON, not an object) keeps the last good settings; an environment that has none fails
 * closed: reading a setting throws SettingsUnavailable (a route answers BUSY, the fan-out's step is retried) until a
 * read succeeds. Either way the failure is logged and counted (SettingsUnreadable, alarmed).
 */
export async function loadSettings(): Promise<void> {
  if (Date.now() < retryAt) return;
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
    retryAt = Date.now() + (current ? maxAgeSeconds() * 1000 : NEW_ENVIRONMENT_RETRY_MS);
    metrics.addMetric(METRIC.settingsUnreadable, MetricUnit.Count, 1);
    logger.error(
      `roomcast settings: the document could not be read; ${current ? 'the last good settings are used' : 'requests are refused BUSY until it is'}`,
      { error },
    );
  }
}

/** The settings in force; reading one before loadSettings() is a programming error and fails loudly. */
export function settings(): Settings {
  if (current !== undefined) return current;
  const fixed = (globalThis as TestHolder)[TEST_DOCUMENT];
  if (fixed !== undefined) return resolveSettings(fixed);
  if (retryAt > 0)
    throw new SettingsUnavailable('the settings document has not been read in this environment');
  throw new Error('roomcast settings read before loadSettings(): call it at the start of the invocation');
}

/**
 * Exported for tests: a test hook, the document every later load reads (no Parameter Store), in force at once. Kept
 * on globalThis, so a module loaded again by jest.isolateModules sees it too.
 */
export function useSettingsForTests(document: Partial<Record<SettingName, unknown>>): void {
  (globalThis as TestHolder)[TEST_DOCUMENT] = document;
  current = undefined;
  lastDocument = undefined;
  retryAt = 0;
}

/** Exported for tests: a test hook, back to Parameter Store with nothing loaded. */
export function resetSettingsForTests(): void {
  delete (globalThis as TestHolder)[TEST_DOCUMENT];
  current = undefined;
  lastDocument = undefined;
  retryAt = 0;
  provider().clearCache();
}
