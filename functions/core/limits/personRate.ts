import { RateLimited } from '#core/errors';
import type { SendRate } from '#core/ports';
import type { Clock } from '#platform/clock';
import type { QuotaStore } from './quotas';

/**
 * Budgets of a person across every connection it holds (docs/SECURITY.md, "Limits per person"): the signed-in user,
 * else the source address (limitOwner, quotas.ts), as the connection cap counts. A connection's own limits (its frame
 * count, its send and reaction buckets) stay as the guard against one socket's flood; these stop ten sockets of one
 * person from having ten times a person's budget.
 *
 * Each is a token bucket in the Limits table (`rate#<kind>#<owner>`, QuotaStore.take: one conditional UpdateItem, a
 * refused take takes nothing), taken beside the connection's own bucket, so it adds a write but no round trip.
 * Going past it is `RATE_LIMITED` with no strike: the refusal may be another of the person's connections' doing, and a
 * connection is closed only for its own frames (guard.ts).
 */
type PersonRateKind = 'send' | 'react' | 'read' | 'search';

export type PersonRates = Partial<Record<PersonRateKind, SendRate>>;

export interface PersonGate {
  store: QuotaStore;
  /** The rates in force (runtime settings, read on every call); a kind absent or of limit 0 is not limited. */
  rates(): PersonRates;
  now: Clock;
}

const WHAT: Record<PersonRateKind, string> = {
  send: 'messages and changes',
  react: 'reactions',
  read: 'read marks',
  search: 'searches',
};

/** Takes one token of `kind` from the person's bucket, or throws RateLimited (no strike). */
export async function takePersonToken(
  gate: PersonGate | undefined,
  kind: PersonRateKind,
  owner: string | undefined,
): Promise<void> {
  const rate = gate?.rates()[kind];
  if (!gate || !rate || rate.limit <= 0 || owner === undefined) return;
  const intervalMs = (rate.windowSeconds * 1000) / rate.limit;
  if (await gate.store.take(`rate#${kind}#${owner}`, gate.now().getTime(), intervalMs, rate.limit)) return;
  const seconds = Math.max(1, Math.ceil(intervalMs / 1000));
  throw new RateLimited(
    `You can send ${rate.limit} ${WHAT[kind]} every ${rate.windowSeconds} s from all your connections together. Wait ${seconds} s and try again.`,
    false,
  );
}
