import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';

export const eventsDir = join(__dirname, '..', '..', 'events');

/** A sample event from events/, optionally with another frame body or connection id. */
export function sampleEvent(
  name: string,
  overrides: { body?: unknown; connectionId?: string } = {},
): APIGatewayProxyWebsocketEventV2 {
  const event = JSON.parse(readFileSync(join(eventsDir, `${name}.json`), 'utf8'));
  if ('body' in overrides) {
    event.body = typeof overrides.body === 'string' ? overrides.body : JSON.stringify(overrides.body);
  }
  if (overrides.connectionId) event.requestContext.connectionId = overrides.connectionId;
  return event;
}

export function readEvent<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(join(eventsDir, `${name}.json`), 'utf8')) as T;
}

/** The frame a two-way route sends back to the client. */
export function frameOf(result: unknown): Record<string, unknown> {
  const { body } = result as { body?: string };
  if (typeof body !== 'string') throw new Error(`route returned no body: ${JSON.stringify(result)}`);
  return JSON.parse(body);
}
