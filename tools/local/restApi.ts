/**
 * The REST (API Gateway v1) side of the template on the local cloud's HTTP port: every function `Events` entry of
 * type `Api` becomes a route, invoked with an APIGatewayProxyEvent, its proxy result mapped back to HTTP, and the
 * API's SAM `Cors` answered on OPTIONS. A route with a TOKEN Lambda authorizer (the API's `Auth.Authorizers`) runs it
 * first, as API Gateway does (tools/local/restAuthorizer.ts); the gateway's own refusals carry the API's
 * `GatewayResponses` headers (CORS), and the stage's `MethodSettings` throttle each method (429). IAM auth is not emulated: AWS_IAM routes are open locally (docs/ACCESS.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { LocalTemplate } from '../infra/template';
import { awsId, requestTime } from './gateway/ids';
import { type ThrottleSettings, TokenBucket } from './gateway/limits';
import { type Refusal, type RestTokenAuthorizer, runTokenAuthorizer } from './restAuthorizer';

export interface LocalCors {
  allowOrigin?: string;
  allowMethods?: string;
  allowHeaders?: string;
  maxAge?: string;
}

export interface LocalRestRoute {
  functionLogicalId: string;
  /** Upper case, or ANY. */
  method: string;
  /** The resource path as in the template, e.g. `/broadcast` or `/items/{id}`. */
  path: string;
  apiLogicalId?: string;
  stageName?: string;
  cors?: LocalCors;
  /** The route's Lambda TOKEN authorizer; absent = none, or AWS_IAM (open locally). */
  authorizer?: RestTokenAuthorizer;
  /** Headers of the API's DEFAULT_4XX/DEFAULT_5XX gateway responses (e.g. the CORS origin). */
  gatewayHeaders?: { '4XX'?: Record<string, string>; '5XX'?: Record<string, string> };
  /** The stage's method throttling for this method (`MethodSettings`); absent = only the account's. */
  throttle?: ThrottleSettings;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** SAM's Cors values are quoted header values: `"'POST,OPTIONS'"`. */
const unquote = (v: unknown) => (typeof v === 'string' ? v.replace(/^'(.*)'$/, '$1') : undefined);

function corsOf(template: LocalTemplate, api: Obj | undefined, path: string): LocalCors | undefined {
  const raw = api?.Cors;
  if (raw === undefined) return undefined;
  const cors = template.resolve(raw, path);
  if (typeof cors === 'string') return { allowOrigin: unquote(cors) };
  if (!isObj(cors)) return undefined;
  return {
    allowOrigin: unquote(cors.AllowOrigin),
    allowMethods: unquote(cors.AllowMethods),
    allowHeaders: unquote(cors.AllowHeaders),
    maxAge: unquote(cors.MaxAge),
  };
}

/** `{ Headers: { Name: "'value'" } }` of one gateway response type, unquoted. */
function gatewayHeadersOf(
  template: LocalTemplate,
  api: Obj | undefined,
  apiRef: string | undefined,
  type: string,
) {
  const responses = isObj(api?.GatewayResponses) ? api.GatewayResponses : {};
  const response = responses[type];
  if (!isObj(response) || !isObj(response.ResponseParameters)) return undefined;
  const headers = response.ResponseParameters.Headers;
  if (!isObj(headers)) return undefined;
  const path = `Resources.${apiRef}.Properties.GatewayResponses.${type}.ResponseParameters.Headers`;
  const resolved = template.resolve(headers, path);
  if (!isObj(resolved)) return undefined;
  return Object.fromEntries(Object.entries(resolved).map(([name, value]) => [name, unquote(value) ?? '']));
}

/**
 * The authorizer of one route: the event's `Auth.Authorizer`, else the API's `DefaultAuthorizer`. AWS_IAM and NONE
 * give none here; a Lambda authorizer must be of the TOKEN type without a result cache, else the cloud refuses to
 * start rather than pretend.
 */
