import type { RawData } from 'ws';

/** How the gateway closes a socket, with the code and reason AWS gives, and the text frames it sends itself. */
export interface CloseCause {
  code: number;
  reason: string;
}

export const GOING_AWAY: CloseCause = { code: 1001, reason: 'Going away' };
export const DELETED: CloseCause = { code: 1000, reason: 'Connection Closed Normally' };
export const TOO_BIG: CloseCause = { code: 1009, reason: 'Message too big' };
/** AWS closes a connection that sends a binary frame with 1003 (it supports text frames only). */
export const BINARY: CloseCause = { code: 1003, reason: '' };
export const ABNORMAL: CloseCause = { code: 1006, reason: 'Connection closed abnormally' };

/** The text AWS sends a client when its message could not be routed or its function failed (no stack trace). */
export function errorFrame(message: string, connectionId: string, requestId: string): string {
  return `{"message": "${message}", "connectionId":"${connectionId}", "requestId":"${requestId}"}`;
}

export function describeClose(code: number, reason: string): string {
  if (reason !== '') return reason;
  if (code === 1000) return 'Connection Closed Normally';
  if (code === 1001) return 'Going away';
  if (code === 1005) return 'Client-side close frame status not set';
  if (code === 1006) return ABNORMAL.reason;
  return '';
}

export function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

export function checkShare(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value <= 1))
    throw new RangeError(`${name} must be within 0..1, got ${value}`);
}

export function errorFields(err: unknown): Record<string, unknown> {
  return err instanceof Error ? { error: err.message, errorName: err.name } : { error: String(err) };
}

export function headerValue(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (headers === undefined) return undefined;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value;
  return undefined;
}
