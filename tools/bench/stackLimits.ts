/**
 * The stack's own limits, as template.yaml deploys them, for the model (tools/bench/awsModel.ts): the stage's route
 * throttles (DefaultRouteSettings and each route's RouteSettings), each function's reserved concurrency, the pipe's
 * batch, the rule's retries and the fan-out's chunk and page sizes; beside them a sender's send limits, the settings
 * schema's defaults (sendLimits.ts). Read through the local cloud's own template
 * reader (tools/infra/template.ts), so the twin and the model read one source; a deploy-time constant given on the
 * command line (`--parameter Name=Value`) is applied as a deploy would, and listed, so a run says what it changed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SETTINGS } from '#platform/settingsSchema';
import { deployConstants, partitionOverrides } from '../infra/parameters';
import { loadTemplate, readTemplateFile } from '../infra/template';
import type { ModelSettings } from './awsModel';
import { RULE_RETRIES, type RuleMachine, type StartRetry } from './expressStarts';
import { initLatencyFor } from './lambdaConcurrency';
import type { RouteThrottle } from './routeThrottles';
import { SEND_LIMIT_SETTINGS, type SendLimitSetting, sendLimitsOf } from './sendLimits';

export type { RouteThrottle } from './routeThrottles';

const ROOT = resolve(__dirname, '..', '..');

/** A deploy-time constant (or the posting budget, or a send limit) the run changed from its value as shipped. */
export interface Override {
  name: string;
  value: string;
  /** The value as shipped: template.yaml's, or the settings schema's default. */
  shipped: string;
}

export interface StackLimits {
  /** The model's settings the template sets (ModelSettings' template fields). */
  settings: Partial<ModelSettings>;
  /** The stage's route throttles by route key, every route of the API: its own, else the stage's default. */
  routes: Record<string, RouteThrottle>;
  defaultRoute?: RouteThrottle;
  /** Reserved concurrency by function logical id (functions with one only). */
  reservedConcurrency: Record<string, number>;
  /** The deploy-time constants this run changed, each with the template's value. */
  overrides: Override[];
  /** The send limits' settings the run gave (SEND_LIMIT_SETTINGS), even at their shipped values. */
  sendLimitsGiven: string[];
}

/**
 * The template's limits with `changes` (deploy-time constants by name; the runtime settings FanoutPostsPerSecond, the
 * posting budget, and the send limits SendRateLimit, SendRateWindowSeconds, PersonSendRateLimit and
 * PersonRateWindowSeconds, whose defaults are the settings schema's) applied. Any other name is refused: the model
 * follows no template parameter and no other runtime setting.
 */
