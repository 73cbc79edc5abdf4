// The local S3's operations on one object, each checked and answered as S3 does:
// - GET and HEAD: query-string SigV4 (a presigned GET) or an Authorization header (the SDK's HeadObject, checked by
//   the local IAM), then s3:GetObject, or s3:GetObjectVersion for a `versionId` (and not s3:GetObject); a missing
//   key is 404 only to a caller allowed s3:ListBucket, else 403; a signed request's `response-*` parameters replace
//   the stored content headers in that one answer;
// - PUT with `x-amz-copy-source` (CopyObject) and DELETE (DeleteObject), header-signed;
// - the answer to a presigned POST (s3Post.ts checks and stores it).
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  accessDenied,
  MAX_POST_BYTES,
  noSuchKey,
  noSuchVersion,
  readBody,
  S3Error,
  signatureMismatch,
  unknownKey,
  xmlEscape,
} from './s3Errors';
import { type PostContext, postObject } from './s3Post';
import { presignedCaller } from './s3Signing';
import type { LocalBucket, S3Object } from './s3Store';

/** A GET's or HEAD's query parameters that replace a stored header in that answer (S3's GetObject). */
const RESPONSE_OVERRIDES = {
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
  'response-content-language': 'content-language',
  'response-content-type': 'content-type',
  'response-expires': 'expires',
} as const;

/** What the operations need of the local S3: a POST's needs and the local IAM's check of a header-signed request. */
export interface S3Context extends PostContext {
  /** Verifies a header-signed request (the SDK's calls) and the caller's policy: the local IAM's checkRequest. */
  checkSigned(
    req: IncomingMessage,
    body: Buffer,
    action: string,
    resource: string,
  ): Promise<{ code: string; message: string; accessKeyId?: string } | { accessKeyId: string }>;
}

/** One request to an object's operation: the request, its answer, its URL, and the bucket and key it names. */
export interface ObjectRequest {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  bucket: LocalBucket;
  key: string;
}

/** A header-signed request's caller, or S3's refusal, for `action` on `resource` (the local IAM's check). */
async function signedCaller(
  context: S3Context,
  req: IncomingMessage,
  body: Buffer,
  action: string,
  resource: string,
): Promise<string> {
  const checked = await context.checkSigned(req, body, action, resource);
  if (!('code' in checked)) return checked.accessKeyId;
  if (checked.code === 'AccessDeniedException' || checked.code === 'MissingAuthenticationTokenException')
    throw accessDenied();
  if (checked.code === 'UnrecognizedClientException') throw unknownKey();
  throw signatureMismatch();
}

/** GET or HEAD of one object, signed in the query (presigned) or the Authorization header (the SDK). */
async function getObject(
  context: S3Context,
  req: IncomingMessage,
  url: URL,
  bucketName: string,
  key: string,
) {
  const resource = `arn:aws:s3:::${bucketName}/${key}`;
  // A version named by id is s3:GetObjectVersion's, and s3:GetObject is not needed for it (S3's GetObject).
  const versionId = url.searchParams.get('versionId');
  const action = versionId === null ? 's3:GetObject' : 's3:GetObjectVersion';
  let caller: string;
  if (url.searchParams.has('X-Amz-Signature') || url.searchParams.has('X-Amz-Credential')) {
    caller = presignedCaller(context.signers, req, url);
    if ((await context.authorize(caller, action, resource)) !== undefined) throw accessDenied();
  } else caller = await signedCaller(context, req, Buffer.alloc(0), action, resource);
  const object = context.store.version(bucketName, key, versionId);
  // A delete marker named by id is S3's 405; as the current version, the key reads as missing.
  if (object?.deleteMarker && versionId !== null)
    throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', {
      Method: req.method ?? 'GET',
      ResourceType: 'DeleteMarker',
    });
  if (object && !object.deleteMarker) return object;
  // Without s3:ListBucket a caller cannot tell a missing key from one it may not read (S3's HeadObject/GetObject).
  if ((await context.authorize(caller, 's3:ListBucket', `arn:aws:s3:::${bucketName}`)) !== undefined)
    throw accessDenied();
  if (versionId !== null && context.store.versions(bucketName, key).length > 0 && !object)
    throw noSuchVersion(key, versionId);
  throw noSuchKey(key);
}

