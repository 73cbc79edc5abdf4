import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from '../config';
import { tracer } from '../powertools';

/** One traced SDK client of each kind per runtime, created on first use and reused by every invocation. */
let documentClient: DynamoDBDocumentClient | undefined;
let eventBridge: EventBridgeClient | undefined;
let management: ApiGatewayManagementApiClient | undefined;
let parameterStore: SSMClient | undefined;

export function dynamo(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return documentClient;
}

export function events(): EventBridgeClient {
  eventBridge ??= tracer.captureAWSv3Client(new EventBridgeClient({}));
  return eventBridge;
}

export function managementApi(): ApiGatewayManagementApiClient {
  // Posts go through the notifier's signed keep-alive POST; this client serves GetConnection and lends the post
  // path its credentials, region and hash. Keep-alive, enough sockets for a chunk, and the SDK's resolved
  // middleware stack cached instead of rebuilt on every send.
  const agent = { keepAlive: true, maxSockets: 256 };
  management ??= tracer.captureAWSv3Client(
    new ApiGatewayManagementApiClient({
      endpoint: config.callbackUrl(),
      cacheMiddleware: true,
      requestHandler: { httpAgent: agent, httpsAgent: agent },
    }),
  );
  return management;
}

export function ssm(): SSMClient {
  parameterStore ??= tracer.captureAWSv3Client(new SSMClient({}));
  return parameterStore;
}