function authorizerOf(
  template: LocalTemplate,
  api: Obj | undefined,
  apiRef: string | undefined,
  event: Obj,
): RestTokenAuthorizer | undefined {
  const auth = isObj(api?.Auth) ? api.Auth : {};
  const eventAuth = isObj(event.Auth) ? event.Auth : {};
  const name = eventAuth.Authorizer ?? auth.DefaultAuthorizer;
  if (name === undefined || name === 'AWS_IAM' || name === 'NONE') return undefined;
  const path = `Resources.${apiRef}.Properties.Auth.Authorizers.${String(name)}`;
  const spec = isObj(auth.Authorizers) ? auth.Authorizers[String(name)] : undefined;
  if (!isObj(spec)) throw new Error(`${path}: the route names an authorizer the API does not define`);
  const arn = spec.FunctionArn;
  const fn = isObj(arn) && Array.isArray(arn['Fn::GetAtt']) ? arn['Fn::GetAtt'][0] : undefined;
  if (typeof fn !== 'string') throw new Error(`${path}.FunctionArn: only !GetAtt <Function>.Arn is emulated`);
  if ((spec.FunctionPayloadType ?? 'TOKEN') !== 'TOKEN')
    throw new Error(`${path}: only TOKEN Lambda authorizers are emulated`);
  const identity = isObj(spec.Identity) ? spec.Identity : {};
  const ttl =
    identity.ReauthorizeEvery === undefined ? 300 : Number(template.resolve(identity.ReauthorizeEvery));
  if (ttl !== 0)
    throw new Error(`${path}.Identity.ReauthorizeEvery: the result cache is not emulated (set 0)`);
  const header = identity.Header === undefined ? 'Authorization' : String(template.resolve(identity.Header));
  const validation = identity.ValidationExpression;
  return {
    name: String(name),
    functionLogicalId: fn,
    header,
    ...(validation !== undefined && { validationExpression: String(template.resolve(validation)) }),
  };
}

/**
 * The stage's throttling of one method: the most specific `MethodSettings` entry naming its path (or `/*`) and its
 * method (or `*`) with both ThrottlingRateLimit and ThrottlingBurstLimit. On API Gateway each method of the stage
 * has its own token bucket with these limits (docs/PARITY.md, "Admin broadcast from the browser", the `MethodSettings` row).
 */
function throttleOf(
  template: LocalTemplate,
  api: Obj | undefined,
  path: string,
  method: string,
): ThrottleSettings | undefined {
  const settings = api?.MethodSettings === undefined ? [] : template.resolve(api.MethodSettings);
  if (!Array.isArray(settings)) return undefined;
  const matches = (entry: Obj) =>
    (entry.ResourcePath === '/*' || entry.ResourcePath === path) &&
    (entry.HttpMethod === '*' || String(entry.HttpMethod).toUpperCase() === method);
  const [entry] = settings
    .filter((e): e is Obj => isObj(e) && matches(e) && e.ThrottlingRateLimit !== undefined)
    .sort((a, b) => Number(b.ResourcePath !== '/*') - Number(a.ResourcePath !== '/*'));
  if (!entry) return undefined;
  return { rateLimit: Number(entry.ThrottlingRateLimit), burstLimit: Number(entry.ThrottlingBurstLimit) };
}

