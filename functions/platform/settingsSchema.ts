/**
 * The settings' one schema: per setting its type, the values it may take and what it sets, for both kinds
 * (docs/OPERATIONS.md, "Settings"). A runtime setting (SETTINGS) has its default here, the one source of it, and is
 * changed in the settings document without a redeploy. A deploy-time constant (DEPLOY_CONSTANTS, `deployTime: true`)
 * is what CloudFormation itself consumes: its value is template.yaml's `Mappings.Deploy.Settings` (read there with
 * `!FindInMap`), its rule is here. The rules between settings (SETTING_RULES) are code here too. No imports, so
 * scripts/settings.mjs, scripts/lint.mjs and the local cloud check values as the functions do.
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
type SettingSchema = IntegerSetting | ChoiceSetting | TextSetting;

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

/** What the word filter does with a listed word (setting FilterMode; functions/safety/filter.ts). */
export type FilterMode = 'mask' | 'refuse';
const FILTER_MODES: readonly FilterMode[] = ['mask', 'refuse'];

export const SETTINGS = {
  SendRateLimit: int(
    10,
    0,
    MAX,
    'sends and message changes per connection per SendRateWindowSeconds; 0 = no limit',
  ),
  SendRateWindowSeconds: int(10, 1, MAX, 'the window of SendRateLimit'),
  // A person's sustained rate is one message a second with bursts of ten, the rate Slack allows a channel's
  // poster (docs/DECISIONS.md, "Limits of a person"): every connection of theirs together, whatever the tabs.
  PersonSendRateLimit: int(
    10,
    0,
    MAX,
    'sends and message changes per person (every connection of a signed-in user, else of a source address) per PersonRateWindowSeconds; 0 = no limit',
  ),
  PersonReactionRateLimit: int(
    20,
    0,
    MAX,
    'reactions per person (every connection together) per PersonRateWindowSeconds; 0 = no limit',
  ),
  PersonReadRateLimit: int(
    30,
    0,
    MAX,
    'markread and setnotices frames per person (every connection together) per PersonRateWindowSeconds; 0 = no limit',
  ),
  PersonSearchRateLimit: int(
    10,
    0,
    MAX,
    'search frames per person (every connection together) per PersonRateWindowSeconds; 0 = no limit',
  ),
  PersonPeopleRateLimit: int(
    10,
    0,
    MAX,
    'findpeople frames per person (every connection together) per PersonRateWindowSeconds; one costs ≤ 241 Queries; 0 = no limit',
  ),
  PersonProfileRateLimit: int(
    3,
    0,
    MAX,
    'setprofile frames per person (every connection together) per PersonRateWindowSeconds; one tells ≤ 100 rooms; 0 = no limit',
  ),
  PersonRateWindowSeconds: int(10, 1, MAX, 'the window of the Person*RateLimit settings'),
  ReactionKindsPerSource: int(
    5,
    0,
    20,
    "without sign-in: different reactions the connections of one source address give one message together; 0 = no cap but each connection's",
  ),
  MentionNoticeSeconds: int(
    60,
    0,
    MAX,
    "a sender's mentions of one person in one room send that person a mention notice at most once per this many seconds; 0 = every mention",
  ),
  FrameRateLimit: int(
    100,
    0,
    MAX,
    'frames of every route per connection per FrameRateWindowSeconds (above the sends allowed); 0 = no limit',
  ),
  FrameRateWindowSeconds: int(60, 1, MAX, 'the window of FrameRateLimit'),
  StrikeLimit: int(
    10,
    0,
    MAX,
    'refused frames within StrikeWindowSeconds that close a connection; 0 = never',
  ),
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
    description:
      'who posts in the lobby: open (members), broadcasts (admin broadcasts only) or off (no lobby)',
  } as ChoiceSetting<LobbyPolicy>,
  LobbyPostLimit: int(
    20,
    0,
    MAX,
    'LobbyPolicy=open: lobby posts per source per LobbyPostWindowSeconds; 0 = no limit',
  ),
  LobbyPostWindowSeconds: int(60, 1, MAX, 'the window of LobbyPostLimit'),
  SeenByMaxMembers: int(
    50,
    1,
    1000,
    'largest room seenby shows read positions for and markread pushes reads to',
  ),
  TypingMaxMembers: int(100, 0, 500, 'largest room typing is relayed in; 0 = typing off'),
  AttachmentsPerDay: int(100, 0, 99_999, 'image uploads per owner per day; 0 = no limit'),
  EditWindowMinutes: int(
    15,
    1,
    MAX,
    'minutes after sending in which a member may edit or delete its message',
  ),
  RoomIdleDays: int(30, 1, MAX, 'days a room lives after its last message'),
  SessionRetentionDays: int(30, 1, MAX, 'days a closed session record is kept'),
  FanoutPostsPerSecond: int(8000, 1, MAX, 'posts per second every fan-out of the account may make in all'),
  FilterWords: {
    type: 'text',
    pattern: /^(?:[\p{L}\p{N}' -]{1,40}(?:,[\p{L}\p{N}' -]{1,40}){0,199})?$/u,
    allowed: "empty, or up to 200 comma-separated words of 1-40 letters, digits, spaces, ' or -",
    default: '',
    description:
      'words a message or an edit may not hold (whole words, any case, comma-separated; FilterMode says what is done); empty = no filter',
  } as TextSetting,
  FilterMode: {
    type: 'choice',
    values: FILTER_MODES,
    default: 'mask',
    description:
      'what a message holding a FilterWords word gets: mask (stored with the word as ***) or refuse (FILTERED, nothing stored)',
  } as ChoiceSetting<FilterMode>,
  // The fan-out writes the word index after its posts (functions/search/indexing.ts); off: no message is indexed
  // from then on (a search finds only what was indexed before), e.g. while the Words table is at its quota.
  SearchIndexing: {
    type: 'choice',
    values: ['on', 'off'],
    default: 'on',
    description:
      "on: the fan-out writes each message's words to the search index after posting it; off: messages are no longer indexed (search finds only those indexed before)",
  } as ChoiceSetting<'on' | 'off'>,
  ReportRateLimit: int(
    10,
    0,
    MAX,
    'message reports per person (signed-in user, else source address) per hour; 0 = no limit',
  ),
  PushCoalesceSeconds: int(
    60,
    1,
    MAX,
    'push notifications to one person about one room: at most one per this many seconds (a burst of mentions is one push)',
  ),
} satisfies Record<string, SettingSchema>;

