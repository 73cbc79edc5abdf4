import { TooManyConnections } from '#core/errors';
import type { Clock } from '#platform/clock';

/**
 * At most `cap` live connections per owner (the signed-in user, else the source: limitOwner, quotas.ts), checked at
 * $connect (docs/SECURITY.md).
 *
 * Each source has one item holding the ids of its live connections, each with the time it was claimed (or last found
 * open). $connect adds its id only while the item holds fewer than `cap` (one conditional write, so concurrent
 * handshakes never take more than `cap` places); $disconnect removes it. API Gateway does not promise a $disconnect,
 * so a place can outlive its connection. A refused handshake therefore does a fixed amount of work whatever the
 * source holds: the failed write returns the places, and the handshake looks at one of them, the one longest
 * unchecked past a handshake's length. A place older than a connection can live is given back unasked; otherwise the
 * management API is asked about it (GetConnection): gone, its place is given back and the claim tried once more;
 * open, its time is moved to now, so the next refused handshake asks about another. A source flooding handshakes at
 * its cap thus causes at most one GetConnection per place per 30 s. The item's TTL is the 2-hour connection cap past
 * its last claim, when every connection it names is closed.
 */

/** A handshake lasts at most the integration timeout (29 s): a place claimed longer ago than this is past it. */
const HANDSHAKE_MS = 30_000;
/** API Gateway closes every connection after 2 h: a place not found open for longer is gone without asking. */
const CONNECTION_MAX_MS = 2 * 3600 * 1000;
/** The item outlives its last claim by the connection cap and a margin. */
const PLACES_TTL_SECONDS = 2 * 3600 + 15 * 60;

export interface SourcePlaceStore {
  /**
   * Adds `connectionId` (claimed at `nowMs`) to the places of `source` if it holds fewer than `cap`, and moves the
   * item's TTL to `expiresAt` (epoch seconds); when it is full, the places it holds (connection id -> claimed or
   * last found open at, epoch ms), from the write that failed.
   */
  claim(
    source: string,
    connectionId: string,
    nowMs: number,
    cap: number,
    expiresAt: number,
  ): Promise<{ claimed: true } | { claimed: false; places: Record<string, number> }>;
  /** Moves a place's time from `fromMs` to `toMs`, unless it changed or went meanwhile. */
  touch(source: string, connectionId: string, fromMs: number, toMs: number): Promise<void>;
  /** Removes these connections' places, if the source has an item. */
  release(source: string, connectionIds: string[]): Promise<void>;
}

/** Exported for tests: the port sourceCap.test.ts builds over the local cloud's tables. */
export interface SourceCapDeps {
  store: SourcePlaceStore;
  /** Whether API Gateway still has the connection (GetConnection: 410 Gone = false). */
  isOpen(connectionId: string): Promise<boolean>;
  /** 0 = no cap: nothing is stored or checked. */
  cap: number;
  now: Clock;
}

/** Takes a place for a new connection of its source, or throws TooManyConnections. */
export async function claimPlace(deps: SourceCapDeps, owner: string, connectionId: string): Promise<void> {
  if (deps.cap === 0) return;
  const nowMs = deps.now().getTime();
  const expiresAt = Math.ceil(nowMs / 1000) + PLACES_TTL_SECONDS;
  const first = await deps.store.claim(owner, connectionId, nowMs, deps.cap, expiresAt);
  if (first.claimed) return;
  // Full: some place may belong to a connection whose $disconnect never ran. Handshakes still under way are left be.
  const [oldest] = Object.entries(first.places)
    .filter(([, at]) => at <= nowMs - HANDSHAKE_MS)
    .sort(([, a], [, b]) => a - b);
  if (oldest) {
    const [id, at] = oldest;
    if (at <= nowMs - CONNECTION_MAX_MS || !(await deps.isOpen(id))) {
      await deps.store.release(owner, [id]);
      if ((await deps.store.claim(owner, connectionId, nowMs, deps.cap, expiresAt)).claimed) return;
    } else {
      await deps.store.touch(owner, id, at, nowMs);
    }
  }
  throw new TooManyConnections(
    deps.cap,
    owner.startsWith('user:')
      ? `Too many connections of yours (at most ${deps.cap}). Close one, or try again later.`
      : undefined,
  );
}

/** Gives a closed connection's place back (`owner` as at its claim: limitOwner, quotas.ts). */
export async function releasePlace(
  deps: Pick<SourceCapDeps, 'store' | 'cap'>,
  owner: string,
  connectionId: string,
): Promise<void> {
  if (deps.cap === 0) return;
  await deps.store.release(owner, [connectionId]);
}