/** The REST routes of the template: SAM `Events` of type `Api` on the functions whose Condition holds. */
export function restRoutes(template: LocalTemplate): LocalRestRoute[] {
  const resources = isObj(template.raw.Resources) ? template.raw.Resources : {};
  const routes: LocalRestRoute[] = [];
  for (const fn of template.functions()) {
    const props = isObj(resources[fn.logicalId]) ? (resources[fn.logicalId] as Obj).Properties : undefined;
    const events = isObj(props) && isObj(props.Events) ? props.Events : {};
    for (const [eventId, event] of Object.entries(events)) {
      if (!isObj(event) || event.Type !== 'Api' || !isObj(event.Properties)) continue;
      const path = `Resources.${fn.logicalId}.Properties.Events.${eventId}.Properties`;
      const p = event.Properties;
      const apiRef = isObj(p.RestApiId) && typeof p.RestApiId.Ref === 'string' ? p.RestApiId.Ref : undefined;
      const api = apiRef && isObj(resources[apiRef]) ? (resources[apiRef] as Obj) : undefined;
      const apiProps = isObj(api?.Properties) ? (api.Properties as Obj) : undefined;
      const stage = apiProps?.StageName === undefined ? undefined : template.resolve(apiProps.StageName);
      const cors = corsOf(template, apiProps, `Resources.${apiRef}.Properties.Cors`);
      const authorizer = authorizerOf(template, apiProps, apiRef, p);
      const fourXX = gatewayHeadersOf(template, apiProps, apiRef, 'DEFAULT_4XX');
      const fiveXX = gatewayHeadersOf(template, apiProps, apiRef, 'DEFAULT_5XX');
      const method = String(template.resolve(p.Method, `${path}.Method`)).toUpperCase();
      const routePath = String(template.resolve(p.Path, `${path}.Path`));
      const throttle = throttleOf(template, apiProps, routePath, method);
      routes.push({
        functionLogicalId: fn.logicalId,
        method,
        path: routePath,
        ...(throttle && { throttle }),
        ...(apiRef && { apiLogicalId: apiRef }),
        ...(typeof stage === 'string' && { stageName: stage }),
        ...(cors && { cors }),
        ...(authorizer && { authorizer }),
        ...((fourXX || fiveXX) && {
          gatewayHeaders: { ...(fourXX && { '4XX': fourXX }), ...(fiveXX && { '5XX': fiveXX }) },
        }),
      });
    }
  }
  return routes;
}

/** `/items/{id}` -> a matcher returning the path parameters, `{proxy+}` taking the rest of the path. */
function compilePath(resourcePath: string): (path: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const pattern = resourcePath
    .split('/')
    .map((segment) => {
      const param = /^\{([^}+]+)(\+?)\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param[1] as string);
      return param[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  const regex = new RegExp(`^${pattern}/?$`);
  return (path) => {
    const match = regex.exec(path);
    if (!match) return undefined;
    return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? '')]));
  };
}

export interface RestApiOptions {
  routes: LocalRestRoute[];
  region: string;
  accountId: string;
  /** Runs a function (a route's or an authorizer), rejecting with its error when it failed. */
  invoke(functionLogicalId: string, event: unknown): Promise<unknown>;
  /** Tests only: the clock (epoch ms) the stage throttle's buckets refill by; default the machine's. */
  throttleNow?: () => number;
}

/** API Gateway's payload limit for REST APIs. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-amzn-requestid': awsId(),
    ...headers,
  });
  res.end(body);
}

/** A refusal of the gateway itself, with the API's gateway-response headers for its class (4XX or 5XX). */
function refuse(res: ServerResponse, route: LocalRestRoute | undefined, refusal: Refusal) {
  const headers = route?.gatewayHeaders?.[refusal.statusCode >= 500 ? '5XX' : '4XX'] ?? {};
  send(res, refusal.statusCode, refusal.body, headers);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function headerMaps(raw: string[]) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    headers[name] = value;
    const list = multiValueHeaders[name];
    if (list) list.push(value);
    else multiValueHeaders[name] = [value];
  }
  return { headers, multiValueHeaders };
}

