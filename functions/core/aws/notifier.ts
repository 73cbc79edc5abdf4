import { createHash } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import {
  type ApiGatewayManagementApiClient,
  GetConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, ChecksumConstructor, HashConstructor, Provider } from '@smithy/types';
import type { ConnectionInfo, Notifier, PostOutcome } from '#core/ports';

interface SdkError {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Classifies a management-API answer by the error's name or HTTP status, never by a `statusCode` field (SDK v3
 * has none): 410 GoneException means the connection is gone for good; 429 and 5xx are worth another try later.
 * Exported for tests: the SDK command's outcome, which the signed POST must match.
 */
export function classifyPostError(error: unknown): PostOutcome {
  const { name, $metadata } = (error ?? {}) as SdkError;
  const status = $metadata?.httpStatusCode;
  if (name === 'GoneException' || status === 410) return 'gone';
  if (status === 429 || (status !== undefined && status >= 500)) return 'retry';
  if (
    name === 'LimitExceededException' ||
    name === 'ThrottlingException' ||
    name === 'TooManyRequestsException'
  ) {
    return 'retry';
  }
  // No HTTP answer at all (socket reset, timeout): the post may be retried.
  if (status === undefined) return 'retry';
  return 'failed';
}

/** What the signed post needs; by default all of it comes from the SDK client, so both resolve credentials alike. */
interface SignedPostConfig {
  /** The stage's callback URL, `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`. */
  endpoint: string;
  credentials: AwsCredentialIdentity | Provider<AwsCredentialIdentity>;
  region: string | Provider<string>;
  sha256: ChecksumConstructor | HashConstructor;
  /** SigV4 encodes the path once more for every service but S3 (the SDK client's `signingEscapePath`). */
  uriEscapePath?: boolean;
  /** Sockets kept open to the endpoint: at least a chunk, so a chunk's posts never queue for a socket. */
  maxSockets?: number;
}

/**
 * PostToConnection as one SigV4-signed keep-alive HTTP POST (`POST /{stage}/@connections/{id}`, the body is the
 * frame), signed by `@smithy/signature-v4`, the SDK's own signer. It answers exactly what the SDK command answers,
 * through the same classification, without the SDK command's per-post work: the SDK runs its whole middleware
 * stack (serializer, endpoint resolution, retry strategy, deserializer) for every post, and a fan-out posts the
 * same payload to a whole chunk (the CPU per post is the benchmark's to report). Unlike the SDK it does not retry 429/5xx in-process: those ids go back to the
 * state machine as `retryIds`, which retries only them with a growing pause (one retry policy, in one place).
 * Exported for tests: deadline.test.ts holds a post mid-flight to reach the reply margin.
 */
export class SignedPoster {
  private readonly url: URL;
  private readonly signer: SignatureV4;
  private readonly send: typeof httpRequest;
  private readonly agent: HttpAgent;
  private readonly host: string;
  private readonly basePath: string;
  /** The payload's SHA-256, computed once per payload: every post of a chunk carries the same frame. */
  private lastPayload: string | undefined;
  private lastHash = '';
  private lastLength = '0';

