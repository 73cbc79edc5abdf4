import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { ManagementApiNotifier } from '../adapters/notifier';
import { config } from '../config';
import { tracer } from '../powertools';

/** Posts to connections through this stage's management API (its endpoint comes from the template). */
export function notifier(): ManagementApiNotifier {
  // A fan-out posts a whole chunk at once: keep connections alive and allow enough sockets for a chunk.
  const agent = { keepAlive: true, maxSockets: 256 };
  const client = new ApiGatewayManagementApiClient({
    endpoint: config.callbackUrl(),
    requestHandler: { httpAgent: agent, httpsAgent: agent },
  });
  return new ManagementApiNotifier(tracer.captureAWSv3Client(client));
}
