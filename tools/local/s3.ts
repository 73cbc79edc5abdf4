// The local cloud's S3 subset: the buckets of the template, in memory, with what the attachments flow uses and S3's
// own checks of it (docs/PARITY.md, "Local S3"); this file routes each request to its operation:
// - POST /<bucket>: a browser form upload signed as a presigned POST (s3Post.ts);
// - GET and HEAD /<bucket>/<key>: query-string SigV4 (a presigned GET, s3Signing.ts) or an Authorization header (the
//   SDK's HeadObject, checked by the local IAM), then s3:GetObject or s3:GetObjectVersion (s3Operations.ts);
// - versioning as the bucket's VersioningConfiguration says (s3Store.ts), the version id in `x-amz-version-id`;
// - the content headers a POST's form sets, stored with the object and sent with each GET and HEAD of it, and a
//   signed GET's or HEAD's `response-*` query parameters, which replace them in that one answer;
// - CORS as the bucket's CorsConfiguration says: preflight OPTIONS and the response headers on matching requests
//   (s3Cors.ts);
// - PUT with `x-amz-copy-source` (the SDK's CopyObject) and DELETE (DeleteObject), header-signed (s3Operations.ts).
// Refusals carry S3's status codes, error codes and messages, as XML (s3Errors.ts). Paths are path-style
// (`/<bucket>/<key>`).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalTemplate } from '../infra/template';
import { type CorsRule, corsHeaders, corsRuleFor, preflight } from './s3Cors';
import { errorXml, S3Error } from './s3Errors';
import { respondCopy, respondDelete, respondGet, respondPost, type S3Context } from './s3Operations';
import { type LocalBucket, ObjectStore, type S3Object } from './s3Store';

export type { CorsRule } from './s3Cors';
export { MAX_PRESIGN_SECONDS } from './s3Signing';
export type { LocalBucket, S3Object } from './s3Store';

export interface LocalS3Options {
  region: string;
  buckets: LocalBucket[];
  /** The secret of an access key, undefined for a key nobody holds. */
  secretOf(accessKeyId: string): string | undefined;
  /** May the key's holder do `action` on `resource`? The refusal's message, or undefined when allowed. */
  authorize(accessKeyId: string, action: string, resource: string): Promise<string | undefined>;
  /** Verifies a header-signed request (the SDK's calls) and the caller's policy: the local IAM's checkRequest. */
  checkSigned: S3Context['checkSigned'];
  now?: () => number;
  /**
   * Origins every CORS rule allows besides its own: the local cloud's web pages, which stand in for the hosted web
   * chat (the template's rules name CloudFront's origin, or BroadcastAllowedOrigin).
   */
  localOrigins?: () => string[];
}

/** The local S3 service: an HTTP handler and its objects (tests read and age them). */
export interface LocalS3 {
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The object under `key` (its current version), if stored. */
  object(bucket: string, key: string): S3Object | undefined;
  /** Every version stored under `key`, oldest first. */
  versions(bucket: string, key: string): S3Object[];
  /** Puts an object directly (seeding a test), as an admin would; returns the version stored. */
  put(bucket: string, key: string, object: Pick<S3Object, 'body' | 'contentType' | 'headers'>): S3Object;
  /** Removes every version under `key`, as the bucket's lifecycle expiry does in the end (a test ages it). */
  remove(bucket: string, key: string): void;
}

/** The template's buckets (those whose Condition holds) with their CORS rules, as the local S3 serves them. */
export function templateBuckets(template: LocalTemplate): LocalBucket[] {
  const raw = template.raw.Resources as Record<
    string,
    { Properties?: { CorsConfiguration?: unknown; VersioningConfiguration?: unknown } }
  >;
  return template.resourceIds('AWS::S3::Bucket').map((logicalId) => {
    const path = `Resources.${logicalId}.Properties.CorsConfiguration`;
    const versioning = template.resolve(
      raw[logicalId]?.Properties?.VersioningConfiguration ?? {},
      `Resources.${logicalId}.Properties.VersioningConfiguration`,
    ) as { Status?: string };
    const cors = template.resolve(raw[logicalId]?.Properties?.CorsConfiguration ?? {}, path) as {
      CorsRules?: {
        AllowedOrigins: string[];
        AllowedMethods: string[];
        AllowedHeaders?: string[];
        ExposedHeaders?: string[];
        MaxAge?: number;
      }[];
    };
    return {
      name: String(template.physicalId(logicalId)),
      versioned: versioning.Status === 'Enabled',
      cors: cors.CorsRules?.map((rule) => ({
        allowedOrigins: rule.AllowedOrigins,
        allowedMethods: rule.AllowedMethods,
        allowedHeaders: rule.AllowedHeaders,
        exposedHeaders: rule.ExposedHeaders,
        maxAge: rule.MaxAge,
      })),
    };
  });
}

