import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { ManagementApiNotifier } from '../adapters/notifier';
import { config } from '../config';
import { tracer } from '../powertools';

/** Posts to connections through this stage's management API (its endpoint comes from the template). */
export function notifier(): ManagementApiNotifier {
  // Posts go through the notifier's signed keep-alive POST; this client serves GetConnection and lends the post
  // path its credentials, region and hash. Keep-alive, enough sockets for a chunk, and the SDK's resolved
  // middleware stack cached instead of rebuilt on every send.
  const endpoint = config.callbackUrl();
  const agent = { keepAlive: true, maxSockets: 256 };
  const client = new ApiGatewayManagementApiClient({
    endpoint,
    cacheMiddleware: true,
    requestHandler: { httpAgent: agent, httpsAgent: agent },
  });
  return new ManagementApiNotifier(tracer.captureAWSv3Client(client), endpoint);
}
