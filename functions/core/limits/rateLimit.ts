import { RateLimited, UnknownConnection } from '#core/errors';
import type { BucketKind, Connection, ConnectionStore, SendBucket, SendRate } from '#core/ports';
import { type Settings, settings } from '#platform/settings';

/** Concurrent sends of one connection that may race for its bucket before the send counts as limited. */
const SAVE_ATTEMPTS = 3;

/**
 * A token bucket: `limit` tokens, refilled continuously at limit/window per second. A send takes one token; with
 * less than one left it is refused and told how long to wait. Pure, so the rule is tested without a table.
 * Exported for tests: the bucket's arithmetic at exact instants, with no store.
 */
export function takeToken(
  bucket: SendBucket | undefined,
  rate: SendRate,
  nowMs: number,
): { allowed: true; next: SendBucket } | { allowed: false; retryAfterMs: number } {
  const perMs = rate.limit / (rate.windowSeconds * 1000);
  const elapsed = bucket ? Math.max(0, nowMs - bucket.at) : Number.POSITIVE_INFINITY;
  const tokens = Math.min(rate.limit, (bucket?.tokens ?? rate.limit) + elapsed * perMs);
  if (tokens >= 1) return { allowed: true, next: { tokens: tokens - 1, at: nowMs } };
  return { allowed: false, retryAfterMs: Math.ceil((1 - tokens) / perMs) };
}

/**
 * Takes a token from the connection's bucket of `kind`, kept on its Connections item and written with a conditional
 * update (optimistic concurrency): two sends racing for the last token cannot both win. Throws RateLimited.
 * Messages (and edits, deletes) take from `sendBucket`: going past it is a strike. Reactions take from their own
 * `reactBucket`, and going past it is no strike: a person clicking reactions quickly must never lose the
 * connection (a flooding script still meets the frame limit, guard.ts).
 */
export async function takeSendToken(
  connections: ConnectionStore,
  connection: Connection,
  rate: SendRate,
  nowMs: number,
  kind: BucketKind = 'send',
): Promise<void> {
  const bucketOf = (c: Connection) => (kind === 'react' ? c.reactBucket : c.sendBucket);
  let current = connection;
  // A lost race means another send of this connection took a token, so retrying always makes progress: allow as
  // many retries as the bucket holds, or pipelined sends well under the limit are refused as "too fast".
  for (let attempt = 0; attempt < Math.max(SAVE_ATTEMPTS, rate.limit + 1); attempt++) {
    const taken = takeToken(bucketOf(current), rate, nowMs);
    if (!taken.allowed) {
      const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
      const what = kind === 'react' ? 'reactions' : 'messages';
      throw new RateLimited(
        `You can send ${rate.limit} ${what} every ${rate.windowSeconds} s. Wait ${seconds} s and try again.`,
        kind !== 'react',
      );
    }
    if (await connections.saveSendBucket(current.connectionId, taken.next, bucketOf(current)?.at, kind))
      return;
    const reread = await connections.get(current.connectionId);
    if (!reread) throw new UnknownConnection();
    current = reread;
  }
  throw new RateLimited(undefined, kind !== 'react');
}

/**
 * The per-connection message rate (SendRateLimit per SendRateWindowSeconds); a limit of 0 = no limit.
 * Exported for tests: config.test.ts reads the rate of a settings document without a route's deploy-time constants.
 */
export function sendRateOf(s: Settings): SendRate | undefined {
  return s.SendRateLimit > 0 ? { limit: s.SendRateLimit, windowSeconds: s.SendRateWindowSeconds } : undefined;
}

/**
 * Takes a message's token (sendmessage, editmessage, deletemessage) at the rate in the settings in force, read here
 * at each message: a change to SendRateLimit in the settings document applies to the next message, no redeploy.
 */
export async function takeMessageToken(
  connections: ConnectionStore,
  connection: Connection,
  nowMs: number,
): Promise<void> {
  const rate = sendRateOf(settings());
  if (rate) await takeSendToken(connections, connection, rate, nowMs);
}
