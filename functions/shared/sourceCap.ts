import type { Clock } from './clock';
import { TooManyConnections } from './errors';
import { sourceOf } from './guard';

/**
 * At most `cap` live connections per source (IPv4 address or IPv6 /64), checked at $connect (docs/SECURITY.md).
 *
 * Each source has one item holding the ids of its live connections, each with the time it was claimed. $connect adds
 * its id only while the item holds fewer than `cap` (one conditional write, so concurrent handshakes never take more
 * than `cap` places); $disconnect removes it. API Gateway does not promise a $disconnect, so a place can outlive its
 * connection: when a source is at its cap, $connect asks the management API (GetConnection) about each id claimed
 * longer ago than a handshake can last, forgets those it answers 410 Gone for, and tries once more. A lost
 * $disconnect thus costs nothing until the source is full, and then one GetConnection per place. The item's TTL is
 * the 2-hour connection cap past its last claim, when every connection it names is closed.
 */

/** A handshake lasts at most the integration timeout (29 s): a place claimed longer ago than this is past it. */
export const HANDSHAKE_MS = 30_000;
/** API Gateway closes every connection after 2 h; the item outlives its last claim by that and a margin. */
const PLACES_TTL_SECONDS = 2 * 3600 + 15 * 60;

export interface SourcePlaceStore {
  /**
   * Adds `connectionId` (claimed at `nowMs`) to the places of `source` if it holds fewer than `cap`, and moves the
   * item's TTL to `expiresAt` (epoch seconds); false when it is full.
   */
  claim(
    source: string,
    connectionId: string,
    nowMs: number,
    cap: number,
    expiresAt: number,
  ): Promise<boolean>;
  /** The places of `source`: connection id -> claimed at (epoch ms). */
  places(source: string): Promise<Record<string, number>>;
  /** Removes these connections' places, if the source has an item. */
  release(source: string, connectionIds: string[]): Promise<void>;
}

export interface SourceCapDeps {
  store: SourcePlaceStore;
  /** Whether API Gateway still has the connection (GetConnection: 410 Gone = false). */
  isOpen(connectionId: string): Promise<boolean>;
  /** 0 = no cap: nothing is stored or checked. */
  cap: number;
  now: Clock;
}

/** Takes a place for a new connection of its source, or throws TooManyConnections. */
export async function claimPlace(
  deps: SourceCapDeps,
  sourceIp: string | undefined,
  connectionId: string,
): Promise<void> {
  if (deps.cap === 0) return;
  const source = sourceOf(sourceIp);
  const nowMs = deps.now().getTime();
  const expiresAt = Math.ceil(nowMs / 1000) + PLACES_TTL_SECONDS;
  if (await deps.store.claim(source, connectionId, nowMs, deps.cap, expiresAt)) return;
  // Full: some places may belong to connections whose $disconnect never ran. Handshakes still under way are left be.
  const settled = Object.entries(await deps.store.places(source)).filter(
    ([, claimedAt]) => claimedAt <= nowMs - HANDSHAKE_MS,
  );
  const open = await Promise.all(settled.map(([id]) => deps.isOpen(id)));
  const gone = settled.filter((_, i) => !open[i]).map(([id]) => id);
  if (gone.length > 0) {
    await deps.store.release(source, gone);
    if (await deps.store.claim(source, connectionId, nowMs, deps.cap, expiresAt)) return;
  }
  throw new TooManyConnections(deps.cap);
}

/** Gives a closed connection's place back. */
export async function releasePlace(
  deps: Pick<SourceCapDeps, 'store' | 'cap'>,
  sourceIp: string | undefined,
  connectionId: string,
): Promise<void> {
  if (deps.cap === 0) return;
  await deps.store.release(sourceOf(sourceIp), [connectionId]);
}
