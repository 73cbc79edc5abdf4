// CORS as a bucket's CorsConfiguration says: the rule S3 picks for a request, the preflight OPTIONS answer, and the
// response headers on a matching request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from './s3Errors';

/** A bucket's CORS rule, as AWS::S3::Bucket CorsConfiguration.CorsRules declares it. */
export interface CorsRule {
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders?: string[];
  exposedHeaders?: string[];
  maxAge?: number;
}

/** The CORS rule that allows this origin and method (and requested headers), as S3 picks the first that matches. */
export function corsRuleFor(
  rules: CorsRule[] | undefined,
  origin: string,
  method: string,
  requestHeaders: string[] = [],
): CorsRule | undefined {
  const wildcard = (pattern: string, value: string) =>
    new RegExp(
      `^${pattern
        .split('*')
        .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
      'i',
    ).test(value);
  return rules?.find(
    (rule) =>
      rule.allowedOrigins.some((allowed) => wildcard(allowed, origin)) &&
      rule.allowedMethods.includes(method) &&
      requestHeaders.every((h) => (rule.allowedHeaders ?? []).some((allowed) => wildcard(allowed, h))),
  );
}

export function corsHeaders(rule: CorsRule, origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': rule.allowedMethods.join(', '),
    'access-control-allow-credentials': 'true',
    vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    ...(rule.exposedHeaders?.length && { 'access-control-expose-headers': rule.exposedHeaders.join(', ') }),
    ...(rule.maxAge !== undefined && { 'access-control-max-age': String(rule.maxAge) }),
  };
}

/** Answers a preflight OPTIONS of `key` (empty: the bucket) by `rules`, or throws S3's refusal of it. */
export function preflight(
  req: IncomingMessage,
  res: ServerResponse,
  rules: CorsRule[] | undefined,
  key: string,
  requestId: string,
): void {
  const origin = req.headers.origin;
  const requested = req.headers['access-control-request-method'];
  const requestHeaders = String(req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  if (!origin || typeof requested !== 'string')
    throw new S3Error(400, 'BadRequest', 'Insufficient information. Origin request header needed.');
  const rule = corsRuleFor(rules, origin, requested, requestHeaders);
  if (!rule)
    throw new S3Error(
      403,
      'AccessForbidden',
      "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
      { Method: requested, ResourceType: key ? 'OBJECT' : 'BUCKET' },
    );
  res.writeHead(200, {
    ...corsHeaders(rule, origin),
    ...(requestHeaders.length > 0 && { 'access-control-allow-headers': requestHeaders.join(', ') }),
    'x-amz-request-id': requestId,
    'content-length': 0,
  });
  res.end();
}
