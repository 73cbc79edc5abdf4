// The local cloud's S3 subset: the buckets of the template, in memory, with what the attachments flow uses and S3's
// own checks of it (docs/PARITY.md, "Local S3"):
// - POST /<bucket>: a browser form upload signed as a presigned POST (SigV4 over the base64 policy): the signature,
//   the policy's expiration, every condition (exact, `eq`, `starts-with`, `content-length-range`), no form field
//   the policy does not name, then the signer's s3:PutObject on the key;
// - GET and HEAD /<bucket>/<key>: query-string SigV4 (a presigned GET: signature, X-Amz-Expires at most a week,
//   expiry) or an Authorization header (the SDK's HeadObject, checked by the local IAM), then s3:GetObject, or
//   s3:GetObjectVersion for a `versionId` (and not s3:GetObject); a missing key is 404 NoSuchKey (a missing version
//   404 NoSuchVersion) only to a caller allowed s3:ListBucket, else 403 AccessDenied;
// - versioning as the bucket's VersioningConfiguration says: with Status Enabled every write (a POST) adds a version
//   under a new id, given in `x-amz-version-id` (POST, GET, HEAD), and the versions before it stay readable by id;
//   without it a write replaces the object, whose version id is "null";
// - the content headers a POST's form sets (Content-Type, Cache-Control, Content-Disposition, Content-Encoding,
//   Expires), stored with the object and sent with each GET and HEAD of it, and a signed GET's or HEAD's
//   `response-*` query parameters, which replace them in that one answer;
// - CORS as the bucket's CorsConfiguration says: preflight OPTIONS and the response headers on matching requests;
// - PUT with `x-amz-copy-source` (the SDK's CopyObject): s3:PutObject on the target and s3:GetObject (a named
//   version: s3:GetObjectVersion) on the source, the source's type and content headers copied (MetadataDirective
//   COPY), a new version of the target; DELETE (DeleteObject): s3:DeleteObject, in a versioned bucket a delete
//   marker as the current version (the key then reads 404, its versions stay readable by id).
// Refusals carry S3's status codes, error codes and messages, as XML. Paths are path-style (`/<bucket>/<key>`).
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalTemplate } from '../infra/template';

/** A bucket's CORS rule, as AWS::S3::Bucket CorsConfiguration.CorsRules declares it. */
export interface CorsRule {
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders?: string[];
  exposedHeaders?: string[];
  maxAge?: number;
}

export interface LocalBucket {
  name: string;
  cors?: CorsRule[];
  /** VersioningConfiguration Status Enabled: each write adds a version, the older ones kept. */
  versioned?: boolean;
}

/** The content headers a POST form sets on the object it stores (S3's POST Object form fields). */
const CONTENT_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'expires'] as const;
/** A GET's or HEAD's query parameters that replace a stored header in that answer (S3's GetObject). */
const RESPONSE_OVERRIDES = {
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
  'response-content-language': 'content-language',
  'response-content-type': 'content-type',
  'response-expires': 'expires',
} as const;

export interface S3Object {
  body: Buffer;
  contentType: string;
  /** Content headers stored with it (CONTENT_HEADERS), by lower-case name. */
  headers?: Record<string, string>;
  lastModified: Date;
  etag: string;
  /** Its version's id: S3's opaque id in a versioned bucket, "null" in one without versioning. */
  versionId: string;
  /** A delete marker (DeleteObject in a versioned bucket): no bytes, and the key reads as absent while it is current. */
  deleteMarker?: true;
}

