// SigV4 verification for the local cloud's services: the request is signed again with the caller's secret by
// @smithy/signature-v4 (the signer every AWS SDK for JavaScript v3 client uses) and the two signatures compared.
import {
  createHash,
  createHmac,
  createSecretKey,
  type Hash,
  type Hmac,
  hash,
  type KeyObject,
  timingSafeEqual,
} from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { getCanonicalHeaders, getSigningKey, SignatureV4Base } from '@smithy/signature-v4';

/** What verification needs of an HTTP request; an IncomingMessage fits. */
export interface SignedRequest {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
}

/** Why a request is refused before any policy is read, with the error name and message AWS uses for it. */
export interface SignatureFailure {
  code:
    | 'MissingAuthenticationTokenException'
    | 'IncompleteSignatureException'
    | 'UnrecognizedClientException'
    | 'InvalidSignatureException';
  message: string;
}

export type Verified = { accessKeyId: string } | { failure: SignatureFailure };

/** AWS refuses a signature more than 15 minutes away from its clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 +Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, *SignedHeaders=([a-z0-9;._-]+), *Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** What the signer hashes with (@smithy/types SourceData). */
type SourceData = string | ArrayBuffer | ArrayBufferView;

/** node:crypto behind the Checksum interface the signer hashes with. */
export class NodeSha256 {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = NodeSha256.create(secret);
  }

  private static create(secret?: SourceData): Hash | Hmac {
    if (secret === undefined) return createHash('sha256');
    const key =
      typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)
          : Buffer.from(secret);
    return createHmac('sha256', key);
  }

  update(data: Uint8Array): void {
    this.hash.update(data);
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }

  reset(): void {
    this.hash = NodeSha256.create(this.secret);
  }
}

/** The SDK signer's canonical-request builder on its own: credentials are never read from it. */
class CanonicalRequests extends SignatureV4Base {
  constructor(region: string, service: string) {
    super({ credentials: { accessKeyId: '', secretAccessKey: '' }, region, service, sha256: NodeSha256 });
  }

  of(...args: Parameters<SignatureV4Base['createCanonicalRequest']>): string {
    return this.createCanonicalRequest(...args);
  }
}

const failure = (code: SignatureFailure['code'], message: string): Verified => ({
  failure: { code, message },
});

const INCOMPLETE = (authorization: string) =>
  failure(
    'IncompleteSignatureException',
    `Authorization header requires 'Credential', 'Signature', 'SignedHeaders' and an 'X-Amz-Date' header. Authorization=${authorization}`,
  );

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * SHA-256 in hex, one shot where Node has crypto.hash (20.12+, 21.7+): no Hash object per call, and a fan-out
 * verifies thousands of posts a second.
 */
const sha256Hex: (data: string | Uint8Array) => string =
  typeof hash === 'function'
    ? (data) => hash('sha256', data, 'hex')
    : (data) => createHash('sha256').update(data).digest('hex');

/** The last X-Amz-Date seen and its time: the posts of one fan-out are signed within the same second or two. */
let lastAmzDate: { text: string; ms: number } | undefined;

/** Epoch ms of an ISO-8601 basic `YYYYMMDDTHHMMSSZ`, undefined when the text is not one. */
function parseAmzDate(text: string): number | undefined {
  if (lastAmzDate?.text === text) return lastAmzDate.ms;
  const m = AMZ_DATE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const ms = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
  lastAmzDate = { text, ms };
  return ms;
}

/**
 * Verifies the `Authorization: AWS4-HMAC-SHA256 ...` header of a request to `service` in `region`: the key must be
 * known (`secretOf`), the scope must name this region and service, the time must be within 15 minutes, and the
 * signature over the signed headers, path, query and body must be the one the secret produces.
 */
export class SigV4Verifier {
  /** The derived signing key of each access key and day (AWS4 key derivation, by @smithy/signature-v4). */
  private readonly signingKeys = new Map<string, { secret: string; key: KeyObject }>();
  private readonly canonical: CanonicalRequests;

  constructor(
    private readonly region: string,
    private readonly service: string,
    private readonly secretOf: (accessKeyId: string) => string | undefined,
  ) {
    this.canonical = new CanonicalRequests(region, service);
  }

