import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoCursorStore } from '../../domain/fanout/dynamoCursor';
import { DynamoFanoutStore } from '../../domain/fanout/dynamoFanout';
import { DynamoSessionStore } from '../../domain/identity/dynamoSessions';
import { DynamoGuardStore, DynamoSourcePlaces } from '../../domain/limits/dynamoGuard';
import { DynamoChangeStore } from '../../domain/messaging/changes/dynamoChanges';
import { DynamoRoomEntry } from '../../domain/rooms/dynamoEntry';
import { DynamoMembershipStore } from '../../domain/rooms/dynamoMemberships';
import { DynamoPeopleStore } from '../../domain/rooms/dynamoPeople';
import { DynamoConnectionStore } from '../aws/connections';
import { DynamoMessageStore } from '../aws/messages';
import { DynamoReactionStore } from '../aws/reactions';
import { DynamoRoomStore } from '../aws/rooms';
import { DynamoSendStore } from '../aws/sends';
import { config, requireEnv } from '../config';
import { onFirstCall } from '../onFirstCall';
import { traced } from '../powertools';

/** One DynamoDB client per runtime (traced in a function that opted in), shared by the stores of a function and reused by every invocation. */
export const documentClient = onFirstCall(() =>
  DynamoDBDocumentClient.from(traced(new DynamoDBClient({})), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);

/** The DynamoDB adapters, each given the table names template.yaml sets for it. */
export const connectionStore = () =>
  new DynamoConnectionStore(documentClient(), config.connectionsTable(), config.subscriptions());
export const roomStore = () => new DynamoRoomStore(documentClient(), config.roomsTable());
/** A join's move into a room, atomic with the room's key (joinroom). */
export const roomEntry = () =>
  new DynamoRoomEntry(documentClient(), {
    rooms: config.roomsTable(),
    connections: config.connectionsTable(),
    subscriptions: config.subscriptions().table,
  });
/** A room's history, with the reactions of its messages (the Reactions table). */
export const messageStore = () =>
  new DynamoMessageStore(documentClient(), config.messagesTable(), config.reactionsTable());
export const sendStore = () =>
  new DynamoSendStore(documentClient(), {
    rooms: config.roomsTable(),
    messages: config.messagesTable(),
    sends: config.sendsTable(),
  });
/** Reactions: one item per message and member, a summary per message (platform/aws/reactions.ts). */
export const reactionStore = () => new DynamoReactionStore(documentClient(), config.reactionsTable());
/** Changes to messages (edits, deletes, reactions), stored as a send stores a message. */
export const changeStore = () =>
  new DynamoChangeStore(documentClient(), {
    rooms: config.roomsTable(),
    messages: config.messagesTable(),
    sends: config.sendsTable(),
  });

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

/** Sessions on record; none for a function the template gives no Sessions table. */
export function sessionStore(): DynamoSessionStore | undefined {
  const table = config.sessionsTable();
  return table === undefined
    ? undefined
    : new DynamoSessionStore(documentClient(), table, () => config.sessionRetentionDays() * 86400);
}

/** The fan-out's posting budget (limits) and the members' resync notes (connections). */
export const fanoutStore = () =>
  new DynamoFanoutStore(documentClient(), {
    subscriptions: config.subscriptions().table,
    limits: requireEnv('LIMITS_TABLE'),
    resyncIndex: requireEnv('RESYNC_INDEX'),
  });

/** The rooms' fan-out cursors (limits) and their stored events (messages): Prepare's read-ahead. */
export const cursorStore = () =>
  new DynamoCursorStore(
    documentClient(),
    { limits: requireEnv('LIMITS_TABLE'), messages: config.messagesTable() },
    config.messageRetentionDays() * 86400,
  );

/** Read positions and memberships (memberships.ts), with the reads of rooms, messages and connections they need. */
export const membershipStore = () =>
  new DynamoMembershipStore(documentClient(), {
    memberships: requireEnv('MEMBERSHIPS_TABLE'),
    rooms: config.roomsTable(),
    connections: config.connectionsTable(),
    messages: config.messagesTable(),
  });

/** Co-members by name and shared rooms (people.ts: findpeople, opendm), in the Memberships table and its PeopleIndex. */
export const peopleStore = () =>
  new DynamoPeopleStore(documentClient(), {
    memberships: requireEnv('MEMBERSHIPS_TABLE'),
    peopleIndex: requireEnv('PEOPLE_INDEX'),
  });