export interface LocalS3Options {
  region: string;
  buckets: LocalBucket[];
  /** The secret of an access key, undefined for a key nobody holds. */
  secretOf(accessKeyId: string): string | undefined;
  /** May the key's holder do `action` on `resource`? The refusal's message, or undefined when allowed. */
  authorize(accessKeyId: string, action: string, resource: string): Promise<string | undefined>;
  /** Verifies a header-signed request (the SDK's calls) and the caller's policy: the local IAM's checkRequest. */
  checkSigned(
    req: IncomingMessage,
    body: Buffer,
    action: string,
    resource: string,
  ): Promise<{ code: string; message: string; accessKeyId?: string } | { accessKeyId: string }>;
  now?: () => number;
  /**
   * Origins every CORS rule allows besides its own: the local cloud's web pages, which stand in for the hosted web
   * chat (the template's rules name CloudFront's origin, or BroadcastAllowedOrigin).
   */
  localOrigins?: () => string[];
}

/** S3's largest X-Amz-Expires: a week. */
export const MAX_PRESIGN_SECONDS = 604_800;
/** A form POST larger than this is refused before its policy is read (S3's POST limit is 5 GB; this is a dev box). */
const MAX_POST_BYTES = 64 * 1024 * 1024;

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string | number> = {},
  ) {
    super(message);
  }
}

const xmlEscape = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function errorXml(error: S3Error, resource: string, requestId: string): string {
  const extra = Object.entries(error.extra)
    .map(([name, value]) => `<${name}>${xmlEscape(String(value))}</${name}>`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${error.code}</Code><Message>${xmlEscape(error.message)}</Message>${extra}<Resource>${xmlEscape(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
}

const accessDenied = () => new S3Error(403, 'AccessDenied', 'Access Denied');
const signatureMismatch = () =>
  new S3Error(
    403,
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  );
const unknownKey = () =>
  new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');

/** RFC 3986 encoding as SigV4 canonicalizes query names and values: only A-Z a-z 0-9 - _ . ~ stay as they are. */
const uriEncode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function signingKey(secret: string, day: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), 's3'), 'aws4_request');
}

function sameSignature(computed: string, given: string): boolean {
  const a = Buffer.from(computed, 'hex');
  const b = Buffer.from(given, 'hex');
  return /^[0-9a-f]{64}$/.test(given) && a.length === b.length && timingSafeEqual(a, b);
}

/** Epoch ms of an ISO-8601 basic `YYYYMMDDTHHMMSSZ`, undefined when the text is not one. */
function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
}

