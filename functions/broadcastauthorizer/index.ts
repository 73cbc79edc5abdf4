import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import {
  cognitoVerifier,
  type Identity,
  InvalidToken,
  invokePolicy,
  oidcVerifier,
  type VerifyToken,
} from '#core/identity/identity';
import { config } from '#platform/config';
import { instrumented } from '#platform/invocation';
import { logger } from '#platform/powertools';

/** API Gateway answers a thrown `Unauthorized` with 401 and a Deny policy with 403; the function never runs. */
const UNAUTHORIZED = 'Unauthorized';

/** The verifier of this stack's sign-in (cognito or oidc), built once per runtime so the JWKS is cached. */
let verifier: VerifyToken | null | undefined;
/** The runtime settings the verifier was built with (OidcJwksUri, OidcGroupsClaim): changed ones build it again. */
let builtFor: string | undefined;
function tokenVerifier(): VerifyToken | null {
  const settingsKey =
    config.authMode() === 'oidc' ? JSON.stringify([config.oidcJwksUri(), config.oidcGroupsClaim()]) : '';
  if (verifier !== undefined && builtFor === settingsKey) return verifier;
  builtFor = settingsKey;
  const mode = config.authMode();
  if (mode === 'cognito') verifier = cognitoVerifier(config.cognitoUserPoolId(), config.cognitoClientId());
  else if (mode === 'oidc')
    verifier = oidcVerifier(
      config.oidcIssuer(),
      config.oidcAudience(),
      config.oidcJwksUri(),
      config.oidcGroupsClaim(),
    );
  // AuthMode none or token: nobody signs in, so nobody is an admin here (automation uses the IAM route).
  else verifier = null;
  return verifier;
}

/** Tests only: build the verifier again from the environment. */
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
 */
export const handler = instrumented(
  async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const verify = tokenVerifier();
    if (verify === null) refuse(`AuthMode ${config.authMode()} has no sign-in`);
    const token = /^Bearer (\S+)$/.exec(event.authorizationToken ?? '')?.[1];
    if (token === undefined) refuse('no bearer token');
    let identity: Identity;
    try {
      identity = await verify(token);
    } catch (error) {
      if (!(error instanceof InvalidToken)) throw error;
      refuse(error.reason);
    }
    const group = config.adminGroup();
    if (!identity.groups.includes(group)) {
      logger.info('broadcast denied', { username: identity.username, reason: `not in group ${group}` });
      return invokePolicy('Deny', event.methodArn, identity.subject);
    }
    logger.info('broadcast authorized', { username: identity.username });
    return invokePolicy('Allow', event.methodArn, identity.subject, { username: identity.username });
  },
);