export function stackLimits(
  changes: Record<string, string> = {},
  templatePath = join(ROOT, 'template.yaml'),
): StackLimits {
  const file = readTemplateFile(templatePath);
  const known = deployConstants(file.raw);
  const { constants, parameters, settings: runtime } = partitionOverrides(file.raw, changes);
  const { FanoutPostsPerSecond: postsPerSecond, ...others } = runtime;
  const sendSettings = Object.fromEntries(
    Object.entries(others).filter(([name]) => (SEND_LIMIT_SETTINGS as readonly string[]).includes(name)),
  ) as Partial<Record<SendLimitSetting, string>>;
  const notConstants = [
    ...Object.keys(parameters),
    ...Object.keys(others).filter((name) => !(name in sendSettings)),
  ];
  if (notConstants.length > 0)
    throw new Error(
      `the model takes deploy-time constants of Mappings.Deploy.Settings, FanoutPostsPerSecond and the send limits (${SEND_LIMIT_SETTINGS.join(', ')}) only, not ${notConstants.join(', ')}`,
    );
  const sendLimits = sendLimitsOf(sendSettings);
  const budget = SETTINGS.FanoutPostsPerSecond;
  if (
    postsPerSecond !== undefined &&
    !(Number.isInteger(Number(postsPerSecond)) && Number(postsPerSecond) >= budget.min)
  )
    throw new Error(`FanoutPostsPerSecond must be an integer ≥ ${budget.min}, got "${postsPerSecond}"`);
  const template = loadTemplate(file, { constants });
  const raw = template.raw as Record<string, unknown>;
  const values = deployConstants(raw);
  const resources = raw.Resources as Record<string, { Properties?: Record<string, unknown> }>;
  const pipe = resources.FanoutPipe?.Properties?.SourceParameters as
    | { SqsQueueParameters?: { BatchSize?: number } }
    | undefined;
  const targets = resources.RoomEventsRule?.Properties?.Targets as
    | { RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number } }[]
    | undefined;
  const retry = targets?.[0]?.RetryPolicy;
  const asl = JSON.parse(readFileSync(join(ROOT, 'statemachines', 'fanout.asl.json'), 'utf8')) as {
    States: Record<string, { MaxConcurrency?: number }>;
  };
  const number = (value: unknown) => (value === undefined ? undefined : Number(value));
  const api = template.webSocketApis()[0];
  const defaultRoute = api?.stageThrottling;
  const routes: Record<string, RouteThrottle> = {};
  for (const { routeKey } of api?.routes ?? []) {
    const own = api?.routeThrottling?.[routeKey];
    const rateLimit = own?.rateLimit ?? defaultRoute?.rateLimit;
    const burstLimit = own?.burstLimit ?? defaultRoute?.burstLimit;
    if (rateLimit !== undefined && burstLimit !== undefined) routes[routeKey] = { rateLimit, burstLimit };
  }
  const reservedConcurrency = Object.fromEntries(
    template
      .functions()
      .filter((fn) => fn.reservedConcurrency !== undefined)
      .map((fn) => [fn.logicalId, fn.reservedConcurrency as number]),
  );
  const sendRoute = routes.sendmessage ?? defaultRoute;
  const fromTemplate: Partial<ModelSettings> = {
    chunkSize: number(values.FanoutChunkSize),
    chunksAtOnce: number(values.FanoutMaxConcurrency),
    pageSize: number(values.FanoutPageSize),
    pipeBatch: number(pipe?.SqsQueueParameters?.BatchSize),
    eventRetries: number(retry?.MaximumRetryAttempts),
    eventMaxAgeMs:
      retry?.MaximumEventAgeInSeconds === undefined ? undefined : retry.MaximumEventAgeInSeconds * 1000,
    roomsAtOnce: number(asl.States.Rooms?.MaxConcurrency),
  };
  const settings: Partial<ModelSettings> = Object.fromEntries(
    Object.entries(fromTemplate).filter(([, v]) => v !== undefined && Number.isFinite(v)),
  );
  settings.ruleRetries = ruleRetriesOf(resources);
  if (sendRoute) settings.sendRoute = sendRoute;
  settings.routes = routes;
  if (defaultRoute) settings.defaultRoute = defaultRoute;
  settings.postsPerSecond = Number(postsPerSecond ?? budget.default);
  settings.sendLimits = sendLimits;
  settings.reservedConcurrency = reservedConcurrency;
  settings.lambdaInit = Object.fromEntries(
    Object.entries(bundleSizes(template.functions().map((fn) => fn.logicalId))).map(([fn, bytes]) => [
      fn,
      initLatencyFor(bytes),
    ]),
  );
  return {
    settings,
    routes,
    ...(defaultRoute && { defaultRoute }),
    reservedConcurrency,
    sendLimitsGiven: Object.keys(sendSettings),
    overrides: [
      ...Object.entries(constants)
        .filter(([name, value]) => known[name] !== value)
        .map(([name, value]) => ({ name, value, shipped: known[name] as string })),
      ...(postsPerSecond !== undefined && Number(postsPerSecond) !== budget.default
        ? [{ name: 'FanoutPostsPerSecond', value: postsPerSecond, shipped: String(budget.default) }]
        : []),
      ...Object.entries(sendSettings)
        .filter(([name, value]) => Number(value) !== SETTINGS[name as SendLimitSetting].default)
        .map(([name, value]) => ({
          name,
          value: value as string,
          shipped: String(SETTINGS[name as SendLimitSetting].default),
        })),
    ],
  };
}

/** Each Express machine a rule starts: its resource and its rule's event (template.yaml). */
const MACHINE_RULES: Record<RuleMachine, [string, string]> = {
  repost: ['RepostStateMachine', 'RepostThrottled'],
  departure: ['DepartureStateMachine', 'LeaveRooms'],
  broadcast: ['BroadcastStateMachine', 'BroadcastToEveryone'],
};

/**
 * Each machine's rule's RetryPolicy toward its StartExecution, as the template sets it (a policy it leaves out keeps
 * expressStarts.ts RULE_RETRIES's).
 */
function ruleRetriesOf(
  resources: Record<string, { Properties?: Record<string, unknown> }>,
): Record<RuleMachine, StartRetry> {
  const entries = Object.entries(MACHINE_RULES).map(([machine, [resource, event]]) => {
    const events = resources[resource]?.Properties?.Events as
      | Record<string, { Properties?: { RetryPolicy?: Record<string, number> } }>
      | undefined;
    const policy = events?.[event]?.Properties?.RetryPolicy;
    const shipped = RULE_RETRIES[machine as RuleMachine];
    return [
      machine,
      {
        attempts: Number(policy?.MaximumRetryAttempts ?? shipped.attempts),
        maxAgeMs:
          policy?.MaximumEventAgeInSeconds === undefined
            ? shipped.maxAgeMs
            : Number(policy.MaximumEventAgeInSeconds) * 1000,
      },
    ];
  });
  return Object.fromEntries(entries) as Record<RuleMachine, StartRetry>;
}

/**
 * Each function's bundle in bytes, as `npm run build` leaves it in dist/functions/<LogicalId>/ (what a cold start
 * loads); a function not built is left out (its cold starts then cost no init), so run the build first.
 */
export function bundleSizes(
  functions: readonly string[],
  dist = join(ROOT, 'dist', 'functions'),
): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const fn of functions) {
    const dir = join(dist, fn);
    if (!existsSync(dir)) continue;
    sizes[fn] = readdirSync(dir)
      .filter((name) => name.endsWith('.js'))
      .reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
  }
  return sizes;
}

/** The overrides as the output prints them: `none`, or each `Name=value (shipped s)`. */
export function describeOverrides(overrides: readonly Override[]): string {
  return overrides.length === 0
    ? 'none'
    : overrides.map((o) => `${o.name}=${o.value} (shipped ${o.shipped})`).join(', ');
}