/** `<key>/<YYYYMMDD>/<region>/s3/aws4_request`, or undefined when malformed. */
function parseCredential(text: string): { accessKeyId: string; day: string; region: string } | undefined {
  const m = /^([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request$/.exec(text);
  return m ? { accessKeyId: m[1] as string, day: m[2] as string, region: m[3] as string } : undefined;
}

/** The CORS rule that allows this origin and method (and requested headers), as S3 picks the first that matches. */
function corsRuleFor(
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

function corsHeaders(rule: CorsRule, origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-methods': rule.allowedMethods.join(', '),
    'access-control-allow-credentials': 'true',
    vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
    ...(rule.exposedHeaders?.length && { 'access-control-expose-headers': rule.exposedHeaders.join(', ') }),
    ...(rule.maxAge !== undefined && { 'access-control-max-age': String(rule.maxAge) }),
  };
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit)
      throw new S3Error(
        400,
        'MaxPostPreDataLengthExceeded',
        'Your POST request fields preceeding the upload file was too large.',
      );
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

type PolicyCondition = Record<string, unknown> | unknown[];

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
  const buckets = new Map(
    // Each key's versions, oldest first; the last is the current one.
    options.buckets.map((b) => [b.name, { ...b, objects: new Map<string, S3Object[]>() }]),
  );
  const current = (bucket: string, key: string) => {
    const latest = buckets.get(bucket)?.objects.get(key)?.at(-1);
    return latest?.deleteMarker ? undefined : latest;
  };
  const rulesOf = (bucket: LocalBucket): CorsRule[] | undefined =>
    bucket.cors?.map((rule) => ({
      ...rule,
      allowedOrigins: [...rule.allowedOrigins, ...(options.localOrigins?.() ?? [])],
    }));

  const store = (
    bucket: string,
    key: string,
    body: Buffer,
    contentType: string,
    headers: Record<string, string> = {},
  ) => {
    const into = buckets.get(bucket);
    const object: S3Object = {
      body,
      contentType,
      headers,
      lastModified: new Date(now()),
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      // S3's version ids are opaque URL-safe strings of 32 characters.
      versionId: into?.versioned ? randomBytes(24).toString('base64url') : 'null',
    };
    if (into) into.objects.set(key, into.versioned ? [...(into.objects.get(key) ?? []), object] : [object]);
    return object;
  };

  /** A presigned POST: signature over the policy, the policy's expiration and conditions, then s3:PutObject. */
  async function postObject(
    bucketName: string,
    req: IncomingMessage,
  ): Promise<{ key: string; object: S3Object }> {
    const contentType = req.headers['content-type'] ?? '';
    if (!/^multipart\/form-data/i.test(contentType))
      throw new S3Error(
        412,
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
        {
          Condition: 'Bucket POST must be of the enclosure-type multipart/form-data',
        },
      );
    const raw = await readBody(req, MAX_POST_BYTES);
    let form: FormData;
    try {
      form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    } catch {
      throw new S3Error(
        400,
        'MalformedPOSTRequest',
        'The body of your POST request is not well-formed multipart/form-data.',
      );
    }
    // Fields after the file are ignored, as S3 ignores them.
    const fields = new Map<string, string>();
    let file: File | undefined;
    for (const [name, value] of form.entries()) {
      if (name.toLowerCase() === 'file') {
        if (typeof value === 'string') file = new File([value], '');
        else file = value;
        break;
      }
      if (typeof value === 'string') fields.set(name.toLowerCase(), value);
    }
    const key = fields.get('key');
    if (key === undefined)
      throw new S3Error(
        400,
        'InvalidArgument',
        "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
        {
          ArgumentName: 'key',
          ArgumentValue: '',
        },
      );
    if (!file)
      throw new S3Error(400, 'InvalidArgument', 'POST requires exactly one file upload per request.', {
        ArgumentName: 'file',
        ArgumentValue: '0',
      });
    const policy = fields.get('policy');
    // Anonymous POSTs would need a bucket policy granting everyone PutObject: none of the template's buckets has one.
    if (policy === undefined) throw accessDenied();
    for (const name of ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature'])
      if (!fields.has(name))
        throw new S3Error(
          400,
          'InvalidArgument',
          `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
          {
            ArgumentName: name,
          },
        );
    if (fields.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256')
      throw new S3Error(400, 'InvalidArgument', 'Unsupported algorithm', { ArgumentName: 'x-amz-algorithm' });
    const credential = parseCredential(fields.get('x-amz-credential') as string);
    if (!credential)
      throw new S3Error(400, 'InvalidArgument', 'Invalid argument.', { ArgumentName: 'x-amz-credential' });
    const secret = options.secretOf(credential.accessKeyId);
    if (secret === undefined) throw unknownKey();
    if (credential.region !== options.region)
      throw new S3Error(
        400,
        'AuthorizationHeaderMalformed',
        `The authorization header is malformed; the region '${credential.region}' is wrong; expecting '${options.region}'`,
        { Region: options.region },
      );
    const computed = hmac(signingKey(secret, credential.day, credential.region), policy).toString('hex');
    if (!sameSignature(computed, fields.get('x-amz-signature') as string)) throw signatureMismatch();

    let document: { expiration?: unknown; conditions?: unknown };
    try {
      document = JSON.parse(Buffer.from(policy, 'base64').toString('utf8'));
    } catch {
      throw new S3Error(400, 'InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.');
    }
    const expiration = typeof document.expiration === 'string' ? Date.parse(document.expiration) : Number.NaN;
    if (Number.isNaN(expiration))
      throw new S3Error(400, 'InvalidPolicyDocument', 'Invalid Policy: Policy missing expiration.');
    if (expiration < now())
      throw new S3Error(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.');
    const conditions = Array.isArray(document.conditions) ? (document.conditions as PolicyCondition[]) : [];

    // Each condition holds over the form (the bucket as the URL names it); each field is named by some condition.
    const values = new Map(fields);
    values.set('bucket', bucketName);
    const covered = new Set<string>(['bucket']);
    const failed = (condition: PolicyCondition) =>
      new S3Error(
        403,
        'AccessDenied',
        `Invalid according to Policy: Policy Condition failed: ${JSON.stringify(condition).replace(/,/g, ', ')}`,
      );
    for (const condition of conditions) {
      if (Array.isArray(condition)) {
        const [op, target, expected] = condition as [string, unknown, unknown];
        if (String(op).toLowerCase() === 'content-length-range') {
          const [min, max] = [Number(target), Number(expected)];
          if (file.size > max)
            throw new S3Error(
              400,
              'EntityTooLarge',
              'Your proposed upload exceeds the maximum allowed size',
              {
                ProposedSize: file.size,
                MaxSizeAllowed: max,
              },
            );
          if (file.size < min)
            throw new S3Error(
              400,
              'EntityTooSmall',
              'Your proposed upload is smaller than the minimum allowed size',
              {
                ProposedSize: file.size,
                MinSizeAllowed: min,
              },
            );
          continue;
        }
        if (typeof target !== 'string' || !target.startsWith('$') || typeof expected !== 'string')
          throw new S3Error(
            400,
            'InvalidPolicyDocument',
            `Invalid Policy: Invalid Condition: ${JSON.stringify(condition)}`,
          );
        const name = target.slice(1).toLowerCase();
        covered.add(name);
        const value = values.get(name) ?? '';
        const holds =
          String(op).toLowerCase() === 'eq'
            ? value === expected
            : String(op).toLowerCase() === 'starts-with'
              ? value.startsWith(expected)
              : undefined;
        if (holds === undefined)
          throw new S3Error(
            400,
            'InvalidPolicyDocument',
            `Invalid Policy: Invalid Condition: ${JSON.stringify(condition)}`,
          );
        if (!holds) throw failed(condition);
      } else if (condition && typeof condition === 'object') {
        for (const [rawName, expected] of Object.entries(condition)) {
          const name = rawName.toLowerCase();
          covered.add(name);
          if ((values.get(name) ?? '') !== expected) throw failed(condition);
        }
      }
    }
    const extra = [...fields.keys()].filter(
      (name) =>
        !covered.has(name) && !['policy', 'x-amz-signature'].includes(name) && !name.startsWith('x-ignore-'),
    );
    if (extra.length > 0)
      throw new S3Error(
        403,
        'AccessDenied',
        `Invalid according to Policy: Extra input fields: ${extra.join(', ')}`,
      );
    const refusal = await options.authorize(
      credential.accessKeyId,
      's3:PutObject',
      `arn:aws:s3:::${bucketName}/${key}`,
    );
    if (refusal !== undefined) throw accessDenied();
    const body = Buffer.from(await file.arrayBuffer());
    const headers = Object.fromEntries(
      CONTENT_HEADERS.flatMap((name) => {
        const value = fields.get(name);
        return value === undefined ? [] : [[name, value] as const];
      }),
    );
    return {
      key,
      object: store(bucketName, key, body, fields.get('content-type') ?? 'binary/octet-stream', headers),
    };
  }

  /** Query-string SigV4 (a presigned URL): the caller's key, or the refusal S3 gives. */
  function presignedCaller(req: IncomingMessage, url: URL): string {
    const q = url.searchParams;
    const required = [
      'X-Amz-Algorithm',
      'X-Amz-Credential',
      'X-Amz-Signature',
      'X-Amz-Date',
      'X-Amz-SignedHeaders',
      'X-Amz-Expires',
    ];
    if (required.some((name) => !q.has(name)))
      throw new S3Error(
        400,
        'AuthorizationQueryParametersError',
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
      );
    if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256')
      throw new S3Error(
        400,
        'AuthorizationQueryParametersError',
        'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
      );
    const expires = Number(q.get('X-Amz-Expires'));
    if (!Number.isInteger(expires) || expires < 0)
      throw new S3Error(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
    if (expires > MAX_PRESIGN_SECONDS)
      throw new S3Error(
        400,
        'AuthorizationQueryParametersError',
        `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGN_SECONDS}`,
      );
    const amzDate = q.get('X-Amz-Date') as string;
    const signedAt = parseAmzDate(amzDate);
    if (signedAt === undefined)
      throw new S3Error(
        400,
        'AuthorizationQueryParametersError',
        "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
      );
    const credential = parseCredential(q.get('X-Amz-Credential') as string);
    if (!credential)
      throw new S3Error(
        400,
        'AuthorizationQueryParametersError',
        'Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
      );
    const secret = options.secretOf(credential.accessKeyId);
    if (secret === undefined) throw unknownKey();
    if (credential.region !== options.region)
      throw new S3Error(
        400,
        'AuthorizationQueryParametersError',
        `Error parsing the X-Amz-Credential parameter; the region '${credential.region}' is wrong; expecting '${options.region}'`,
      );
    // The canonical request of a presigned URL: the path as sent, every query parameter but the signature, the
    // signed headers, and an unsigned payload.
    const signedHeaders = (q.get('X-Amz-SignedHeaders') as string).split(';');
    const query = [...q.entries()]
      .filter(([name]) => name !== 'X-Amz-Signature')
      .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
      .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
      .map(([name, value]) => `${name}=${value}`)
      .join('&');
    const headerLines = signedHeaders.map((name) => {
      const value = req.headers[name];
      return `${name}:${(Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ')}\n`;
    });
    const canonical = [
      req.method,
      url.pathname,
      query,
      headerLines.join(''),
      signedHeaders.join(';'),
      'UNSIGNED-PAYLOAD',
    ].join('\n');
    const scope = `${credential.day}/${credential.region}/s3/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
    const computed = hmac(signingKey(secret, credential.day, credential.region), stringToSign).toString(
      'hex',
    );
    if (!sameSignature(computed, q.get('X-Amz-Signature') as string)) throw signatureMismatch();
    if (signedAt + expires * 1000 < now())
      throw new S3Error(403, 'AccessDenied', 'Request has expired', {
        'X-Amz-Expires': expires,
        Expires: new Date(signedAt + expires * 1000).toISOString(),
        ServerTime: new Date(now()).toISOString(),
      });
    return credential.accessKeyId;
  }

  /** GET or HEAD of one object, signed in the query (presigned) or the Authorization header (the SDK). */
  async function getObject(
    req: IncomingMessage,
    url: URL,
    bucketName: string,
    key: string,
  ): Promise<S3Object> {
    const resource = `arn:aws:s3:::${bucketName}/${key}`;
    // A version named by id is s3:GetObjectVersion's, and s3:GetObject is not needed for it (S3's GetObject).
    const versionId = url.searchParams.get('versionId');
    const action = versionId === null ? 's3:GetObject' : 's3:GetObjectVersion';
    let caller: string;
    if (url.searchParams.has('X-Amz-Signature') || url.searchParams.has('X-Amz-Credential')) {
      caller = presignedCaller(req, url);
      if ((await options.authorize(caller, action, resource)) !== undefined) throw accessDenied();
    } else {
      const checked = await options.checkSigned(req, Buffer.alloc(0), action, resource);
      if ('code' in checked) {
        if (checked.code === 'AccessDeniedException') throw accessDenied();
        if (checked.code === 'UnrecognizedClientException') throw unknownKey();
        if (checked.code === 'MissingAuthenticationTokenException') throw accessDenied();
        throw signatureMismatch();
      }
      caller = checked.accessKeyId;
    }
    const versions = buckets.get(bucketName)?.objects.get(key) ?? [];
    const object = versionId === null ? versions.at(-1) : versions.find((v) => v.versionId === versionId);
    // A delete marker named by id is S3's 405; as the current version, the key reads as missing.
    if (object?.deleteMarker && versionId !== null)
      throw new S3Error(
        405,
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
        {
          Method: req.method ?? 'GET',
          ResourceType: 'DeleteMarker',
        },
      );
    if (object && !object.deleteMarker) return object;
    // Without s3:ListBucket a caller cannot tell a missing key from one it may not read (S3's HeadObject/GetObject).
    if ((await options.authorize(caller, 's3:ListBucket', `arn:aws:s3:::${bucketName}`)) !== undefined)
      throw accessDenied();
    if (versionId !== null && versions.length > 0 && !object)
      throw new S3Error(404, 'NoSuchVersion', 'The specified version does not exist.', {
        Key: key,
        VersionId: versionId,
      });
    throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
  }

  async function serve(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const [, bucketName = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const bucket = buckets.get(bucketName);
    const origin = req.headers.origin;
    const method = req.method ?? 'GET';
    if (!bucket)
      throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', {
        BucketName: bucketName,
      });
    if (method === 'OPTIONS') {
      const requested = req.headers['access-control-request-method'];
      const requestHeaders = String(req.headers['access-control-request-headers'] ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean);
      if (!origin || typeof requested !== 'string')
        throw new S3Error(400, 'BadRequest', 'Insufficient information. Origin request header needed.');
      const rule = corsRuleFor(rulesOf(bucket), origin, requested, requestHeaders);
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
      return;
    }
    const rule = origin ? corsRuleFor(rulesOf(bucket), origin, method) : undefined;
    const cors = rule && origin ? corsHeaders(rule, origin) : {};
    res.setHeader('x-amz-request-id', requestId);
    for (const [name, value] of Object.entries(cors)) res.setHeader(name, value);
    if (method === 'POST' && key === '') {
      const { key: stored, object } = await postObject(bucketName, req);
      const location = `http://${req.headers.host}/${bucketName}/${stored.split('/').map(encodeURIComponent).join('/')}`;
      res.writeHead(204, {
        etag: object.etag,
        location,
        ...(bucket.versioned && { 'x-amz-version-id': object.versionId }),
      });
      res.end();
      return;
    }
    if ((method === 'GET' || method === 'HEAD') && key !== '') {
      const object = await getObject(req, url, bucketName, key);
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
      res.end(method === 'HEAD' ? undefined : object.body);
      return;
    }
    if (method === 'PUT' && key !== '' && req.headers['x-amz-copy-source'] !== undefined) {
      const { object, source } = await copyObject(req, bucketName, key);
      res.writeHead(200, {
        'content-type': 'application/xml',
        ...(bucket.versioned && { 'x-amz-version-id': object.versionId }),
        ...(source.versionId !== 'null' && { 'x-amz-copy-source-version-id': source.versionId }),
      });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<CopyObjectResult><LastModified>${object.lastModified.toISOString()}</LastModified><ETag>${xmlEscape(object.etag)}</ETag></CopyObjectResult>`,
      );
      return;
    }
    if (method === 'DELETE' && key !== '' && !url.searchParams.has('versionId')) {
      const marker = await deleteObject(req, bucketName, key);
      res.writeHead(204, {
        ...(marker && { 'x-amz-delete-marker': 'true', 'x-amz-version-id': marker.versionId }),
      });
      res.end();
      return;
    }
    throw new S3Error(
      501,
      'NotImplemented',
      'A header you provided implies functionality that is not implemented',
    );
  }

  /** A header-signed request's caller, or S3's refusal, for `action` on `resource` (the local IAM's check). */
  async function signedCaller(req: IncomingMessage, body: Buffer, action: string, resource: string) {
    const checked = await options.checkSigned(req, body, action, resource);
    if (!('code' in checked)) return checked.accessKeyId;
    if (checked.code === 'AccessDeniedException' || checked.code === 'MissingAuthenticationTokenException')
      throw accessDenied();
    if (checked.code === 'UnrecognizedClientException') throw unknownKey();
    throw signatureMismatch();
  }

  /** CopyObject: the source (`bucket/key`, optionally `?versionId=`) stored as a new version of the target. */
  async function copyObject(
    req: IncomingMessage,
    bucketName: string,
    key: string,
  ): Promise<{ object: S3Object; source: S3Object }> {
    const body = await readBody(req, MAX_POST_BYTES);
    const caller = await signedCaller(req, body, 's3:PutObject', `arn:aws:s3:::${bucketName}/${key}`);
    const [path = '', query = ''] = String(req.headers['x-amz-copy-source']).replace(/^\//, '').split('?');
    const [fromBucket = '', ...fromParts] = decodeURIComponent(path).split('/');
    const fromKey = fromParts.join('/');
    const fromVersion = new URLSearchParams(query).get('versionId');
    if (!buckets.has(fromBucket) || fromKey === '')
      throw new S3Error(400, 'InvalidArgument', 'Invalid copy source object key', {
        ArgumentName: 'x-amz-copy-source',
      });
    const readAction = fromVersion === null ? 's3:GetObject' : 's3:GetObjectVersion';
    if ((await options.authorize(caller, readAction, `arn:aws:s3:::${fromBucket}/${fromKey}`)) !== undefined)
      throw accessDenied();
    const versions = buckets.get(fromBucket)?.objects.get(fromKey) ?? [];
    const source = fromVersion === null ? versions.at(-1) : versions.find((v) => v.versionId === fromVersion);
    if (!source || source.deleteMarker) {
      if ((await options.authorize(caller, 's3:ListBucket', `arn:aws:s3:::${fromBucket}`)) !== undefined)
        throw accessDenied();
      throw fromVersion === null
        ? new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: fromKey })
        : new S3Error(404, 'NoSuchVersion', 'The specified version does not exist.', {
            Key: fromKey,
            VersionId: fromVersion,
          });
    }
    return { object: store(bucketName, key, source.body, source.contentType, { ...source.headers }), source };
  }

  /** DeleteObject of the current version: a delete marker in a versioned bucket, else the object is gone. */
  async function deleteObject(
    req: IncomingMessage,
    bucketName: string,
    key: string,
  ): Promise<S3Object | undefined> {
    const body = await readBody(req, MAX_POST_BYTES);
    await signedCaller(req, body, 's3:DeleteObject', `arn:aws:s3:::${bucketName}/${key}`);
    const into = buckets.get(bucketName);
    if (!into?.versioned) {
      into?.objects.delete(key);
      return undefined;
    }
    const marker: S3Object = {
      body: Buffer.alloc(0),
      contentType: '',
      lastModified: new Date(now()),
      etag: '',
      versionId: randomBytes(24).toString('base64url'),
      deleteMarker: true,
    };
    into.objects.set(key, [...(into.objects.get(key) ?? []), marker]);
    return marker;
  }

  return {
    handle(req, res) {
      const requestId = randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
      serve(req, res, requestId).catch((thrown: unknown) => {
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
      });
    },
    object: current,
    versions: (bucket, key) => [...(buckets.get(bucket)?.objects.get(key) ?? [])],
    put: (bucket, key, object) => {
      if (!buckets.has(bucket)) throw new Error(`no bucket ${bucket}`);
      return store(bucket, key, object.body, object.contentType, object.headers);
    },
    remove: (bucket, key) => {
      buckets.get(bucket)?.objects.delete(key);
    },
  };
}
