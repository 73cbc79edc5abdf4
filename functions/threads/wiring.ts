import { documentClient } from '#platform/aws/clients';
import { config, requireEnv } from '#platform/config';
import { DynamoFollowedStore } from './dynamoFollowed';
import { DynamoThreadStore } from './dynamoThreads';

/** Threads: roots' summaries and followers, and each thread's pointers (threads.ts), in the Messages table. */
export const threadStore = () => new DynamoThreadStore(documentClient(), config.messagesTable());

/** Each person's followed threads (followedThreads.ts), its own partition of the Memberships table. */
export const followedStore = () =>
  new DynamoFollowedStore(
    documentClient(),
    requireEnv('MEMBERSHIPS_TABLE'),
    config.messageRetentionDays() * 86400,
  );
