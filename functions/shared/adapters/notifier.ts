import {
  type ApiGatewayManagementApiClient,
  GetConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConnectionInfo, Notifier, PostOutcome } from '../ports';

interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Classifies a management-API answer by the error's name or HTTP status, never by a `statusCode` field (SDK v3
 * has none): 410 GoneException means the connection is gone for good; 429 and 5xx are worth another try later.
 */
export function classifyPostError(error: unknown): PostOutcome {
  const { name, $metadata } = (error ?? {}) as SdkError;
  const status = $metadata?.httpStatusCode;
  if (name === 'GoneException' || status === 410) return 'gone';
  if (status === 429 || (status !== undefined && status >= 500)) return 'retry';
  if (
    name === 'LimitExceededException' ||
    name === 'ThrottlingException' ||
    name === 'TooManyRequestsException'
  ) {
    return 'retry';
  }
  // No HTTP answer at all (socket reset, timeout): the post may be retried.
  if (status === undefined) return 'retry';
  return 'failed';
}

export class ManagementApiNotifier implements Notifier {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  async post(connectionId: string, payload: string): Promise<PostOutcome> {
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: payload }));
      return 'delivered';
    } catch (error) {
      return classifyPostError(error);
    }
  }

  async info(connectionId: string): Promise<ConnectionInfo | undefined> {
    try {
      const result = await this.client.send(new GetConnectionCommand({ ConnectionId: connectionId }));
      return {
        connectedAt: result.ConnectedAt?.toISOString(),
        lastActiveAt: result.LastActiveAt?.toISOString(),
        sourceIp: result.Identity?.SourceIp,
        userAgent: result.Identity?.UserAgent,
      };
    } catch (error) {
      if (classifyPostError(error) === 'gone') return undefined;
      throw error;
    }
  }
}
