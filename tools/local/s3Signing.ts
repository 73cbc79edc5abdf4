// SigV4 as the local S3 checks it: the signing key, a POST policy's signature, and a presigned URL's query-string
// signature with S3's own refusals of each part, in the order S3 checks them.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { S3Error, signatureMismatch, unknownKey } from './s3Errors';

/** S3's largest X-Amz-Expires: a week. */
export const MAX_PRESIGN_SECONDS = 604_800;

/** What a signature check needs of the local S3: its region, the keys' secrets and its clock. */
export interface Signers {
  region: string;
  /** The secret of an access key, undefined for a key nobody holds. */
  secretOf(accessKeyId: string): string | undefined;
  now: () => number;
}

/** A credential scope: `<key>/<YYYYMMDD>/<region>/s3/aws4_request`, read. */
export interface Credential {
  accessKeyId: string;
  day: string;
  region: string;
}

/** RFC 3986 encoding as SigV4 canonicalizes query names and values: only A-Z a-z 0-9 - _ . ~ stay as they are. */
const uriEncode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

export function signingKey(secret: string, day: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), 's3'), 'aws4_request');
}

export function sameSignature(computed: string, given: string): boolean {
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
export function parseCredential(text: string): Credential | undefined {
  const m = /^([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request$/.exec(text);
  return m ? { accessKeyId: m[1] as string, day: m[2] as string, region: m[3] as string } : undefined;
}

const queryError = (message: string) => new S3Error(400, 'AuthorizationQueryParametersError', message);

/** A presigned URL's SigV4 parameters, read, or S3's refusal of the first that is missing or malformed. */
function presignParams(q: URLSearchParams): {
  expires: number;
  amzDate: string;
  signedAt: number;
  credential: Credential;
} {
  const required = [
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-Signature',
    'X-Amz-Date',
    'X-Amz-SignedHeaders',
    'X-Amz-Expires',
  ];
  if (required.some((name) => !q.has(name)))
    throw queryError(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256')
    throw queryError('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  const expires = Number(q.get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires < 0) throw queryError('X-Amz-Expires should be a number');
  if (expires > MAX_PRESIGN_SECONDS)
    throw queryError(`X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGN_SECONDS}`);
  const amzDate = q.get('X-Amz-Date') as string;
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined)
    throw queryError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  const credential = parseCredential(q.get('X-Amz-Credential') as string);
  if (!credential)
    throw queryError(
      'Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    );
  return { expires, amzDate, signedAt, credential };
}

/**
 * The signature of a presigned request: over its canonical request, which is the path as sent, every query
 * parameter but the signature, the signed headers, and an unsigned payload.
 */
function presignedSignature(
  req: IncomingMessage,
  url: URL,
  amzDate: string,
  credential: Credential,
  secret: string,
): string {
  const q = url.searchParams;
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
  return hmac(signingKey(secret, credential.day, credential.region), stringToSign).toString('hex');
}

/** Query-string SigV4 (a presigned URL): the caller's key, or the refusal S3 gives. */
export function presignedCaller(signers: Signers, req: IncomingMessage, url: URL): string {
  const { expires, amzDate, signedAt, credential } = presignParams(url.searchParams);
  const secret = signers.secretOf(credential.accessKeyId);
  if (secret === undefined) throw unknownKey();
  if (credential.region !== signers.region)
    throw queryError(
      `Error parsing the X-Amz-Credential parameter; the region '${credential.region}' is wrong; expecting '${signers.region}'`,
    );
  const computed = presignedSignature(req, url, amzDate, credential, secret);
  if (!sameSignature(computed, url.searchParams.get('X-Amz-Signature') as string)) throw signatureMismatch();
  const now = signers.now();
  if (signedAt + expires * 1000 < now)
    throw new S3Error(403, 'AccessDenied', 'Request has expired', {
      'X-Amz-Expires': expires,
      Expires: new Date(signedAt + expires * 1000).toISOString(),
      ServerTime: new Date(now).toISOString(),
    });
  return credential.accessKeyId;
}