  constructor(options: SignedPostConfig) {
    this.url = new URL(options.endpoint);
    const https = this.url.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 256 };
    this.agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.send = https ? httpsRequest : httpRequest;
    this.host = this.url.host;
    this.basePath = this.url.pathname.replace(/\/+$/, '');
    this.signer = new SignatureV4({
      credentials: options.credentials,
      region: options.region,
      service: 'execute-api',
      sha256: options.sha256,
      uriEscapePath: options.uriEscapePath ?? true,
    });
  }

  async post(connectionId: string, payload: string): Promise<PostOutcome> {
    if (payload !== this.lastPayload) {
      this.lastHash = createHash('sha256').update(payload).digest('hex');
      this.lastLength = String(Buffer.byteLength(payload));
      this.lastPayload = payload;
    }
    const path = `${this.basePath}/@connections/${encodePathSegment(connectionId)}`;
    let signed: Awaited<ReturnType<SignatureV4['sign']>>;
    try {
      signed = await this.signer.sign({
        method: 'POST',
        protocol: this.url.protocol,
        hostname: this.url.hostname,
        port: this.url.port ? Number(this.url.port) : undefined,
        path,
        query: {},
        headers: {
          host: this.host,
          // What the SDK sends for PostToConnection's blob body.
          'content-type': 'application/octet-stream',
          'content-length': this.lastLength,
          // A precomputed payload hash is part of SigV4 (the signer uses it instead of hashing the body again).
          'x-amz-content-sha256': this.lastHash,
        },
      });
    } catch {
      // Only unresolvable credentials fail here; the SDK's send classified that (no HTTP answer) as worth a retry.
      return 'retry';
    }
    const headers = signed.headers;
    const outcome = await this.request(path, headers, payload);
    // A kept-alive socket the endpoint closed while it was idle (an environment frozen between invocations
    // outlives the endpoint's idle timeout) fails as soon as it is reused, before any answer: the post never
    // arrived, so it goes once more on a new socket, as Node's documentation of `reusedSocket` advises.
    return outcome === 'stale socket' ? this.request(path, headers, payload).then(noStale) : outcome;
  }

  private request(
    path: string,
    headers: Record<string, string>,
    payload: string,
  ): Promise<PostOutcome | 'stale socket'> {
    return new Promise((resolve) => {
      const req = this.send(
        {
          agent: this.agent,
          protocol: this.url.protocol,
          hostname: this.url.hostname,
          port: this.url.port,
          method: 'POST',
          path,
          headers,
        },
        (res: IncomingMessage) => {
          res.resume();
          res.once('end', () => resolve(outcomeOf(res)));
          res.once('error', () => resolve(outcomeOf(res)));
        },
      );
      // No HTTP answer at all (refused, reset): worth another try, as classifyPostError says for the SDK.
      req.once('error', (error: NodeJS.ErrnoException) =>
        resolve(req.reusedSocket && error.code === 'ECONNRESET' ? 'stale socket' : 'retry'),
      );
      req.end(payload);
    });
  }
}

const noStale = (outcome: PostOutcome | 'stale socket'): PostOutcome =>
  outcome === 'stale socket' ? 'retry' : outcome;

/** The SDK's `extendedEncodeURIComponent`: encodeURIComponent plus !'()*, so the signed path is the SDK's. */
const encodePathSegment = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function outcomeOf(res: IncomingMessage): PostOutcome {
  const status = res.statusCode ?? 0;
  if (status >= 200 && status < 300) return 'delivered';
  // `x-amzn-ErrorType: GoneException:http://...` names the error the SDK would throw.
  const errorType = res.headers['x-amzn-errortype'];
  const name = typeof errorType === 'string' ? errorType.split(':')[0] : undefined;
  return classifyPostError({ name, $metadata: { httpStatusCode: status } });
}

export class ManagementApiNotifier implements Notifier {
  private readonly poster: SignedPoster;

  constructor(
    private readonly client: ApiGatewayManagementApiClient,
    endpoint: string,
  ) {
    this.poster = new SignedPoster({
      endpoint,
      credentials: client.config.credentials,
      region: client.config.region,
      sha256: client.config.sha256,
      uriEscapePath: client.config.signingEscapePath,
    });
  }

  post(connectionId: string, payload: string): Promise<PostOutcome> {
    return this.poster.post(connectionId, payload);
  }

  async info(connectionId: string): Promise<ConnectionInfo | undefined> {
    try {
      const result = await this.client.send(new GetConnectionCommand({ ConnectionId: connectionId }));
      return {
        connectedAt: result.ConnectedAt?.toISOString(),
        lastActiveAt: result.LastActiveAt?.toISOString(),
        sourceIp: result.Identity?.SourceIp,
        userAgent: result.Identity?.UserAgent,
      };
    } catch (error) {
      if (classifyPostError(error) === 'gone') return undefined;
      throw error;
    }
  }
}
