import { DynamoConnectionStore } from '#core/aws/connections';
import { DynamoPersonRooms } from '#core/aws/personRooms';
import { DynamoRoomStore } from '#core/aws/rooms';
import { DynamoDepartureRecords } from '#core/identity/dynamoDepartures';
import { DynamoDisconnectCounts } from '#core/identity/dynamoDisconnects';
import { DynamoSessionStore } from '#core/identity/dynamoSessions';
import { DynamoGuardStore, DynamoSourcePlaces } from '#core/limits/dynamoGuard';
import { documentClient } from '#platform/aws/clients';
import { config, requireEnv } from '#platform/config';
import { settings } from '#platform/settings';

/** The DynamoDB adapters every feature shares, each given the table names template.yaml sets for it. */
export const connectionStore = () =>
  new DynamoConnectionStore(documentClient(), config.connectionsTable(), config.subscriptions());

export const roomStore = () => new DynamoRoomStore(documentClient(), config.roomsTable());

/**
 * The guard's counters: on the connection item, and the per-source buckets in the Limits table (join guesses for
 * joinroom, lobby posts for sendmessage).
 */
export const guardStore = () =>
  new DynamoGuardStore(documentClient(), config.connectionsTable(), config.limitsTable());

/** Handshakes and room creations per owner (connect and createroom only), in the Limits table. */
export const quotaStore = () =>
  new DynamoGuardStore(documentClient(), config.connectionsTable(), requireEnv('LIMITS_TABLE'));

/** The live connections of each source (connect and disconnect only), in the Limits table. */
export const sourcePlaces = () => new DynamoSourcePlaces(documentClient(), requireEnv('LIMITS_TABLE'));

/** Signed-in users' latest departures ($disconnect writes, subscribe and joinroom read), in the Limits table. */
export const departureRecords = () =>
  new DynamoDepartureRecords(documentClient(), requireEnv('LIMITS_TABLE'));

/** `$disconnect` counters per second ($disconnect adds, the departure's settle reads), in the Limits table. */
export const disconnectCounts = () =>
  new DynamoDisconnectCounts(documentClient(), requireEnv('LIMITS_TABLE'));

/** Sessions on record; none for a function the template gives no Sessions table. */
export function sessionStore(): DynamoSessionStore | undefined {
  const table = config.sessionsTable();
  return table === undefined
    ? undefined
    : new DynamoSessionStore(documentClient(), table, () => settings().SessionRetentionDays * 86400);
}

/**
 * Where a signed-in user is now (core/identity/departure.ts): its connections by the user index, and their rooms.
 * Deliver settles departures with it; leaveroom asks whether the person stays in the room on another device.
 */
export const personRooms = () =>
  new DynamoPersonRooms(documentClient(), {
    connections: config.connectionsTable(),
    userIndex: config.userIndex(),
    subscriptions: config.subscriptions().table,
  });
