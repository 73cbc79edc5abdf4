import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { authSecret } from '../shared/adapters/authSecret';
import { systemClock } from '../shared/clock';
import { config } from '../shared/config';
import { instrumented, logger } from '../shared/powertools';
import { parseUsername } from '../shared/protocol';
import { InvalidToken, verifyToken } from '../shared/token';

/** API Gateway answers a thrown `Unauthorized` with 401 and a Deny policy with 403, and stores nothing. */
const UNAUTHORIZED = 'Unauthorized';

function policy(
  effect: 'Allow' | 'Deny',
  event: APIGatewayRequestAuthorizerEvent,
  principalId: string,
  context?: Record<string, string>,
): APIGatewayAuthorizerResult {
  return {
    principalId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: event.methodArn }],
    },
    ...(context && { context }),
  };
}

/**
 * $connect REQUEST authorizer: the `token` query parameter must be an HS256 JWT signed with the secret from
 * Parameter Store. A missing, malformed, expired or wrongly signed token is Unauthorized (401); a genuine token whose
 * username breaks the protocol's rules is denied (403). The username reaches $connect as `authorizer.username`.
 */
export const handler = async (
  event: APIGatewayRequestAuthorizerEvent,
  context?: Context,
): Promise<APIGatewayAuthorizerResult> =>
  instrumented('authorizer', async () => {
    if (context) logger.addContext(context);
    logger.appendKeys({ connectionId: event.requestContext?.connectionId });
    const token = event.queryStringParameters?.token;
    if (token === undefined || token === '') {
      logger.info('connection refused', { reason: 'no token' });
      throw new Error(UNAUTHORIZED);
    }
    let claims: ReturnType<typeof verifyToken>;
    try {
      const secret = await authSecret({
        localSecret: config.localAuthSecret(),
        parameterName: config.authSecretParameterName,
      });
      claims = verifyToken(token, secret, Math.floor(systemClock().getTime() / 1000));
    } catch (error) {
      if (!(error instanceof InvalidToken)) throw error;
      logger.info('connection refused', { reason: error.reason });
      throw new Error(UNAUTHORIZED);
    }
    try {
      // claims.username is always a string here, so parseUsername never invents a guest name.
      const username = parseUsername(claims.username, () => '');
      logger.info('connection authorized', { username });
      return policy('Allow', event, claims.sub ?? username, { username });
    } catch (error) {
      logger.info('connection denied', { reason: (error as Error).message });
      return policy('Deny', event, claims.sub ?? 'unknown');
    }
  });
