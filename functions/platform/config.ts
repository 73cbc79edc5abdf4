import { positiveEnv, requireEnv } from './env';
import type { LobbyPolicy } from './settings';

/**
 * Configuration: the environment. Names of the stack's resources and the deploy-time constants come from environment
 * variables that template.yaml sets (and the local cloud sets from the same template): each is read and checked
 * once, on first use at cold start (functions/platform/env.ts); a missing one fails loudly with its name. The runtime
 * settings (rate limits, lobby policy...) are not here: a feature's wiring reads `settings().<Name>` where it builds
 * the rule's input (functions/platform/settings.ts), on every call, as they change without a redeploy.
 */
export { numberEnv, positiveEnv, requireEnv } from './env';

export type { LobbyPolicy };

export const config = {
  connectionsTable: () => requireEnv('CONNECTIONS_TABLE'),
  /**
   * The subscriptions table (one item per connection and room it follows) and its index of a room's subscribers by
   * `roomKey` (`roomId#n`), the one place every reader of a room's connections looks; the Rooms table, whose items
   * hold how many of a room's keys to read (core/aws/roomMembers.ts).
   */
  subscriptions: () => ({
    table: requireEnv('SUBSCRIPTIONS_TABLE'),
    index: requireEnv('ROOM_SUBSCRIBERS_INDEX'),
    rooms: requireEnv('ROOMS_TABLE'),
  }),
  /** The connections table's sparse index of signed-in connections by user (rooms/dmNotice.ts). */
  userIndex: () => requireEnv('USER_INDEX'),
  roomsTable: () => requireEnv('ROOMS_TABLE'),
  messagesTable: () => requireEnv('MESSAGES_TABLE'),
  sendsTable: () => requireEnv('SENDS_TABLE'),
  reactionsTable: () => requireEnv('REACTIONS_TABLE'),
  /** Search's word index (search/dynamoWords.ts): the messages function reads it and rewrites a changed message's entries; Deliver writes a posted message's. */
  wordsTable: () => requireEnv('WORDS_TABLE'),
  eventBusName: () => requireEnv('EVENT_BUS_NAME'),
  eventSource: () => requireEnv('EVENT_SOURCE'),
  /**
   * The management API of this stage. The SDK's standard service endpoint variable wins, as it does for every other
   * client, which is how the local cloud points Lambda functions at its own gateway.
   */
  callbackUrl: () => process.env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI || requireEnv('CALLBACK_URL'),
  /** Days a message (and its images) is kept: a deploy-time constant, as the bucket's lifecycle rule must agree. */
  messageRetentionDays: () => positiveEnv('MESSAGE_RETENTION_DAYS'),
  /** The one origin the broadcast API answers CORS for (the hosted web chat, else Mappings.Deploy BroadcastAllowedOrigin). */
  broadcastAllowedOrigin: () => requireEnv('BROADCAST_ALLOWED_ORIGIN'),
  // Sign-in (AuthMode, the identity provider, the admin group) is functions/platform/signIn.ts: the authorizers read
  // it and load no runtime settings.
  /** Sessions on record (SessionsTable); absent = none kept by this function. */
  sessionsTable: (): string | undefined => process.env.SESSIONS_TABLE || undefined,
  /** The per-source limits (LimitsTable): join guesses, lobby posts, live connections, the posting budget. */
  limitsTable: (): string | undefined => process.env.LIMITS_TABLE || undefined,
};
