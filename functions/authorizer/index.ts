import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import {
  cognitoVerifier,
  type Identity,
  InvalidToken,
  invokePolicy,
  oidcVerifier,
  sharedSecretVerifier,
  userIdOf,
  type VerifyToken,
} from '#core/identity/identity';
import { parseUsername } from '#core/protocol';
import { systemClock } from '#platform/clock';
import { logger } from '#platform/powertools';
import { withPowertools } from '#platform/powertoolsHandler';
import { signIn } from '#platform/signIn';

/** API Gateway answers a thrown `Unauthorized` with 401 and a Deny policy with 403, and stores nothing. */
const UNAUTHORIZED = 'Unauthorized';

/**
 * The verifier of this stack's AuthMode, built once per runtime so the JWKS is fetched once and cached. Everything it
 * is built from is fixed at deploy time (template parameters, constant OidcJwksUri); the token secret is read through
 * its own cache (authSecret.ts).
 */
let verifier: VerifyToken | undefined;
function tokenVerifier(): VerifyToken {
  if (verifier) return verifier;
  const mode = signIn.authMode();
  if (mode === 'token')
    verifier = sharedSecretVerifier(
      // Imported when first used: only AuthMode=token reads Parameter Store, so under cognito and oidc a cold start
      // never loads the SSM client and Powertools Parameters (the bundle still holds them: one bundle, every mode).
      async () =>
        (await import('#core/identity/authSecret')).authSecret({
          localSecret: signIn.localAuthSecret(),
          parameterName: signIn.authSecretParameterName,
        }),
      systemClock,
    );
  else if (mode === 'cognito')
    verifier = cognitoVerifier(signIn.cognitoUserPoolId(), signIn.cognitoClientId());
  else if (mode === 'oidc')
    verifier = oidcVerifier(signIn.oidcIssuer(), signIn.oidcAudience(), signIn.oidcJwksUri());
  else throw new Error(`roomcast configuration: AUTH_MODE ${mode} has no authorizer`);
  return verifier;
}

/** Exported for tests: a test hook that builds the verifier again, as a new runtime after a deploy does. */
export function forgetVerifier(): void {
  verifier = undefined;
}

/**
 * $connect REQUEST authorizer: the `token` query parameter must be a token of this stack's AuthMode (an HS256 JWT
 * for `token`, a Cognito user pool token for `cognito`, the OIDC provider's token for `oidc`). A missing or invalid
 * token is Unauthorized (401), its reason only in the log. A genuine token is allowed: its name, normalised by the
 * protocol's rules, reaches $connect as `authorizer.username`, or why the rules refuse it as
 * `authorizer.usernameRefused` ($connect answers 400 with it); the member's stable id, from (`iss`, `sub`), as
 * `authorizer.userId`.
 *
 * It reads no runtime setting, so it runs through Powertools' middleware alone (`withPowertools`, not `instrumented`):
 * no settings document is read. (AuthMode=token reads its secret from Parameter Store, so the SSM client stays.)
 */
export const handler = withPowertools(
  async (event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    logger.appendKeys({ connectionId: event.requestContext?.connectionId });
    const token = event.queryStringParameters?.token;
    if (token === undefined || token === '') {
      logger.info('connection refused', { reason: 'no token' });
      throw new Error(UNAUTHORIZED);
    }
    let identity: Identity;
    try {
      identity = await tokenVerifier()(token);
    } catch (error) {
      if (!(error instanceof InvalidToken)) throw error;
      logger.info('connection refused', { reason: error.reason });
      throw new Error(UNAUTHORIZED);
    }
    // A bad name is refused by $connect with 400 and the sentence saying why (a Deny here would be a bare 403
    // "Forbidden" the user cannot act on). The token itself is genuine, so the connection is allowed this far.
    const userId = userIdOf(identity);
    try {
      const username = parseUsername(identity.username, () => '');
      logger.info('connection authorized', { username });
      return invokePolicy('Allow', event.methodArn, identity.subject, { username, userId });
    } catch (error) {
      const usernameRefused = (error as Error).message;
      logger.info('connection authorized with a name $connect refuses', { reason: usernameRefused });
      return invokePolicy('Allow', event.methodArn, identity.subject, { usernameRefused, userId });
    }
  },
);
