/**
 * A WebSocket REQUEST Lambda authorizer in front of $connect, as API Gateway runs it: identity sources checked first
 * (a missing one is 401 without calling the function), the function's `Unauthorized` error is 401, a policy that does
 * not allow `execute-api:Invoke` on the route is 403, anything malformed is 500; an allowed connection's $connect
 * event carries `requestContext.authorizer` (the policy's context plus principalId).
 */

import type { LambdaResult } from './gateway';
import type { APIGatewayProxyWebsocketEventV2WithHeaders } from './gateway/events';

export interface RouteAuthorizer {
  functionLogicalId: string;
  identitySource: string[];
}

export type AuthorizerOutcome =
  | { allowed: true; context: Record<string, string | number | boolean> }
  | { allowed: false; refusal: LambdaResult };

const UNAUTHORIZED: LambdaResult = { statusCode: 401, body: '{"message":"Unauthorized"}' };
const FORBIDDEN: LambdaResult = { statusCode: 403, body: '{"message":"Forbidden"}' };
const BROKEN: LambdaResult = { statusCode: 500, body: '{"message":"Internal server error"}' };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** `route.request.querystring.token` / `route.request.header.Auth` -> the value in the $connect request, if any. */
export function identityValue(
  source: string,
  event: APIGatewayProxyWebsocketEventV2WithHeaders & { queryStringParameters?: Record<string, string> },
): string | undefined {
  const query = /^(?:route\.request|\$request)\.querystring\.(.+)$/.exec(source);
  if (query) return event.queryStringParameters?.[query[1] as string] || undefined;
  const header = /^(?:route\.request|\$request)\.header\.(.+)$/i.exec(source);
  if (header) {
    const wanted = (header[1] as string).toLowerCase();
    const hit = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === wanted);
    return hit?.[1] || undefined;
  }
  return undefined;
}

const glob = (pattern: string, text: string) =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  ).test(text);

/** The effect of an IAM policy document for execute-api:Invoke on `methodArn`: explicit Deny wins. */
export function policyAllows(policy: unknown, methodArn: string): boolean | undefined {
  if (!isObj(policy)) return undefined;
  const statements = asList(policy.Statement);
  if (statements.length === 0 || !statements.every(isObj)) return undefined;
  const applies = (s: Obj) =>
    asList(s.Action).some((a) => typeof a === 'string' && glob(a.toLowerCase(), 'execute-api:invoke')) &&
    asList(s.Resource).some((r) => typeof r === 'string' && glob(r, methodArn));
  const matching = (statements as Obj[]).filter(applies);
  if (matching.some((s) => s.Effect === 'Deny')) return false;
  return matching.some((s) => s.Effect === 'Allow');
}

export async function runAuthorizer(
  authorizer: RouteAuthorizer,
  connectEvent: APIGatewayProxyWebsocketEventV2WithHeaders,
  methodArn: string,
  invoke: (functionLogicalId: string, event: unknown) => Promise<unknown>,
): Promise<AuthorizerOutcome> {
  const event = connectEvent as APIGatewayProxyWebsocketEventV2WithHeaders & {
    queryStringParameters?: Record<string, string>;
    multiValueQueryStringParameters?: Record<string, string[]>;
  };
  if (authorizer.identitySource.some((source) => identityValue(source, event) === undefined)) {
    return { allowed: false, refusal: UNAUTHORIZED };
  }
  const started = Date.now();
  let result: unknown;
  try {
    result = await invoke(authorizer.functionLogicalId, {
      type: 'REQUEST',
      methodArn,
      headers: event.headers ?? {},
      multiValueHeaders: event.multiValueHeaders ?? {},
      queryStringParameters: event.queryStringParameters ?? {},
      multiValueQueryStringParameters: event.multiValueQueryStringParameters ?? {},
      stageVariables: {},
      requestContext: event.requestContext,
    });
  } catch (error) {
    return { allowed: false, refusal: (error as Error).message === 'Unauthorized' ? UNAUTHORIZED : BROKEN };
  }
  if (!isObj(result) || typeof result.principalId !== 'string') return { allowed: false, refusal: BROKEN };
  const allows = policyAllows(result.policyDocument, methodArn);
  if (allows === undefined) return { allowed: false, refusal: BROKEN };
  if (!allows) return { allowed: false, refusal: FORBIDDEN };
  const context: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(isObj(result.context) ? result.context : {})) {
    // API Gateway accepts only scalar context values; an object or array fails the authorizer.
    if (!['string', 'number', 'boolean'].includes(typeof value)) return { allowed: false, refusal: BROKEN };
    context[key] = value as string | number | boolean;
  }
  return {
    allowed: true,
    context: { ...context, principalId: result.principalId, integrationLatency: Date.now() - started },
  };
}
