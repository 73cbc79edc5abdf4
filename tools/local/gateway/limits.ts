/**
 * The per-frame size limit, the account's throttle and route throttling of an API Gateway WebSocket stage. All are
 * the gateway's own refusals: they happen before (and instead of) any integration.
 */

import { AWS } from '../awsProfile';

/**
 * Follows the frame headers of one client's byte stream to find a data frame over the limit, which `ws` cannot
 * tell (its `maxPayload` bounds whole messages). Client frames are masked; the header is 2 bytes, then 2 or 8 bytes
 * of extended length, then the 4-byte mask. The payload is skipped without being read.
 */
export class FrameSizeGuard {
  private readonly header = Buffer.alloc(14);
  private have = 0;
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** False as soon as a data frame (text, binary or continuation) declares more than the limit. */
  feed(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, chunk.length - i);
        this.remaining -= skip;
        i += skip;
        continue;
      }
      this.header[this.have++] = chunk[i++] as number;
      if (this.have < 2) continue;
      const second = this.header[1] as number;
      const short = second & 0x7f;
      const need = 2 + (short === 126 ? 2 : short === 127 ? 8 : 0) + (second & 0x80 ? 4 : 0);
      if (this.have < need) continue;
      const length =
        short === 126
          ? this.header.readUInt16BE(2)
          : short === 127
            ? this.header.readUInt32BE(2) * 2 ** 32 + this.header.readUInt32BE(6)
            : short;
      this.have = 0;
      const opcode = (this.header[0] as number) & 0x0f;
      if (opcode < 0x08 && length > this.maxFrameBytes) return false;
      this.remaining = length;
    }
    return true;
  }
}

export interface ThrottleSettings {
  /** Steady-state requests per second. */
  rateLimit: number;
  /** Bucket size: the requests allowed at once after a quiet period. */
  burstLimit: number;
}

export interface StageThrottling {
  /** DefaultRouteSettings of the stage. */
  defaults?: ThrottleSettings;
  /** RouteSettings by route key; a missing value falls back to the default. */
  routes?: Record<string, Partial<ThrottleSettings>>;
}

/** API Gateway's token bucket: `burstLimit` tokens, refilled at `rateLimit` per second, one per request. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly settings: ThrottleSettings,
    now: number,
  ) {
    this.tokens = settings.burstLimit;
    this.last = now;
  }

  take(now: number): boolean {
    const { rateLimit, burstLimit } = this.settings;
    this.tokens = Math.min(burstLimit, this.tokens + ((now - this.last) * rateLimit) / 1000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * The account's bucket, shared by every route's requests, every handshake and every `@connections` call: API
 * Gateway throttles an account and Region at AWS.quotas.apiGatewayRequestsPerSecond with a burst of
 * AWS.quotas.apiGatewayBurst, across its APIs (one stage here stands for the account).
 */
export function accountBucket(
  now: number,
  settings: ThrottleSettings = {
    rateLimit: AWS.quotas.apiGatewayRequestsPerSecond.value,
    burstLimit: AWS.quotas.apiGatewayBurst.value,
  },
): TokenBucket {
  return new TokenBucket(settings, now);
}

/** One bucket per route that has limits (its own RouteSettings, else the stage's defaults). */
export function routeBuckets(
  routeKeys: readonly string[],
  throttling: StageThrottling | undefined,
  now: number,
): Map<string, TokenBucket> {
  const buckets = new Map<string, TokenBucket>();
  for (const routeKey of routeKeys) {
    const own = throttling?.routes?.[routeKey];
    const rateLimit = own?.rateLimit ?? throttling?.defaults?.rateLimit;
    const burstLimit = own?.burstLimit ?? throttling?.defaults?.burstLimit;
    if (rateLimit !== undefined && burstLimit !== undefined) {
      buckets.set(routeKey, new TokenBucket({ rateLimit, burstLimit }, now));
    }
  }
  return buckets;
}
