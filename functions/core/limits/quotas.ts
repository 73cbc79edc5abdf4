import { RateLimited, TooManyConnections } from '#core/errors';
import type { Clock } from '#platform/clock';
import { limitOwner } from './guard';

export { limitOwner };

import type { SendRate } from '#core/ports';

/**
 * What one owner may start per window, so what it can make the service store is bounded (docs/SECURITY.md, "Limits
 * per source"): handshakes (each keeps a session record for SessionRetentionDays) and rooms (each kept RoomIdleDays).
 *
 * The owner of a limit is the signed-in user where there is sign-in, and the source (IPv4 address or IPv6 /64)
 * only without it: people behind one NAT address are then never limited by what someone else there does.
 */

/** Per-owner token buckets (the Limits table on AWS), kept as the time each is full again, as the lobby's. */
export interface QuotaStore {
  /** Takes one token from `bucket` if it has one left, atomically; false when it is empty (taking nothing). */
  take(bucket: string, nowMs: number, intervalMs: number, limit: number): Promise<boolean>;
}

export interface QuotaDeps {
  store: QuotaStore;
  /** Absent or a limit of 0 = not limited. */
  rate?: SendRate;
  now: Clock;
}

/** Handshakes per owner are counted over 10 minutes: a class that connects at once fits in one bucket. */
export const CONNECT_WINDOW_SECONDS = 600;
/** Rooms per owner are counted over an hour. */
export const ROOM_WINDOW_SECONDS = 3600;

async function take(deps: QuotaDeps, bucket: string): Promise<boolean> {
  const { rate } = deps;
  if (!rate || rate.limit <= 0) return true;
  const intervalMs = (rate.windowSeconds * 1000) / rate.limit;
  return deps.store.take(bucket, deps.now().getTime(), intervalMs, rate.limit);
}

/** Counts a handshake of `owner`, or throws TooManyConnections (429 at the handshake, nothing stored). */
export async function admitConnect(deps: QuotaDeps, owner: string): Promise<void> {
  if (await take(deps, `connect#${owner}`)) return;
  const minutes = Math.round((deps.rate?.windowSeconds ?? 0) / 60);
  throw new TooManyConnections(
    deps.rate?.limit ?? 0,
    `Too many new connections from you (at most ${deps.rate?.limit} in ${minutes} minutes). Wait a minute and reconnect.`,
  );
}

/** Counts a room created by `owner`, or throws RateLimited. */
export async function admitRoom(deps: QuotaDeps, owner: string): Promise<void> {
  if (await take(deps, `room#${owner}`)) return;
  const hours = Math.round((deps.rate?.windowSeconds ?? 0) / 3600);
  throw new RateLimited(
    `You can create ${deps.rate?.limit} rooms every ${hours === 1 ? 'hour' : `${hours} hours`}. Use a room you have, or try later.`,
  );
}
