import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { onFirstCall } from '#platform/onFirstCall';
import { traced } from '#platform/powertools';

/** One DynamoDB client per runtime (traced in a function that opted in), shared by the stores of a function and reused by every invocation. */
export const documentClient = onFirstCall(() =>
  DynamoDBDocumentClient.from(traced(new DynamoDBClient({})), {
    marshallOptions: { removeUndefinedValues: true },
  }),
);
