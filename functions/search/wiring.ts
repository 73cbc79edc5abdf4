import { documentClient } from '#platform/aws/clients';
import { config } from '#platform/config';
import { DynamoWordIndex } from './dynamoWords';

/** Search's word index, and the messages it points at (dynamoWords.ts), with the template's table names. */
export const wordIndex = () =>
  new DynamoWordIndex(documentClient(), { words: config.wordsTable(), messages: config.messagesTable() });
