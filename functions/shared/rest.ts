import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { config } from './config';
import { ChatError, type ErrorCode, PublishFailed } from './errors';
import { instrumented, logger } from './powertools';
import { parseJsonObject } from './protocol';

/** The REST (admin) side: JSON in, JSON out, errors as `{ code, message }` with the matching HTTP status. */

/** An error that only exists over HTTP (the WebSocket protocol has no content types). */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UnsupportedMediaType extends HttpError {
  constructor() {
    super(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as Content-Type: application/json.');
  }
}

/** Protocol error codes as HTTP statuses, in one place. */
const STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  ROOM_NOT_FOUND: 404,
  MESSAGE_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
};

function header(headers: APIGatewayProxyEvent['headers'] | null, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** The request body as a JSON object: 415 unless it is declared application/json, 400 unless it is one. */
export function parseJsonBody(event: APIGatewayProxyEvent): Record<string, unknown> {
  const mediaType = header(event.headers, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') throw new UnsupportedMediaType();
  const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : event.body;
  return parseJsonObject(raw, 'body');
}

export interface RestReply {
  statusCode: number;
  body: object;
}

function errorReply(error: unknown): RestReply {
  if (error instanceof HttpError) {
    return { statusCode: error.statusCode, body: { code: error.code, message: error.message } };
  }
  if (error instanceof ChatError) {
    return { statusCode: STATUS[error.code], body: { code: error.code, message: error.message } };
  }
  if (error instanceof PublishFailed) {
    return {
      statusCode: 503,
      body: { code: 'INTERNAL', message: 'The announcement could not be queued. Try again.' },
    };
  }
  return { statusCode: 500, body: { code: 'INTERNAL', message: 'Something went wrong on our side.' } };
}

/**
 * Builds the Lambda entry point of a REST proxy route: run the handler, answer JSON with the CORS origin the template
 * configures (API Gateway adds it only to the OPTIONS preflight; a proxy integration must add it itself).
 */
export function restHandler(name: string, handle: (event: APIGatewayProxyEvent) => Promise<RestReply>) {
  return async (event: APIGatewayProxyEvent, context?: Context): Promise<APIGatewayProxyResult> =>
    instrumented(name, async () => {
      if (context) logger.addContext(context);
      logger.appendKeys({ requestId: event.requestContext?.requestId });
      let reply: RestReply;
      try {
        reply = await handle(event);
      } catch (error) {
        reply = errorReply(error);
        if (reply.statusCode >= 500) logger.error(`${name} failed`, error as Error);
        else logger.info('request rejected', { status: reply.statusCode, reason: (error as Error).message });
      }
      return {
        statusCode: reply.statusCode,
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'Cache-Control': 'no-store',
          'Access-Control-Allow-Origin': config.broadcastAllowedOrigin(),
        },
        body: JSON.stringify(reply.body),
      };
    });
}
