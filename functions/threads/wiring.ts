import { documentClient } from '#platform/aws/clients';
import { config } from '#platform/config';
import { DynamoThreadStore } from './dynamoThreads';

/** Threads: roots' summaries and followers, and each thread's pointers (threads.ts), in the Messages table. */
export const threadStore = () => new DynamoThreadStore(documentClient(), config.messagesTable());
