import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  DynamoConnectionStore,
  DynamoMessageStore,
  DynamoRoomStore,
  DynamoSendLog,
} from '../adapters/dynamo';
import { config } from '../config';
import { onFirstCall } from '../onFirstCall';
import { tracer } from '../powertools';

/** One traced DynamoDB client per runtime, shared by the stores of a function and reused by every invocation. */
const documentClient = onFirstCall(() =>
  DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);

/** The DynamoDB adapters, each given the table names template.yaml sets for it. */
export const connectionStore = () =>
  new DynamoConnectionStore(documentClient(), config.connectionsTable(), config.roomIndex());
export const roomStore = () => new DynamoRoomStore(documentClient(), config.roomsTable());
export const messageStore = () => new DynamoMessageStore(documentClient(), config.messagesTable());
export const sendLog = () => new DynamoSendLog(documentClient(), config.sendsTable());