/** Answers a GET (the object's bytes) or HEAD (its headers only) of `key`. */
export async function respondGet(
  context: S3Context,
  { req, res, url, bucket, key }: ObjectRequest,
): Promise<void> {
  const object = await getObject(context, req, url, bucket.name, key);
  // Only a signed request may replace headers (getObject refuses any other first): S3 answers an anonymous one
  // 400 InvalidRequest.
  const overrides = Object.fromEntries(
    Object.entries(RESPONSE_OVERRIDES).flatMap(([param, header]) => {
      const value = url.searchParams.get(param);
      return value === null ? [] : [[header, value] as const];
    }),
  );
  res.writeHead(200, {
    'content-type': object.contentType,
    ...object.headers,
    ...overrides,
    'content-length': object.body.length,
    etag: object.etag,
    'last-modified': object.lastModified.toUTCString(),
    ...(bucket.versioned && { 'x-amz-version-id': object.versionId }),
  });
  res.end(req.method === 'HEAD' ? undefined : object.body);
}

/** Answers a presigned POST to the bucket: 204 with the stored object's ETag and address. */
export async function respondPost(context: S3Context, { req, res, bucket }: ObjectRequest): Promise<void> {
  const { key, object } = await postObject(context, bucket.name, req);
  const location = `http://${req.headers.host}/${bucket.name}/${key.split('/').map(encodeURIComponent).join('/')}`;
  res.writeHead(204, {
    etag: object.etag,
    location,
    ...(bucket.versioned && { 'x-amz-version-id': object.versionId }),
  });
  res.end();
}

/** CopyObject: the source (`bucket/key`, optionally `?versionId=`) stored as a new version of the target. */
async function copyObject(
  context: S3Context,
  req: IncomingMessage,
  bucketName: string,
  key: string,
): Promise<{ object: S3Object; source: S3Object }> {
  const body = await readBody(req, MAX_POST_BYTES);
  const caller = await signedCaller(context, req, body, 's3:PutObject', `arn:aws:s3:::${bucketName}/${key}`);
  const [path = '', query = ''] = String(req.headers['x-amz-copy-source']).replace(/^\//, '').split('?');
  const [fromBucket = '', ...fromParts] = decodeURIComponent(path).split('/');
  const fromKey = fromParts.join('/');
  const fromVersion = new URLSearchParams(query).get('versionId');
  if (!context.store.bucket(fromBucket) || fromKey === '')
    throw new S3Error(400, 'InvalidArgument', 'Invalid copy source object key', {
      ArgumentName: 'x-amz-copy-source',
    });
  const readAction = fromVersion === null ? 's3:GetObject' : 's3:GetObjectVersion';
  if ((await context.authorize(caller, readAction, `arn:aws:s3:::${fromBucket}/${fromKey}`)) !== undefined)
    throw accessDenied();
  const source = context.store.version(fromBucket, fromKey, fromVersion);
  if (!source || source.deleteMarker) {
    if ((await context.authorize(caller, 's3:ListBucket', `arn:aws:s3:::${fromBucket}`)) !== undefined)
      throw accessDenied();
    throw fromVersion === null ? noSuchKey(fromKey) : noSuchVersion(fromKey, fromVersion);
  }
  const object = context.store.store(bucketName, key, source.body, source.contentType, { ...source.headers });
  return { object, source };
}

/** Answers a CopyObject: S3's CopyObjectResult, and the versions of the copy and its source. */
export async function respondCopy(
  context: S3Context,
  { req, res, bucket, key }: ObjectRequest,
): Promise<void> {
  const { object, source } = await copyObject(context, req, bucket.name, key);
  res.writeHead(200, {
    'content-type': 'application/xml',
    ...(bucket.versioned && { 'x-amz-version-id': object.versionId }),
    ...(source.versionId !== 'null' && { 'x-amz-copy-source-version-id': source.versionId }),
  });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult><LastModified>${object.lastModified.toISOString()}</LastModified><ETag>${xmlEscape(object.etag)}</ETag></CopyObjectResult>`,
  );
}

/** Answers a DeleteObject of the current version: 204, naming the delete marker it added in a versioned bucket. */
export async function respondDelete(
  context: S3Context,
  { req, res, bucket, key }: ObjectRequest,
): Promise<void> {
  const body = await readBody(req, MAX_POST_BYTES);
  await signedCaller(context, req, body, 's3:DeleteObject', `arn:aws:s3:::${bucket.name}/${key}`);
  const marker = context.store.delete(bucket.name, key);
  res.writeHead(204, {
    ...(marker && { 'x-amz-delete-marker': 'true', 'x-amz-version-id': marker.versionId }),
  });
  res.end();
}
