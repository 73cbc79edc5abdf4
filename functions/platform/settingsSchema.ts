/**
 * The runtime settings' schema: per setting its type, the values it may take, its default and what it sets. The one
 * source of each default (docs/OPERATIONS.md, "Settings"). No imports, so scripts/settings.mjs and the local cloud
 * read it as the functions do (functions/platform/settings.ts loads the document against it).
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
  PersonSendRateLimit: int(
    20,
    0,
    MAX,
    'sends and message changes per person (every connection of a signed-in user, else of a source address) per PersonRateWindowSeconds; 0 = no limit',
  ),
  PersonReactionRateLimit: int(
    30,
    0,
    MAX,
    'reactions per person (every connection together) per PersonRateWindowSeconds; 0 = no limit',
  ),
  PersonReadRateLimit: int(
    30,
    0,
    MAX,
    'markread frames per person (every connection together) per PersonRateWindowSeconds; 0 = no limit',
  ),
  PersonSearchRateLimit: int(
    10,
    0,
    MAX,
    'search frames per person (every connection together) per PersonRateWindowSeconds; 0 = no limit',
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

/** Why `value` is not a value of `name`, or undefined when it is one (the functions and `npm run settings` alike). */
export function refusal(name: string, value: unknown): string | undefined {
  const schema = (SETTINGS as Record<string, SettingSchema>)[name];
  if (!schema) return `${name} is not a runtime setting`;
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

export function defaultSettings(): Settings {
  return Object.fromEntries(SETTING_NAMES.map((name) => [name, SETTINGS[name].default])) as Settings;
}