/**
 * A deploy-time constant's rule. Its value lives in template.yaml (`Mappings.Deploy.Settings`), as text: CloudFormation
 * checks no mapping value, so `npm run lint` checks each against its rule here (checkDeployConstants) before a deploy,
 * and the local cloud checks the constants a test starts it with.
 */
type DeployConstant = (
  | Omit<IntegerSetting, 'default'>
  | Omit<ChoiceSetting, 'default'>
  | Omit<TextSetting, 'default'>
) & { deployTime: true };
const constant = (min: number, max: number, description: string): DeployConstant => ({
  type: 'integer',
  min,
  max,
  description,
  deployTime: true,
});
const shaped = (pattern: RegExp, allowed: string, description: string): DeployConstant => ({
  type: 'text',
  pattern,
  allowed,
  description,
  deployTime: true,
});
const PARAMETER_NAME = /^\/[A-Za-z0-9_./-]{1,1010}$/;

/** Exported for tests: tests/template/settings.test.ts holds it to the template. */
export const DEPLOY_CONSTANTS = {
  FanoutChunkSize: constant(1, 1000, 'connections posted to by one Deliver invocation (one Map iteration)'),
  // An inline Map runs at most 40 iterations at once (docs/PARITY.md).
  FanoutMaxConcurrency: constant(1, 40, 'Deliver invocations the Map state runs at once'),
  // 5,000 connections per page fit the state machine's 256 KiB payload.
  FanoutPageSize: constant(1, 5000, 'connections read per Query page of the room index'),
  FanoutLogLevel: {
    type: 'choice',
    values: ['ALL', 'ERROR', 'FATAL', 'OFF'],
    description: "the fan-out state machine's execution log level",
    deployTime: true,
  },
  DeliverReservedConcurrency: constant(0, 1000, 'reserved concurrency of Deliver; 0 = none'),
  MessagesReservedConcurrency: constant(0, 1000, 'reserved concurrency of the messages function; 0 = none'),
  MessageRetentionDays: constant(1, 999_999, 'days a message and its attachments are kept'),
  RouteThrottlingRateLimit: constant(1, 999_999, "the stage's steady requests per second per route"),
  RouteThrottlingBurstLimit: constant(1, 999_999, "the stage's burst per route"),
  SendMessageThrottlingRateLimit: constant(1, 999_999, "sendmessage's steady requests per second, all rooms"),
  SendMessageThrottlingBurstLimit: constant(1, 999_999, "sendmessage's burst, all rooms"),
  TypingIntervalSeconds: constant(1, 60, 'seconds between relayed typing heartbeats of one member'),
  BroadcastAllowedOrigin: shaped(
    /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/,
    'an origin: http(s)://host[:port], no path',
    'the browser origin the broadcast API answers CORS for without a hosted web chat',
  ),
  // Cognito takes https callback URLs, and http only for localhost.
  SignInCallbackUrl: shaped(
    /^(https:\/\/\S+|http:\/\/localhost(:[0-9]{1,5})?(\/\S*)?)$/,
    'an https URL, or http://localhost[:port][/path]',
    'where the app client may send a signed-in browser back to',
  ),
  AuthSecretParameterName: shaped(
    PARAMETER_NAME,
    'a Parameter Store name starting with /',
    'the SecureString holding the HMAC secret of connection tokens',
  ),
  OidcJwksUri: shaped(/^(https:\/\/\S+)?$/, 'empty or an https URL', "the OIDC provider's JWKS URL"),
  OidcGroupsClaim: shaped(
    /^[A-Za-z0-9_:./-]{1,128}$/,
    '1-128 of A-Z a-z 0-9 _ : . / -',
    "the token claim listing the user's groups",
  ),
  VapidKeysParameterName: shaped(
    PARAMETER_NAME,
    'a Parameter Store name starting with /',
    'the SecureString holding the VAPID key pair',
  ),
  PushContact: shaped(
    /^(mailto:\S+@\S+|https:\/\/\S+)$/,
    'mailto:address or an https URL',
    "the operator's contact a push service may write to (RFC 8292 sub)",
  ),
} satisfies Record<string, DeployConstant>;

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