export function createLocalS3(options: LocalS3Options): LocalS3 {
  const now = options.now ?? Date.now;
  const store = new ObjectStore(options.buckets, now);
  const context: S3Context = {
    signers: { region: options.region, secretOf: (id) => options.secretOf(id), now },
    authorize: (id, action, resource) => options.authorize(id, action, resource),
    checkSigned: (req, body, action, resource) => options.checkSigned(req, body, action, resource),
    store,
  };
  const rulesOf = (bucket: LocalBucket): CorsRule[] | undefined =>
    bucket.cors?.map((rule) => ({
      ...rule,
      allowedOrigins: [...rule.allowedOrigins, ...(options.localOrigins?.() ?? [])],
    }));
  return {
    handle(req, res) {
      const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
      serve(context, rulesOf, req, res, requestId).catch((thrown: unknown) =>
        answerError(req, res, requestId, thrown),
      );
    },
    object: (bucket, key) => store.current(bucket, key),
    versions: (bucket, key) => store.versions(bucket, key),
    put: (bucket, key, object) => {
      if (!store.bucket(bucket)) throw new Error(`no bucket ${bucket}`);
      return store.store(bucket, key, object.body, object.contentType, object.headers);
    },
    remove: (bucket, key) => store.remove(bucket, key),
  };
}

/** Routes a request to its operation by method and path, with the bucket's CORS headers on a matching one. */
async function serve(
  context: S3Context,
  rulesOf: (bucket: LocalBucket) => CorsRule[] | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://local');
  const [, bucketName = '', ...rest] = url.pathname.split('/');
  const key = decodeURIComponent(rest.join('/'));
  const bucket = context.store.bucket(bucketName);
  const origin = req.headers.origin;
  const method = req.method ?? 'GET';
  if (!bucket)
    throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', {
      BucketName: bucketName,
    });
  if (method === 'OPTIONS') return preflight(req, res, rulesOf(bucket), key, requestId);
  const rule = origin ? corsRuleFor(rulesOf(bucket), origin, method) : undefined;
  const cors = rule && origin ? corsHeaders(rule, origin) : {};
  res.setHeader('x-amz-request-id', requestId);
  for (const [name, value] of Object.entries(cors)) res.setHeader(name, value);
  const at = { req, res, url, bucket, key };
  if (method === 'POST' && key === '') return respondPost(context, at);
  if ((method === 'GET' || method === 'HEAD') && key !== '') return respondGet(context, at);
  if (method === 'PUT' && key !== '' && req.headers['x-amz-copy-source'] !== undefined)
    return respondCopy(context, at);
  if (method === 'DELETE' && key !== '' && !url.searchParams.has('versionId'))
    return respondDelete(context, at);
  throw new S3Error(
    501,
    'NotImplemented',
    'A header you provided implies functionality that is not implemented',
  );
}

/** Answers a refusal (or an internal error) as S3 does: its status and XML, which a HEAD answer carries none of. */
function answerError(req: IncomingMessage, res: ServerResponse, requestId: string, thrown: unknown): void {
  const error =
    thrown instanceof S3Error
      ? thrown
      : new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
  const resource = new URL(req.url ?? '/', 'http://local').pathname;
  // HEAD answers carry no body: the SDK reads the error from the status alone.
  const body = req.method === 'HEAD' ? '' : errorXml(error, resource, requestId);
  if (!res.headersSent)
    res.writeHead(error.status, {
      'content-type': 'application/xml',
      'content-length': Buffer.byteLength(body),
    });
  res.end(body);
  // The rest of an upload refused early is read and dropped, so the client sees the answer.
  req.resume();
}