/** The route's TOKEN authorizer's verdict: its context for the event, or the refusal already sent. */
async function authorize(
  req: IncomingMessage,
  res: ServerResponse,
  route: LocalRestRoute,
  opts: RestApiOptions,
  apiId: string,
  stage: string,
): Promise<{ context: Record<string, string | number | boolean> | null } | undefined> {
  if (!route.authorizer) return { context: null };
  const methodArn = `arn:aws:execute-api:${opts.region}:${opts.accountId}:${apiId}/${stage}/${route.method}${route.path}`;
  const outcome = await runTokenAuthorizer(route.authorizer, req.headers, methodArn, opts.invoke);
  if (outcome.allowed) return { context: outcome.context };
  refuse(res, route, outcome.refusal);
  return undefined;
}

/** The query string as API Gateway gives it: single and multi-value maps, null when there is none. */
function queryMaps(url: URL) {
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    multiQuery[name] = [...(multiQuery[name] ?? []), value];
  }
  const hasQuery = Object.keys(query).length > 0;
  return {
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
  };
}

/** The caller's identity in the request context: only the source IP and user agent are known locally. */
function identityOf(req: IncomingMessage): APIGatewayProxyEvent['requestContext']['identity'] {
  return {
    sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
    userAgent: req.headers['user-agent'] ?? null,
    accessKey: null,
    accountId: null,
    apiKey: null,
    apiKeyId: null,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    user: null,
    userArn: null,
  };
}

/** What one matched request looks like to the route's function. */
interface ProxyRequest {
  req: IncomingMessage;
  route: LocalRestRoute;
  params: Record<string, string>;
  url: URL;
  body: Buffer;
  apiId: string;
  stage: string;
  requestId: string;
  /** When API Gateway took the request (epoch ms). */
  now: number;
  authorizer: Record<string, string | number | boolean> | null;
}

/** The APIGatewayProxyEvent API Gateway builds for a request on a Lambda proxy route. */
function proxyEvent(p: ProxyRequest, accountId: string): APIGatewayProxyEvent {
  const { req, route, url, stage, requestId, now } = p;
  const { headers, multiValueHeaders } = headerMaps(req.rawHeaders);
  return {
    resource: route.path,
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders,
    ...queryMaps(url),
    pathParameters: Object.keys(p.params).length > 0 ? p.params : null,
    stageVariables: null,
    body: p.body.length > 0 ? p.body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId,
      apiId: p.apiId,
      resourceId: 'local',
      resourcePath: route.path,
      httpMethod: req.method ?? 'GET',
      path: `/${stage}${url.pathname}`,
      stage,
      protocol: `HTTP/${req.httpVersion}`,
      requestId,
      extendedRequestId: requestId,
      requestTime: requestTime(now),
      requestTimeEpoch: now,
      domainName: req.headers.host ?? 'localhost',
      authorizer: p.authorizer,
      identity: identityOf(req),
    },
  };
}

/** Maps a function's proxy result to the HTTP answer; anything but a result with a statusCode is a 502. */
function answerWith(res: ServerResponse, requestId: string, result: unknown): void {
  const r = result as {
    statusCode?: unknown;
    headers?: Record<string, unknown>;
    multiValueHeaders?: Record<string, unknown[]>;
    body?: unknown;
    isBase64Encoded?: unknown;
  } | null;
  if (!r || typeof r.statusCode !== 'number') {
    send(res, 502, '{"message": "Internal server error"}');
    return;
  }
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(r.headers ?? {})) out[name] = String(value);
  for (const [name, values] of Object.entries(r.multiValueHeaders ?? {})) out[name] = values.map(String);
  const text = typeof r.body === 'string' ? r.body : '';
  const payload = r.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  res.writeHead(r.statusCode, { 'x-amzn-requestid': requestId, ...out, 'content-length': payload.length });
  res.end(payload);
}

