import type { GuardLimits } from '../domain/limits/guard';
import { CONNECT_WINDOW_SECONDS, ROOM_WINDOW_SECONDS } from '../domain/limits/quotas';

/**
 * Configuration comes from environment variables that template.yaml sets (and the local cloud sets from the same
 * template). Each value is read and checked once, on first use at cold start; a missing one fails loudly with its name.
 */
const cache = new Map<string, string>();

export function requireEnv(name: string): string {
  const cached = cache.get(name);
  if (cached !== undefined) return cached;
  const value = presentEnv(name);
  cache.set(name, value);
  return value;
}

/** The variable's value, read now (not cached); missing or blank fails loudly with its name. */
function presentEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.trim() === '') {
    throw new Error(
      `roomcast configuration: environment variable ${name} is not set (template.yaml sets it)`,
    );
  }
  return value;
}

/**
 * A number the template sets for this function. There is no default here: the template's setting is the one
 * source of the value, so a missing variable is a wiring mistake and fails loudly with its name.
 */
export function numberEnv(name: string): number {
  const raw = presentEnv(name);
  const value = Number(raw);
  if (!Number.isFinite(value)) {
    throw new Error(`roomcast configuration: environment variable ${name} must be a number, got "${raw}"`);
  }
  return value;
}

/** A number the template gives only the functions it concerns: absent = the setting does not apply here. */
function optionalNumberEnv(name: string): number | undefined {
  return process.env[name] === undefined ? undefined : numberEnv(name);
}

/** A window in seconds, above 0, required once the limit it belongs to is on. */
function windowEnv(name: string, toSeconds = 1): number {
  const value = numberEnv(name);
  if (value <= 0) throw new Error(`roomcast configuration: ${name} must be above 0`);
  return value * toSeconds;
}

/** A required setting that must be a number above 0 (its one default is in template.yaml). */
export function positiveEnv(name: string): number {
  const raw = requireEnv(name);
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(
      `roomcast configuration: environment variable ${name} must be a number above 0, got "${raw}"`,
    );
  }
  return value;
}

/** Who may post in the lobby (template setting LobbyPolicy; lobby.ts). */
export type LobbyPolicy = 'open' | 'broadcasts' | 'off';
const LOBBY_POLICIES: readonly string[] = ['open', 'broadcasts', 'off'];

