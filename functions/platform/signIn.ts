import { declaredEnv, presentEnv, requireEnv } from './env';

/**
 * Who may sign in: the configuration of the two authorizers (functions/authorizer, functions/broadcastauthorizer),
 * all of it from environment variables template.yaml sets. The identity provider's details are template parameters
 * (AuthMode, OidcIssuer...) or deploy-time constants (Mappings.Deploy.Settings OidcJwksUri, OidcGroupsClaim): they
 * change with a deploy, as the user pool or issuer does. Nothing here reads the runtime settings document, so an
 * authorizer's bundle carries no Parameter Store client for it (docs/OPERATIONS.md, "Settings").
 */
export const signIn = {
  /** Who may connect (template parameter AuthMode): token, cognito or oidc for the $connect authorizer. */
  authMode: () => requireEnv('AUTH_MODE'),
  cognitoUserPoolId: () => requireEnv('COGNITO_USER_POOL_ID'),
  cognitoClientId: () => requireEnv('COGNITO_CLIENT_ID'),
  oidcIssuer: () => requireEnv('OIDC_ISSUER'),
  oidcAudience: () => requireEnv('OIDC_AUDIENCE'),
  /**
   * The JWKS URL (constant OidcJwksUri); undefined (empty) = the issuer's `/.well-known/jwks.json`. Read when the
   * verifier is built, once per runtime.
   */
  oidcJwksUri: (): string | undefined => declaredEnv('OIDC_JWKS_URI'),
  /** The token claim listing an OIDC user's groups (constant OidcGroupsClaim), read when the verifier is built. */
  oidcGroupsClaim: () => presentEnv('OIDC_GROUPS_CLAIM'),
  /** Members of this group may broadcast with their sign-in token (template parameter AdminGroupName). */
  adminGroup: () => requireEnv('ADMIN_GROUP'),
  /** The token secret itself, set only by the local cloud (`--auth-secret`); read on every call, never cached. */
  localAuthSecret: (): string | undefined => process.env.AUTH_SECRET,
  /** SecureString parameter holding the connection-token secret (template.yaml Mappings.Deploy AuthSecretParameterName). */
  authSecretParameterName: () => requireEnv('AUTH_SECRET_PARAMETER'),
};
