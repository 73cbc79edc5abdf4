import { sourceOf } from '#core/limits/guard';
import type { Clock } from '#platform/clock';
import type { LobbyPolicy } from '#platform/config';
import { NotAllowed, RateLimited } from './errors';
import type { SendRate } from './ports';

/**
 * The lobby, where every connection starts, under the deployment's LobbyPolicy (docs/SECURITY.md):
 * - `open`: members post there, at most `LobbyPostLimit` posts per `LobbyPostWindowSeconds` from one source (IPv4
 *   address or IPv6 /64) across all its connections, since the lobby reaches everyone who is in no room (0 = no
 *   limit per source);
 * - `broadcasts`: only admin broadcasts reach it; a member's post is refused;
 * - `off`: there is no lobby. A connection is in no room until it joins one (it is kept under the `lobby` id, which
 *   nobody can post to, list or read); `who` and `history` there answer empty, and joining `lobby` is refused.
 */

/** The per-source bucket of lobby posts (the Limits table on AWS). */
export interface LobbyPostStore {
  /**
   * Takes one post from the bucket of `source` (a token bucket kept as the time it is full again, as the join-guess
   * buckets are) if it has one left, atomically however many posts arrive at once; false when it is empty. A refused
   * post takes nothing.
   */
  takeLobbyPost(source: string, nowMs: number, intervalMs: number, limit: number): Promise<boolean>;
}

interface LobbyDeps {
  policy: LobbyPolicy;
  postRate: SendRate;
  store: LobbyPostStore;
  now: Clock;
}

const NO_LOBBY_POST =
  'There is no lobby here: you are in no room. Create a room, or join one with its code or invite link.';
const BROADCASTS_ONLY =
  'The lobby shows announcements only. Create a room, or join one with its code or invite link, to post.';

/** Whether a connection in the lobby is in no room at all (LobbyPolicy=off). */
export const lobbyClosed = (policy: LobbyPolicy) => policy === 'off';

/**
 * Whether the lobby's members are kept from each other (LobbyPolicy=broadcasts and off): where members cannot talk
 * there, a list of everyone connected serves only to harvest names, so `who` and a join of the lobby list the asker
 * alone.
 */
export const lobbyUnlisted = (policy: LobbyPolicy) => policy !== 'open';

/** Lets a post to the lobby through, or throws NotAllowed (the policy) or RateLimited (the source's bucket). */
export async function admitLobbyPost(lobby: LobbyDeps, sourceIp: string | undefined): Promise<void> {
  if (lobby.policy === 'off') throw new NotAllowed(NO_LOBBY_POST);
  if (lobby.policy === 'broadcasts') throw new NotAllowed(BROADCASTS_ONLY);
  const { limit, windowSeconds } = lobby.postRate;
  if (limit === 0) return;
  const intervalMs = (windowSeconds * 1000) / limit;
  if (await lobby.store.takeLobbyPost(sourceOf(sourceIp), lobby.now().getTime(), intervalMs, limit)) return;
  // No strike: other people on the same network may have spent the bucket.
  throw new RateLimited(
    `The lobby takes ${limit} messages every ${windowSeconds} s from your network. Wait, or create a room to talk.`,
    false,
  );
}

/** Joining `lobby` where there is none. */
export function refuseLobbyJoin(policy: LobbyPolicy): void {
  if (lobbyClosed(policy)) throw new NotAllowed(NO_LOBBY_POST);
}
