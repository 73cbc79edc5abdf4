import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import {
  cognitoVerifier,
  type Identity,
  InvalidToken,
  invokePolicy,
  oidcVerifier,
  type VerifyToken,
} from '#core/identity/identity';
import { logger } from '#platform/powertools';
import { withPowertools } from '#platform/powertoolsHandler';
import { signIn } from '#platform/signIn';

/** API Gateway answers a thrown `Unauthorized` with 401 and a Deny policy with 403; the function never runs. */
const UNAUTHORIZED = 'Unauthorized';

/**
 * The verifier of this stack's sign-in (cognito or oidc), built once per runtime so the JWKS is cached. Everything it
 * is built from is fixed at deploy time (template parameters, constants OidcJwksUri and OidcGroupsClaim).
 */
let verifier: VerifyToken | null | undefined;
function tokenVerifier(): VerifyToken | null {
  if (verifier !== undefined) return verifier;
  const mode = signIn.authMode();
  if (mode === 'cognito') verifier = cognitoVerifier(signIn.cognitoUserPoolId(), signIn.cognitoClientId());
  else if (mode === 'oidc')
    verifier = oidcVerifier(
      signIn.oidcIssuer(),
      signIn.oidcAudience(),
      signIn.oidcJwksUri(),
      signIn.oidcGroupsClaim(),
    );
  // AuthMode none or token: nobody signs in, so nobody is an admin here (automation uses the IAM route).
  else verifier = null;
  return verifier;
}

/** Exported for tests: a test hook that builds the verifier again, as a new runtime after a deploy does. */
export function forgetVerifier(): void {
  verifier = undefined;
}

function refuse(reason: string): never {
  logger.info('broadcast refused', { reason });
  throw new Error(UNAUTHORIZED);
}

/**
 * TOKEN authorizer of POST /admin/broadcast: `Authorization: Bearer <token>` must be a valid sign-in token of this
 * stack (Cognito user pool or OIDC provider, checked by aws-jwt-verify) whose groups include the admin group. A
 * missing or invalid token is Unauthorized (401), a valid token of someone outside the group is denied (403); the
 * reason goes only to the log. The admin's name reaches BroadcastFunction as `authorizer.username`.
 *
 * It reads no runtime setting, so it runs through Powertools' middleware alone (`withPowertools`, not `instrumented`):
 * no settings document is read and its bundle carries no Parameter Store client (docs/OPERATIONS.md, "Settings").
 */
export const handler = withPowertools(
  async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const verify = tokenVerifier();
    if (verify === null) refuse(`AuthMode ${signIn.authMode()} has no sign-in`);
    const token = /^Bearer (\S+)$/.exec(event.authorizationToken ?? '')?.[1];
    if (token === undefined) refuse('no bearer token');
    let identity: Identity;
    try {
      identity = await verify(token);
    } catch (error) {
      if (!(error instanceof InvalidToken)) throw error;
      refuse(error.reason);
    }
    const group = signIn.adminGroup();
    if (!identity.groups.includes(group)) {
      logger.info('broadcast denied', { username: identity.username, reason: `not in group ${group}` });
      return invokePolicy('Deny', event.methodArn, identity.subject);
    }
    logger.info('broadcast authorized', { username: identity.username });
    return invokePolicy('Allow', event.methodArn, identity.subject, { username: identity.username });
  },
);
