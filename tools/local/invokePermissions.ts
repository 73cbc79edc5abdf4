/**
 * The resource-based permissions (AWS::Lambda::Permission) that let API Gateway invoke the WebSocket API's functions.
 * On AWS a route's Lambda integration, or its authorizer, runs only if the function's policy has a statement that
 * allows `apigateway.amazonaws.com` to `lambda:InvokeFunction` with an `AWS:SourceArn` matching the invocation's
 * source: `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<routeKey>` for a route,
 * `arn:aws:execute-api:<region>:<account>:<apiId>/authorizers/<authorizerId>` for an authorizer. Otherwise the
 * gateway logs "Execution failed due to configuration error: Invalid permissions on Lambda function" and the client
 * gets its Internal server error (docs/PARITY.md, "Lambda permissions"). A template that forgets a function's
 * permission then fails here as it would after a deploy, not only there.
 *
 * Each route's decision is made once, at start: an invocation only looks its route up.
 */
import type { LocalTemplate, LocalWebSocketApi } from '../infra/template';

/** One statement of a function's resource-based policy, as the template declares it. */
export interface InvokePermission {
  /** The AWS::Lambda::Permission's logical id. */
  logicalId: string;
  functionLogicalId: string;
  /** `AWS:SourceArn` (ArnLike, `*` and `?` wildcards); absent, any source is allowed. */
  sourceArn?: string;
  /** `AWS:SourceAccount`; absent, any account. */
  sourceAccount?: string;
}

/** What the gateway may invoke for one route: undefined when allowed, else the reason it is refused. */
export interface RouteAccess {
  integration?: string;
  authorizer?: string;
}

