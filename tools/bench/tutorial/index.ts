/**
 * Baseline (a): the design of the AWS WebSocket chat tutorials, written as a real Lambda handler. One function does
 * the whole fan-out: it Scans the entire Connections table and posts to each connection in turn, awaiting every
 * PostToConnection before the next one. It is what roomcast's EventBridge + Step Functions Map path replaces; the
 * benchmark runs it against the same local gateway (management API) and the same DynamoDB (dynalite) as the real path.
 *
 * Configuration, as in the tutorial, comes from the environment: CONNECTIONS_TABLE, CALLBACK_URL, and the SDK's
 * standard endpoint variables (AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI) locally.
 * Not deployed and not part of template.yaml: it exists only to be measured.
 */
import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';

interface TutorialEvent {
  requestContext: { connectionId: string };
  body?: string | null;
}

export const handler = async (event: TutorialEvent): Promise<{ statusCode: number; body: string }> => {
  // Made per invocation: the benchmark starts a fresh cloud (new endpoints) per room.
  const dynamo = new DynamoDBClient({});
  const table = process.env.CONNECTIONS_TABLE;
  const endpoint = process.env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI || process.env.CALLBACK_URL;
  if (!table || !endpoint) throw new Error('CONNECTIONS_TABLE and CALLBACK_URL must be set');
  const data = (JSON.parse(event.body ?? '{}') as { data?: unknown }).data;
  const postData = typeof data === 'string' ? data : JSON.stringify(data ?? '');

  // The tutorial reads every connection of the API, whatever room it is in (there are no rooms).
  const connectionIds: string[] = [];
  let startKey: ScanCommandOutput['LastEvaluatedKey'];
  do {
    const page = await dynamo.send(
      new ScanCommand({
        TableName: table,
        ProjectionExpression: 'connectionId',
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) if (item.connectionId?.S) connectionIds.push(item.connectionId.S);
    startKey = page.LastEvaluatedKey;
  } while (startKey);

  // As in the tutorial, the management client is made per invocation from the endpoint.
  const management = new ApiGatewayManagementApiClient({ endpoint });
  let delivered = 0;
  for (const connectionId of connectionIds) {
    try {
      await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: postData }));
      delivered++;
    } catch (error) {
      // The tutorial deletes stale connections here; the benchmark room has none, so a Gone is only counted.
      if (!(error instanceof GoneException)) throw error;
    }
  }
  management.destroy();
  dynamo.destroy();
  return { statusCode: 200, body: JSON.stringify({ delivered, scanned: connectionIds.length }) };
};
