import type {
  APIGatewayEventWebsocketRequestContextV2,
  APIGatewayProxyWebsocketEventV2WithRequestContext,
} from 'aws-lambda';
import { awsId, requestTime } from './ids';

export interface WebsocketIdentity {
  sourceIp: string;
  userAgent: string;
}

/**
 * requestContext as API Gateway sends it to WebSocket routes. The @types/aws-lambda one lacks `identity` and the
 * $disconnect fields, and declares `messageId` on every event although AWS sets it on MESSAGE events only.
 */
export interface WebsocketRequestContext extends Omit<APIGatewayEventWebsocketRequestContextV2, 'messageId'> {
  messageId?: string;
  identity: WebsocketIdentity;
  disconnectStatusCode?: number;
  disconnectReason?: string;
}

/** The event each route's Lambda receives; `headers`/`multiValueHeaders` are set on $connect and $disconnect. */
export interface APIGatewayProxyWebsocketEventV2WithHeaders
  extends APIGatewayProxyWebsocketEventV2WithRequestContext<WebsocketRequestContext> {
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
}

/** What an event needs to know about the stage. */
export interface StageInfo {
  apiId: string;
  stage: string;
  domainName: string;
}

/** What an event needs to know about the connection. */
export interface ConnectionInfo {
  id: string;
  connectedAt: number;
  sourceIp: string;
  userAgent: string;
}

export interface HttpParts {
  headers: Record<string, string>;
  multiValueHeaders: Record<string, string[]>;
  queryStringParameters: Record<string, string> | undefined;
  multiValueQueryStringParameters: Record<string, string[]> | undefined;
}

function context(
  stage: StageInfo,
  conn: ConnectionInfo,
  routeKey: string,
  eventType: WebsocketRequestContext['eventType'],
  now: number,
): WebsocketRequestContext {
  const requestId = awsId();
  return {
    routeKey,
    eventType,
    extendedRequestId: requestId,
    requestTime: requestTime(now),
    messageDirection: 'IN',
    stage: stage.stage,
    connectedAt: conn.connectedAt,
    requestTimeEpoch: now,
    identity: { sourceIp: conn.sourceIp, userAgent: conn.userAgent },
    requestId,
    domainName: stage.domainName,
    connectionId: conn.id,
    apiId: stage.apiId,
  };
}

export function connectEvent(
  stage: StageInfo,
  conn: ConnectionInfo,
  http: HttpParts,
  now: number,
): APIGatewayProxyWebsocketEventV2WithHeaders {
  return {
    headers: http.headers,
    multiValueHeaders: http.multiValueHeaders,
    queryStringParameters: http.queryStringParameters,
    multiValueQueryStringParameters: http.multiValueQueryStringParameters,
    requestContext: context(stage, conn, '$connect', 'CONNECT', now),
    isBase64Encoded: false,
  };
}

export function messageEvent(
  stage: StageInfo,
  conn: ConnectionInfo,
  routeKey: string,
  body: string,
  now: number,
): APIGatewayProxyWebsocketEventV2WithHeaders {
  const requestContext = context(stage, conn, routeKey, 'MESSAGE', now);
  requestContext.messageId = awsId();
  return { requestContext, body, isBase64Encoded: false };
}

export function disconnectEvent(
  stage: StageInfo,
  conn: ConnectionInfo,
  code: number,
  reason: string,
  now: number,
): APIGatewayProxyWebsocketEventV2WithHeaders {
  // AWS sends these four headers on $disconnect, most of them empty; handlers must not rely on them.
  const headers: Record<string, string> = {
    Host: stage.domainName,
    'x-api-key': '',
    'X-Forwarded-For': '',
    'x-restapi': '',
  };
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers)) multiValueHeaders[name] = [value];
  const requestContext = context(stage, conn, '$disconnect', 'DISCONNECT', now);
  requestContext.disconnectStatusCode = code;
  requestContext.disconnectReason = reason;
  return { headers, multiValueHeaders, requestContext, isBase64Encoded: false };
}

/** Headers with the client's own spelling (rawHeaders keeps it; AWS passes them as sent), last value wins. */
export function httpParts(
  rawHeaders: readonly string[],
  search: string,
  extra: Record<string, string>,
): HttpParts {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  const add = (name: string, value: string): void => {
    headers[name] = value;
    const list = multiValueHeaders[name];
    if (list) list.push(value);
    else multiValueHeaders[name] = [value];
  };
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) add(rawHeaders[i] ?? '', rawHeaders[i + 1] ?? '');
  for (const [name, value] of Object.entries(extra)) add(name, value);

  let queryStringParameters: Record<string, string> | undefined;
  let multiValueQueryStringParameters: Record<string, string[]> | undefined;
  for (const [name, value] of new URLSearchParams(search)) {
    queryStringParameters ??= {};
    multiValueQueryStringParameters ??= {};
    queryStringParameters[name] = value;
    const list = multiValueQueryStringParameters[name];
    if (list) list.push(value);
    else multiValueQueryStringParameters[name] = [value];
  }
  return { headers, multiValueHeaders, queryStringParameters, multiValueQueryStringParameters };
}