/** Runs one request on its route: body limit, authorizer, the function, its result as the answer. */
async function invokeRoute(
  opts: RestApiOptions,
  req: IncomingMessage,
  res: ServerResponse,
  route: LocalRestRoute,
  params: Record<string, string>,
  url: URL,
): Promise<void> {
  const body = await readBody(req);
  if (body === undefined) {
    refuse(res, route, { statusCode: 413, body: '{"message":"Request Entity Too Large"}' });
    return;
  }
  const now = Date.now();
  const stage = route.stageName ?? 'local';
  const requestId = awsId();
  const apiId = (route.apiLogicalId ?? 'rest').toLowerCase();
  const authorized = await authorize(req, res, route, opts, apiId, stage);
  if (!authorized) return;
  const event = proxyEvent(
    { req, route, params, url, body, apiId, stage, requestId, now, authorizer: authorized.context },
    opts.accountId,
  );
  let result: unknown;
  try {
    result = await opts.invoke(route.functionLogicalId, event);
  } catch {
    // A failed function is a 502 with this body on API Gateway; the function's own log has the detail.
    send(res, 502, '{"message": "Internal server error"}');
    return;
  }
  answerWith(res, requestId, result);
}

/** SAM's preflight: a mock integration answering the Cors settings, with no function and no auth. */
function answerPreflight(res: ServerResponse, cors: LocalCors): void {
  res.writeHead(200, {
    ...(cors.allowOrigin && { 'access-control-allow-origin': cors.allowOrigin }),
    ...(cors.allowMethods && { 'access-control-allow-methods': cors.allowMethods }),
    ...(cors.allowHeaders && { 'access-control-allow-headers': cors.allowHeaders }),
    ...(cors.maxAge && { 'access-control-max-age': cors.maxAge }),
    'content-length': '0',
  });
  res.end();
}

/**
 * Builds the handler of the REST routes: `handle(req, res)` answers and returns true when the path is one of a route
 * (with or without the stage prefix), false otherwise so the caller can serve something else.
 */
export function createRestApi(opts: RestApiOptions) {
  const compiled = opts.routes.map((route) => ({ route, match: compilePath(route.path) }));
  const now = opts.throttleNow ?? Date.now;
  // One bucket per throttled method, filled at start as API Gateway's are.
  const buckets = new Map(
    opts.routes.flatMap((route) => (route.throttle ? [[route, new TokenBucket(route.throttle, now())]] : [])),
  );

  /** Routes whose path matches, as `/broadcast` or with the stage in front as on AWS (`/prod/broadcast`). */
  const find = (path: string) => {
    const hits: { route: LocalRestRoute; params: Record<string, string> }[] = [];
    for (const { route, match } of compiled) {
      const prefix = route.stageName === undefined ? undefined : `/${route.stageName}/`;
      const params =
        match(path) ?? (prefix && path.startsWith(prefix) ? match(path.slice(prefix.length - 1)) : undefined);
      if (params) hits.push({ route, params });
    }
    return hits;
  };

  return {
    routes: opts.routes,
    handle(req: IncomingMessage, res: ServerResponse): boolean {
      const url = new URL(req.url ?? '/', 'http://local');
      const hits = find(url.pathname);
      if (hits.length === 0) return false;
      const method = (req.method ?? 'GET').toUpperCase();
      const hit = hits.find(({ route }) => route.method === method || route.method === 'ANY');
      if (hit) {
        // The stage throttle comes before the authorizer and the function: a throttled call runs neither.
        if (buckets.get(hit.route)?.take(now()) === false) {
          refuse(res, hit.route, { statusCode: 429, body: '{"message":"Too Many Requests"}' });
          return true;
        }
        invokeRoute(opts, req, res, hit.route, hit.params, url).catch(() => {
          if (!res.headersSent) send(res, 500, '{"message": "Internal server error"}');
        });
        return true;
      }
      const cors = hits.find(({ route }) => route.cors)?.route.cors;
      if (method === 'OPTIONS' && cors) answerPreflight(res, cors);
      // What API Gateway answers for a method the resource does not have.
      else
        refuse(res, hits[0]?.route, { statusCode: 403, body: '{"message":"Missing Authentication Token"}' });
      return true;
    },
  };
}