  async verify(req: SignedRequest, body: Uint8Array, now = Date.now()): Promise<Verified> {
    const authorization = headerValue(req.headers, 'authorization');
    if (authorization === undefined || authorization === '') {
      return failure('MissingAuthenticationTokenException', 'Request is missing Authentication Token');
    }
    const parts = AUTHORIZATION.exec(authorization.trim());
    const amzDate = headerValue(req.headers, 'x-amz-date');
    const signedAt = amzDate === undefined ? undefined : parseAmzDate(amzDate);
    if (!parts || signedAt === undefined) return INCOMPLETE(authorization);
    const [, accessKeyId, scopeDate, scopeRegion, scopeService, signedHeaderList, signature] =
      parts as string[];
    const secret = this.secretOf(accessKeyId as string);
    if (secret === undefined) {
      return failure('UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    if (scopeRegion !== this.region) {
      return failure('InvalidSignatureException', 'Credential should be scoped to a valid region.');
    }
    if (scopeService !== this.service) {
      return failure(
        'InvalidSignatureException',
        `Credential should be scoped to correct service: '${this.service}'.`,
      );
    }
    if (scopeDate !== amzDate?.slice(0, 8)) {
      return failure(
        'InvalidSignatureException',
        'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.',
      );
    }
    if (Math.abs(now - signedAt) > MAX_SKEW_MS) {
      return failure(
        'InvalidSignatureException',
        `Signature expired: ${amzDate} is now earlier than ${new Date(now - MAX_SKEW_MS).toISOString().replace(/[-:]|\.\d{3}/g, '')} (${new Date(now).toISOString().replace(/[-:]|\.\d{3}/g, '')} - 15 min.)`,
      );
    }

    const signedHeaders = (signedHeaderList as string).split(';');
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
      const value = headerValue(req.headers, name);
      if (value === undefined) return this.mismatch();
      headers[name] = value;
    }
    // A declared payload hash must be the body's: otherwise the signature would cover a body never sent.
    const declaredHash = headers['x-amz-content-sha256'];
    if (declaredHash !== undefined && declaredHash !== sha256Hex(body)) {
      return failure(
        'InvalidSignatureException',
        'The provided x-amz-content-sha256 header does not match what was computed.',
      );
    }
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const query: Record<string, string | string[]> = {};
    if (queryAt >= 0) {
      for (const [key, value] of new URLSearchParams(url.slice(queryAt + 1))) {
        const seen = query[key];
        query[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
      }
    }
    const request = {
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: headers.host ?? '',
      path: queryAt >= 0 ? url.slice(0, queryAt) : url,
      query,
      headers,
    };
    // The canonical request is @smithy/signature-v4's (the SDK's own canonicalization); the hashing around it is
    // node:crypto, synchronous, with the day's signing key cached: a fan-out verifies a thousand posts.
    const canonical = this.canonical.of(
      request,
      getCanonicalHeaders(request, undefined, new Set(signedHeaders)),
      declaredHash ?? sha256Hex(body),
    );
    const scope = `${scopeDate}/${this.region}/${this.service}/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
    const key = this.signingKeys.get(`${accessKeyId}/${scopeDate}`);
    const signingKey =
      key?.secret === secret
        ? key.key
        : await this.signingKey(accessKeyId as string, secret, scopeDate as string);
    const computed = createHmac('sha256', signingKey).update(stringToSign).digest();
    const same = computed.length === 32 && timingSafeEqual(computed, Buffer.from(signature as string, 'hex'));
    return same ? { accessKeyId: accessKeyId as string } : this.mismatch();
  }

  private mismatch(): Verified {
    return failure(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }

  /** Derives (and keeps) the day's signing key as a KeyObject, so no HMAC copies it again. */
  private async signingKey(accessKeyId: string, secretAccessKey: string, day: string): Promise<KeyObject> {
    const derived = await getSigningKey(
      NodeSha256,
      { accessKeyId, secretAccessKey },
      day,
      this.region,
      this.service,
    );
    const key = createSecretKey(derived);
    this.signingKeys.set(`${accessKeyId}/${day}`, { secret: secretAccessKey, key });
    return key;
  }
}
