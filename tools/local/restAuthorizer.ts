/**
 * A REST API (API Gateway v1) TOKEN Lambda authorizer, as API Gateway runs it (sources in docs/PARITY.md, "Admin
 * broadcast from the browser"): the identity header missing, empty or not matching the validation expression is 401
 * without calling the function; the function's `Unauthorized` error is 401; a policy that denies the method ARN is
 * 403 (explicit deny), one that does not allow it is 403 too; a failed function or a malformed answer is 500. An
 * allowed request's event carries `requestContext.authorizer` (the context, principalId, integrationLatency). No
 * result cache: the template sets `ReauthorizeEvery: 0` (a cache TTL is refused at start).
 */
import { policyAllows } from './authorizer';

export interface RestTokenAuthorizer {
  name: string;
  functionLogicalId: string;
  /** The request header holding the token, e.g. `Authorization`. */
  header: string;
  validationExpression?: string;
}

export interface Refusal {
  statusCode: number;
  body: string;
}

export type RestAuthorizerOutcome =
  | { allowed: true; context: Record<string, string | number | boolean> }
  | { allowed: false; refusal: Refusal };

/** API Gateway's default gateway responses for these refusals (UNAUTHORIZED, ACCESS_DENIED, AUTHORIZER_*). */
export const REST_REFUSALS = {
  unauthorized: { statusCode: 401, body: '{"message":"Unauthorized"}' },
  explicitDeny: {
    statusCode: 403,
    body: '{"Message":"User is not authorized to access this resource with an explicit deny in an identity-based policy"}',
  },
  notAllowed: { statusCode: 403, body: '{"Message":"User is not authorized to access this resource"}' },
  authorizerFailure: { statusCode: 500, body: '{"message":null}' },
} satisfies Record<string, Refusal>;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function runTokenAuthorizer(
  authorizer: RestTokenAuthorizer,
  headers: Record<string, string | string[] | undefined>,
  methodArn: string,
  invoke: (functionLogicalId: string, event: unknown) => Promise<unknown>,
): Promise<RestAuthorizerOutcome> {
  const raw = headers[authorizer.header.toLowerCase()];
  const token = Array.isArray(raw) ? raw[0] : raw;
  if (token === undefined || token === '') return { allowed: false, refusal: REST_REFUSALS.unauthorized };
  if (
    authorizer.validationExpression !== undefined &&
    !new RegExp(authorizer.validationExpression).test(token)
  )
    return { allowed: false, refusal: REST_REFUSALS.unauthorized };
  const started = Date.now();
  let result: unknown;
  try {
    result = await invoke(authorizer.functionLogicalId, {
      type: 'TOKEN',
      authorizationToken: token,
      methodArn,
    });
  } catch (error) {
    const unauthorized = (error as Error).message === 'Unauthorized';
    return {
      allowed: false,
      refusal: unauthorized ? REST_REFUSALS.unauthorized : REST_REFUSALS.authorizerFailure,
    };
  }
  if (!isObj(result) || typeof result.principalId !== 'string')
    return { allowed: false, refusal: REST_REFUSALS.authorizerFailure };
  const allows = policyAllows(result.policyDocument, methodArn);
  if (allows === undefined) return { allowed: false, refusal: REST_REFUSALS.authorizerFailure };
  if (!allows) {
    const refusal = deniesExplicitly(result.policyDocument, methodArn)
      ? REST_REFUSALS.explicitDeny
      : REST_REFUSALS.notAllowed;
    return { allowed: false, refusal };
  }
  const context: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(isObj(result.context) ? result.context : {})) {
    // Only scalar context values are accepted; an object or array fails the authorizer.
    if (!['string', 'number', 'boolean'].includes(typeof value))
      return { allowed: false, refusal: REST_REFUSALS.authorizerFailure };
    context[key] = value as string | number | boolean;
  }
  return {
    allowed: true,
    context: { ...context, principalId: result.principalId, integrationLatency: Date.now() - started },
  };
}

/** Whether a Deny statement of the policy covers this method (rather than no statement allowing it). */
function deniesExplicitly(policy: unknown, methodArn: string): boolean {
  const statements = isObj(policy) && Array.isArray(policy.Statement) ? policy.Statement : [];
  const denies = statements
    .filter((s) => isObj(s) && s.Effect === 'Deny')
    .map((s) => ({ ...s, Effect: 'Allow' }));
  return denies.length > 0 && policyAllows({ Statement: denies }, methodArn) === true;
}
