import { S3AttachmentReads } from '#attachments/s3Read';
import { DynamoProfiles } from '#core/aws/profiles';
import { pageAuthorProfiles } from '#core/profiles';
import { documentClient } from '#platform/aws/clients';
import { config, requireEnv } from '#platform/config';
import { DynamoChangeStore } from './dynamoChanges';
import { DynamoReactionStore } from './dynamoReactions';
import { DynamoSendStore } from './dynamoSends';

/**
 * The messages feature's DynamoDB adapters, each given the table names template.yaml sets for it. The history other
 * features read is wired in readers.ts.
 */
export const sendStore = () =>
  new DynamoSendStore(documentClient(), {
    rooms: config.roomsTable(),
    messages: config.messagesTable(),
    sends: config.sendsTable(),
  });

/** Reactions: one item per message and member, a summary per message (messages/dynamoReactions.ts). */
export const reactionStore = () => new DynamoReactionStore(documentClient(), config.reactionsTable());

/** Changes to messages (edits, deletes, reactions), stored as a send stores a message. */
export const changeStore = () =>
  new DynamoChangeStore(documentClient(), {
    rooms: config.roomsTable(),
    messages: config.messagesTable(),
    sends: config.sendsTable(),
  });

/**
 * The profiles of a `history` page's signed-in authors (core/profiles.ts): the DirectoryTable's profile items, and
 * the attachments bucket that signs their avatars' GETs.
 */
export const authorProfiles = () =>
  pageAuthorProfiles(
    new DynamoProfiles(documentClient(), requireEnv('DIRECTORY_TABLE')),
    new S3AttachmentReads(),
  );