const GATEWAY = 'apigateway.amazonaws.com';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `*` any run of characters, `?` one, everything else literal: a glob as IAM's ArnLike reads each ARN part. */
function glob(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`);
}

/**
 * ArnLike: the ARN's six colon-separated parts compared one by one (so a wildcard never spans a `:` of the prefix),
 * case-sensitively; the resource part keeps any further colons.
 */
export function arnLike(pattern: string, arn: string): boolean {
  const parts = (text: string): string[] => {
    const split = text.split(':');
    return split.length <= 6 ? split : [...split.slice(0, 5), split.slice(5).join(':')];
  };
  const want = parts(pattern);
  const have = parts(arn);
  return want.length === have.length && want.every((p, i) => glob(p).test(have[i] ?? ''));
}

/**
 * The template's AWS::Lambda::Permission resources (whose Condition holds) that grant API Gateway
 * `lambda:InvokeFunction` on one of its functions. A permission naming no function of the template is refused at
 * start, as CloudFormation fails to create it.
 */
export function gatewayPermissions(template: LocalTemplate): InvokePermission[] {
  const functions = template.functions();
  const byName = new Map<string, string>();
  for (const fn of functions) {
    byName.set(fn.name, fn.logicalId);
    byName.set(fn.arn, fn.logicalId);
  }
  const resources = isObj(template.raw.Resources) ? template.raw.Resources : {};
  const permissions: InvokePermission[] = [];
  for (const logicalId of template.resourceIds('AWS::Lambda::Permission')) {
    const resource = resources[logicalId];
    const props = isObj(resource) && isObj(resource.Properties) ? resource.Properties : {};
    const at = `Resources.${logicalId}.Properties`;
    const read = (name: string): unknown =>
      props[name] === undefined ? undefined : template.resolve(props[name], `${at}.${name}`);
    const action = read('Action');
    const principal = read('Principal');
    // Only what lets API Gateway invoke counts here; other permissions (e.g. for EventBridge) are someone else's.
    if (principal !== GATEWAY) continue;
    if (typeof action !== 'string' || !glob(action.toLowerCase()).test('lambda:invokefunction')) continue;
    const functionName = read('FunctionName');
    const functionLogicalId = typeof functionName === 'string' ? byName.get(functionName) : undefined;
    if (functionLogicalId === undefined)
      throw new Error(
        `${at}.FunctionName: ${JSON.stringify(functionName)} is not a function of this template (by name or ARN)`,
      );
    const sourceArn = read('SourceArn');
    const sourceAccount = read('SourceAccount');
    if (sourceArn !== undefined && typeof sourceArn !== 'string')
      throw new Error(`${at}.SourceArn: expected a string, got ${JSON.stringify(sourceArn)}`);
    if (sourceAccount !== undefined && typeof sourceAccount !== 'string')
      throw new Error(`${at}.SourceAccount: expected a string, got ${JSON.stringify(sourceAccount)}`);
    permissions.push({
      logicalId,
      functionLogicalId,
      ...(sourceArn !== undefined && { sourceArn }),
      ...(sourceAccount !== undefined && { sourceAccount }),
    });
  }
  return permissions;
}

/** The permission that lets API Gateway invoke `functionLogicalId` from `sourceArn`, if any. */
export function permissionFor(
  permissions: readonly InvokePermission[],
  functionLogicalId: string,
  sourceArn: string,
  accountId: string,
): InvokePermission | undefined {
  return permissions.find(
    (p) =>
      p.functionLogicalId === functionLogicalId &&
      (p.sourceArn === undefined || arnLike(p.sourceArn, sourceArn)) &&
      (p.sourceAccount === undefined || p.sourceAccount === accountId),
  );
}

/** Each route's authorizer id (what the authorizer's source ARN ends with), read from its AWS::ApiGatewayV2::Route. */
function authorizerIds(template: LocalTemplate, api: LocalWebSocketApi): Map<string, string> {
  const resources = isObj(template.raw.Resources) ? template.raw.Resources : {};
  const ids = new Map<string, string>();
  for (const logicalId of template.resourceIds('AWS::ApiGatewayV2::Route')) {
    const resource = resources[logicalId];
    const props = isObj(resource) && isObj(resource.Properties) ? resource.Properties : {};
    const at = `Resources.${logicalId}.Properties`;
    if (props.AuthorizerId === undefined) continue;
    if (template.resolve(props.ApiId, `${at}.ApiId`) !== api.id) continue;
    const routeKey = template.resolve(props.RouteKey, `${at}.RouteKey`);
    const authorizerId = template.resolve(props.AuthorizerId, `${at}.AuthorizerId`);
    if (typeof routeKey === 'string' && typeof authorizerId === 'string') ids.set(routeKey, authorizerId);
  }
  return ids;
}

/**
 * For each route of the API that runs a function: whether API Gateway may invoke its integration's function and its
 * authorizer's, with the reason when not (the text the gateway logs and the local cloud prints).
 */
export function routeAccess(template: LocalTemplate, api: LocalWebSocketApi): Map<string, RouteAccess> {
  const permissions = gatewayPermissions(template);
  const apiArn = `arn:aws:execute-api:${template.region}:${template.accountId}:${api.id}`;
  const refusal = (functionLogicalId: string, sourceArn: string): string | undefined =>
    permissionFor(permissions, functionLogicalId, sourceArn, template.accountId)
      ? undefined
      : `Execution failed due to configuration error: Invalid permissions on Lambda function ${functionLogicalId}: ` +
        `no AWS::Lambda::Permission lets ${GATEWAY} invoke it from ${sourceArn}`;
  const authorizers = authorizerIds(template, api);
  const access = new Map<string, RouteAccess>();
  for (const route of api.routes) {
    if (route.functionLogicalId === undefined) continue;
    const own: RouteAccess = {
      integration: refusal(route.functionLogicalId, `${apiArn}/${api.stageName}/${route.routeKey}`),
    };
    if (route.authorizer) {
      const authorizerId = authorizers.get(route.routeKey);
      if (authorizerId === undefined)
        throw new Error(`route ${route.routeKey}: its AuthorizerId was not found`);
      own.authorizer = refusal(route.authorizer.functionLogicalId, `${apiArn}/authorizers/${authorizerId}`);
    }
    access.set(route.routeKey, own);
  }
  return access;
}
