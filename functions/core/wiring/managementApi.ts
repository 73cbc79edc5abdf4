import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { ManagementApiNotifier } from '#core/aws/notifier';
import type { ConnectionCloser } from '#core/limits/guard';
import { config } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { traced } from '#platform/powertools';

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
  return new ManagementApiNotifier(traced(client), endpoint);
}

/**
 * Closes a connection the guard gave up on: the reason as an error frame first, then DeleteConnection. The client is
 * built on the first close, so the functions that only ever refuse frames never build one.
 */
export function connectionCloser(): ConnectionCloser {
  const api = onFirstCall(() =>
    traced(new ApiGatewayManagementApiClient({ endpoint: config.callbackUrl() })),
  );
  return {
    async close(connectionId, frame) {
      await api()
        .send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: JSON.stringify(frame) }))
        .catch(() => undefined);
      await api().send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    },
  };
}

/**
 * Whether API Gateway still has a connection: GetConnection, where 410 Gone is the only "no". Any other failure
 * answers yes, so a place is never given away on a doubt (sourceCap.ts).
 */
export function connectionProbe(): (connectionId: string) => Promise<boolean> {
  const api = onFirstCall(() =>
    traced(new ApiGatewayManagementApiClient({ endpoint: config.callbackUrl() })),
  );
  return async (connectionId) => {
    try {
      await api().send(new GetConnectionCommand({ ConnectionId: connectionId }));
      return true;
    } catch (error) {
      const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      return !(name === 'GoneException' || $metadata?.httpStatusCode === 410);
    }
  };
}
