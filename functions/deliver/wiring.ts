import { eventPublisher } from '#core/wiring/eventbridge';
import { documentClient } from '#platform/aws/clients';
import { config, requireEnv } from '#platform/config';
import { DynamoWordIndex } from '#search/dynamoWords';
import type { TurnIndex } from '#search/indexing';
import { DynamoCursorStore } from './dynamoCursor';
import { DynamoFanoutStore } from './dynamoFanout';

/** The deliver feature's DynamoDB adapters, each given the table names template.yaml sets for it. */
/** The fan-out's posting budget (limits) and the members' resync notes (connections). */
export const fanoutStore = () =>
  new DynamoFanoutStore(documentClient(), {
    subscriptions: config.subscriptions().table,
    limits: requireEnv('LIMITS_TABLE'),
    resyncIndex: requireEnv('RESYNC_INDEX'),
  });

/** The rooms' fan-out cursors (limits), their counters (rooms) and their logs (messages): the fan-out's reads. */
export const cursorStore = () =>
  new DynamoCursorStore(
    documentClient(),
    { limits: requireEnv('LIMITS_TABLE'), messages: config.messagesTable(), rooms: config.roomsTable() },
    config.messageRetentionDays() * 86400,
    eventPublisher(),
  );

/** Search's word index (Words), which the fan-out writes after a turn's posts (search/indexing.ts); it reads no message. */
export const turnIndex = (): TurnIndex =>
  new DynamoWordIndex(documentClient(), { words: config.wordsTable(), messages: config.messagesTable() });