/** Why `value` is not a value that `schema` allows for `name`, or undefined when it is one. */
function breaks(name: string, schema: SettingSchema | DeployConstant, value: unknown): string | undefined {
  switch (schema.type) {
    case 'integer':
      return typeof value === 'number' &&
        Number.isInteger(value) &&
        value >= schema.min &&
        value <= schema.max
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

/** Why `value` is not a value of `name`, or undefined when it is one (the functions and `npm run settings` alike). */
export function refusal(name: string, value: unknown): string | undefined {
  const schema = (SETTINGS as Record<string, SettingSchema>)[name];
  if (!schema) return `${name} is not a runtime setting`;
  return breaks(name, schema, value);
}

/**
 * Why a deploy-time constant's value (as template.yaml holds it: text, or a number YAML read as one) breaks its
 * rule, or undefined when it keeps it. An integer's text is read as a whole number first.
 */
export function constantRefusal(name: string, value: unknown): string | undefined {
  const schema = (DEPLOY_CONSTANTS as Record<string, DeployConstant>)[name];
  if (!schema) return `${name} is not a deploy-time constant`;
  const typed =
    schema.type === 'integer' && typeof value === 'string' && /^-?[0-9]+$/.test(value)
      ? Number(value)
      : value;
  return breaks(
    name,
    schema,
    schema.type === 'integer' ? typed : typeof typed === 'number' ? String(typed) : typed,
  );
}

/**
 * The rules between runtime settings, each a sentence when the settings in force break it. A document whose
 * overrides break one is refused by `npm run settings`; read by a function, the rule's settings fall back to their
 * defaults (which keep every rule: tests/platform/settingRules.test.ts) with an error log.
 */
export const SETTING_RULES: readonly {
  names: readonly SettingName[];
  broken: (s: Settings) => string | undefined;
}[] = [
  {
    // A connection sending at its full send rate must never meet the frame guard, which closes it: within one
    // frame window it may send SendRateLimit per send window, one window more at the edges (docs/SECURITY.md).
    names: ['FrameRateLimit', 'FrameRateWindowSeconds', 'SendRateLimit', 'SendRateWindowSeconds'],
    broken: (s) => {
      if (s.FrameRateLimit === 0 || s.SendRateLimit === 0) return undefined;
      const sends = s.SendRateLimit * (Math.ceil(s.FrameRateWindowSeconds / s.SendRateWindowSeconds) + 1);
      return s.FrameRateLimit > sends
        ? undefined
        : `FrameRateLimit (${s.FrameRateLimit}) must exceed the sends a connection may make in its window, SendRateLimit × (FrameRateWindowSeconds / SendRateWindowSeconds + 1) = ${sends}, or a connection sending within its limit is closed`;
    },
  },
];

/** The sentences of every rule `settings` break (none for a valid set). */
export function brokenRules(settings: Settings): string[] {
  return SETTING_RULES.map((rule) => rule.broken(settings)).filter((why): why is string => why !== undefined);
}

export function defaultSettings(): Settings {
  return Object.fromEntries(SETTING_NAMES.map((name) => [name, SETTINGS[name].default])) as Settings;
}