export const config = {
  connectionsTable: () => requireEnv('CONNECTIONS_TABLE'),
  /**
   * The subscriptions table (one item per connection and room it follows) and its index of a room's subscribers by
   * `roomKey` (`roomId#n`), the one place every reader of a room's connections looks.
   */
  subscriptions: () => ({
    table: requireEnv('SUBSCRIPTIONS_TABLE'),
    index: requireEnv('ROOM_SUBSCRIBERS_INDEX'),
  }),
  /** The connections table's sparse index of signed-in connections by user (rooms/dmNotice.ts). */
  userIndex: () => requireEnv('USER_INDEX'),
  roomsTable: () => requireEnv('ROOMS_TABLE'),
  messagesTable: () => requireEnv('MESSAGES_TABLE'),
  sendsTable: () => requireEnv('SENDS_TABLE'),
  reactionsTable: () => requireEnv('REACTIONS_TABLE'),
  eventBusName: () => requireEnv('EVENT_BUS_NAME'),
  eventSource: () => requireEnv('EVENT_SOURCE'),
  /**
   * The management API of this stage. The SDK's standard service endpoint variable wins, as it does for every other
   * client, which is how the local cloud points Lambda functions at its own gateway.
   */
  callbackUrl: () => process.env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI || requireEnv('CALLBACK_URL'),
  messageRetentionDays: () => numberEnv('MESSAGE_RETENTION_DAYS'),
  /** Days a room lives after its last message (template setting RoomIdleDays). */
  roomIdleDays: () => positiveEnv('ROOM_IDLE_DAYS'),
  /** Minutes after sending in which a member may edit or delete its message (template setting EditWindowMinutes). */
  editWindowMinutes: () => positiveEnv('EDIT_WINDOW_MINUTES'),
  /** Per-connection send rate (settings SendRateLimit/SendRateWindowSeconds); a limit of 0 = no limit. */
  sendRate: () => {
    const limit = numberEnv('SEND_RATE_LIMIT');
    if (limit <= 0) return undefined;
    return { limit, windowSeconds: windowEnv('SEND_RATE_WINDOW_SECONDS') };
  },
  /** The token secret itself, set only by the local cloud (`--auth-secret`); read on every call, never cached. */
  localAuthSecret: (): string | undefined => process.env.AUTH_SECRET,
  /** SecureString parameter holding the connection-token secret (template parameter AuthSecretParameterName). */
  authSecretParameterName: () => requireEnv('AUTH_SECRET_PARAMETER'),
  /** The one origin the broadcast API answers CORS for (template parameter BroadcastAllowedOrigin). */
  broadcastAllowedOrigin: () => requireEnv('BROADCAST_ALLOWED_ORIGIN'),
  /** Who may connect (template parameter AuthMode): token, cognito or oidc for the $connect authorizer. */
  authMode: () => requireEnv('AUTH_MODE'),
  cognitoUserPoolId: () => requireEnv('COGNITO_USER_POOL_ID'),
  cognitoClientId: () => requireEnv('COGNITO_CLIENT_ID'),
  oidcIssuer: () => requireEnv('OIDC_ISSUER'),
  oidcAudience: () => requireEnv('OIDC_AUDIENCE'),
  /** Empty = the issuer's `/.well-known/jwks.json`. */
  oidcJwksUri: (): string | undefined => process.env.OIDC_JWKS_URI || undefined,
  /** The token claim listing an OIDC user's groups (template parameter OidcGroupsClaim). */
  oidcGroupsClaim: () => presentEnv('OIDC_GROUPS_CLAIM'),
  /** Members of this group may broadcast with their sign-in token (template parameter AdminGroupName). */
  adminGroup: () => requireEnv('ADMIN_GROUP'),
  /** Sessions on record (SessionsTable); absent = none kept by this function. */
  sessionsTable: (): string | undefined => process.env.SESSIONS_TABLE || undefined,
  sessionRetentionDays: () => numberEnv('SESSION_RETENTION_DAYS'),
  /** The per-source limits (LimitsTable): join guesses, lobby posts, live connections, the posting budget. */
  limitsTable: (): string | undefined => process.env.LIMITS_TABLE || undefined,
  /** Live connections one source may hold (template setting ConnectionsPerSource); connect/disconnect only. */
  connectionsPerSource: () => numberEnv('CONNECTIONS_PER_SOURCE'),
  /** Handshakes per owner per 10 minutes (template setting ConnectRateLimit; quotas.ts); 0 = no limit. */
  connectRate: () => ({ limit: numberEnv('CONNECT_RATE_LIMIT'), windowSeconds: CONNECT_WINDOW_SECONDS }),
  /** Rooms each owner may create per hour (template setting RoomCreateLimit; quotas.ts); 0 = no limit. */
  roomCreateRate: () => ({ limit: numberEnv('ROOM_CREATE_LIMIT'), windowSeconds: ROOM_WINDOW_SECONDS }),
  /** Who may post in the lobby (template setting LobbyPolicy). */
  lobbyPolicy: (): LobbyPolicy => {
    const policy = requireEnv('LOBBY_POLICY');
    if (!LOBBY_POLICIES.includes(policy)) {
      throw new Error(
        `roomcast configuration: LOBBY_POLICY must be open, broadcasts or off, got "${policy}"`,
      );
    }
    return policy as LobbyPolicy;
  },
  /** Posts to an open lobby per source (template settings LobbyPostLimit/LobbyPostWindowSeconds); sendmessage only. */
  lobbyPostRate: () => ({
    limit: numberEnv('LOBBY_POST_LIMIT'),
    windowSeconds: numberEnv('LOBBY_POST_WINDOW_SECONDS'),
  }),
  /** Posts per second every fan-out of the account may make in all (Setting FanoutPostsPerSecond). */
  fanoutPostsPerSecond: () => positiveEnv('FANOUT_POSTS_PER_SECOND'),
  /**
   * The guard's limits from the settings (FrameRateLimit, StrikeLimit, and JoinGuessLimit for joinroom alone); a
   * limit of 0 = that guard off.
   */
  guardLimits: (): GuardLimits => {
    const frames = numberEnv('FRAME_RATE_LIMIT');
    const guesses = optionalNumberEnv('JOIN_GUESS_LIMIT') ?? 0;
    const strikes = numberEnv('STRIKE_LIMIT');
    const strikeWindow = strikes > 0 ? numberEnv('STRIKE_WINDOW_SECONDS') : 0;
    return {
      ...(frames > 0 && { frames: { limit: frames, windowSeconds: windowEnv('FRAME_RATE_WINDOW_SECONDS') } }),
      ...(guesses > 0 && {
        joinGuesses: { limit: guesses, windowSeconds: windowEnv('JOIN_GUESS_REFILL_HOURS', 3600) },
      }),
      ...(strikes > 0 && { strikes: { limit: strikes, windowSeconds: strikeWindow } }),
    };
  },
};
