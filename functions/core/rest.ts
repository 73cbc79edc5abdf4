import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { config } from '#platform/config';
import { instrumented } from '#platform/invocation';
import { logger, METRIC, MetricUnit, metrics } from '#platform/powertools';
import { describeError, PublishFailed, toHttpError, UnsupportedMediaType } from './errors';
import { parseJsonObject } from './protocol';

/** The REST (admin) side: JSON in, JSON out, errors as `{ code, message }` with the matching HTTP status. */

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

interface RestReply {
  statusCode: number;
  body: object;
}

/**
 * Builds the Lambda entry point of a REST proxy route: run the handler, answer JSON with the CORS origin the template
 * configures (API Gateway adds it only to the OPTIONS preflight; a proxy integration must add it itself).
 */
export function restHandler(name: string, handle: (event: APIGatewayProxyEvent) => Promise<RestReply>) {
  return instrumented(async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    logger.appendKeys({ requestId: event.requestContext?.requestId });
    let reply: RestReply;
    try {
      reply = await handle(event);
    } catch (error) {
      reply = toHttpError(error);
      // An event the bus refused is counted as every route counts it (PublishFailures, alarmed).
      if (error instanceof PublishFailed) metrics.addMetric(METRIC.publishFailures, MetricUnit.Count, 1);
      if (describeError(error).fault === 'server') logger.error(`${name} failed`, error as Error);
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
