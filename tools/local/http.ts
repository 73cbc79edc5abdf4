import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webmanifest': 'application/manifest+json',
};

/**
 * The pages' Content-Security-Policy: `connect-src` names exactly `connectSrc` (the stack's endpoints), so no script
 * or crafted link can make the page send a sign-in token, an invite key or a message anywhere else.
 */
export function contentSecurityPolicy(connectSrc: readonly string[], imgSrc: readonly string[] = []): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    ["img-src 'self' data:", ...imgSrc].join(' '),
    `connect-src ${connectSrc.join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * A page with the `connect-src` of its CSP meta tag set to `connectSrc`: a browser enforces the meta tag and the
 * header both, so the tag must allow the same endpoints (web/*.html store `connect-src 'self'`).
 */
export function withConnectSrc(html: string, connectSrc: readonly string[]): string {
  return html.replace(
    /(http-equiv="Content-Security-Policy"\s+content="[^"]*?connect-src )[^;"]*/,
    (_, head: string) => `${head}${connectSrc.join(' ')}`,
  );
}

/** A page whose CSP meta tag's `img-src` also allows `imgSrc` (the attachments bucket's presigned GETs). */
export function withImgSrc(html: string, imgSrc: readonly string[]): string {
  if (imgSrc.length === 0) return html;
  return html.replace(
    /(http-equiv="Content-Security-Policy"\s+content="[^"]*?img-src )([^;"]*)/,
    (_, head: string, sources: string) => `${head}${sources} ${imgSrc.join(' ')}`,
  );
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * Serves the web/ folder; `/` is index.html. Paths outside the folder are never served. Pages may connect to
 * `connectSrc` only (CSP header and meta tag).
 */
export function serveStatic(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  connectSrc: readonly string[],
  imgSrc: readonly string[] = [],
): void {
  const url = new URL(req.url ?? '/', 'http://local');
  const relative = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
  const path = join(root, relative === '' ? 'index.html' : relative);
  if (!path.startsWith(root + sep) && path !== root) {
    sendJson(res, 403, { message: 'Forbidden' });
    return;
  }
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'index.html') : path;
  if (!existsSync(file)) {
    sendJson(res, 404, { message: `Not found: ${url.pathname}` });
    return;
  }
  const headers = {
    'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': contentSecurityPolicy(connectSrc, imgSrc),
  };
  if (extname(file) !== '.html') {
    res.writeHead(200, headers);
    createReadStream(file).pipe(res);
    return;
  }
  const page = withImgSrc(withConnectSrc(readFileSync(file, 'utf8'), connectSrc), imgSrc);
  res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(page) });
  res.end(req.method === 'HEAD' ? undefined : page);
}

/**
 * The caller may run `action` on every one of `resources`; otherwise the AWS error name and message. The local
 * cloud's IAM check, as each local AWS service (DynamoDB, EventBridge, Parameter Store) calls it per request.
 */
export type RequestGuard = (
  req: IncomingMessage,
  body: Buffer,
  action: string | undefined,
  resources: string[],
  /** IAM condition keys the request sets (DynamoDB's dynamodb:LeadingKeys), for statements with a Condition. */
  context?: ConditionContext,
) => Promise<{ code: string; message: string } | undefined>;

/** Request-context condition keys and their values, as IAM evaluates a statement's Condition against them. */
export type ConditionContext = Record<string, string | string[]>;

/** A reply of an AWS JSON 1.1 service (EventBridge, Parameter Store), with its request id. */
export function sendAmzJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}
