import { RateLimited } from '#core/errors';
import type { SendRate } from '#core/ports';
import type { Clock } from '#platform/clock';

/**
 * Budgets of a person across every connection it holds (docs/SECURITY.md, "Limits per person"): the signed-in user,
 * else the source address (limitOwner, quotas.ts), as the connection cap counts. A connection's own limits (its frame
 * count, its send and reaction buckets) stay as the guard against one socket's flood; these stop ten sockets of one
 * person from having ten times a person's budget.
 *
 * Each is a token bucket in the Limits table (`rate#<kind>#<owner>`, DynamoGuardStore.take: one conditional
 * UpdateItem, a refused take takes nothing), taken beside the connection's own bucket, so it adds a write but no round
 * trip. Going past it is `RATE_LIMITED` with no strike: the refusal may be another of the person's connections' doing,
 * and a connection is closed only for its own frames (guard.ts).
 */
type PersonRateKind = 'send' | 'react' | 'read' | 'search' | 'people' | 'profile';

export type PersonRates = Partial<Record<PersonRateKind, SendRate>>;

/** The person buckets' store (the Limits table: DynamoGuardStore). */
export interface PersonBucketStore {
  /**
   * Takes one token from `bucket` if it has one left, atomically (a refused take takes nothing), and tells the ms
   * from `nowMs` until a take can succeed as its write saw the bucket, after its own take (0: a token left). From
   * the item the write returns: no read.
   */
  takeOrWait(
    bucket: string,
    nowMs: number,
    intervalMs: number,
    limit: number,
  ): Promise<{ taken: boolean; waitMs: number }>;
}

export interface PersonGate {
  store: PersonBucketStore;
  /** The rates in force (runtime settings, read on every call); a kind absent or of limit 0 is not limited. */
  rates(): PersonRates;
  now: Clock;
}

const WHAT: Record<PersonRateKind, string> = {
  send: 'messages and changes',
  react: 'reactions',
  read: 'read marks',
  search: 'searches',
  people: 'people searches',
  profile: 'profile changes',
};

/** Empty buckets an environment remembers at most: the oldest remembered is forgotten first. */
const EMPTY_KEPT = 1000;

/**
 * The empty buckets an environment has seen, per gate (one per environment: wiring/guard.ts builds it once): bucket
 * and rate -> the epoch ms before which a take of it is refused, from a take of its own that was refused or took the
 * last token. Exact, not a guess: a take succeeds while the bucket's `fullAt` is at most (limit − 1) intervals past
 * now, and `fullAt` only ever moves later (every take, from any environment, spends; nothing gives a person's token
 * back; its TTL is never before it), so a bucket seen empty at t refuses every take before `fullAt − (limit − 1)
 * intervals`, which is t + the wait the store answered. The rate is in the key: a changed setting asks the store.
 */
const emptyUntil = new WeakMap<PersonGate, Map<string, number>>();

/** The person's bucket of `kind` at `rate`, and its memo's key. */
const bucketOf = (kind: PersonRateKind, owner: string) => `rate#${kind}#${owner}`;
const memoKey = (bucket: string, rate: SendRate) => `${bucket}#${rate.limit}/${rate.windowSeconds}`;

function refusal(kind: PersonRateKind, rate: SendRate): RateLimited {
  const intervalMs = (rate.windowSeconds * 1000) / rate.limit;
  const seconds = Math.max(1, Math.ceil(intervalMs / 1000));
  return new RateLimited(
    `You can send ${rate.limit} ${WHAT[kind]} every ${rate.windowSeconds} s from all your connections together. Wait ${seconds} s and try again.`,
    false,
  );
}

/** The rate of `kind` in force for `owner`, undefined when the take is not limited. */
function rateOf(gate: PersonGate | undefined, kind: PersonRateKind, owner: string | undefined) {
  const rate = gate?.rates()[kind];
  return gate && rate && rate.limit > 0 && owner !== undefined ? { gate, rate, owner } : undefined;
}

/**
 * The refusal takePersonToken would throw, when this environment already knows the bucket is empty (emptyUntil):
 * no request. Undefined when the store must be asked.
 */
function knownPersonRefusal(
  gate: PersonGate | undefined,
  kind: PersonRateKind,
  owner: string | undefined,
): RateLimited | undefined {
  const limited = rateOf(gate, kind, owner);
  if (!limited) return undefined;
  const memo = emptyUntil.get(limited.gate);
  const key = memoKey(bucketOf(kind, limited.owner), limited.rate);
  const until = memo?.get(key);
  if (until === undefined) return undefined;
  if (limited.gate.now().getTime() < until) return refusal(kind, limited.rate);
  memo?.delete(key);
  return undefined;
}

/**
 * Before a route's reads: when this environment knows the person's bucket is still empty, takes the connection's own
 * token (`connectionToken`, which a route takes beside the person's, so a token it takes is spent as it would be) and
 * throws the person's refusal whatever the connection's bucket answered: the person's is the refusal known first,
 * and the one that tells the client why all its connections wait.
 */
export async function refuseKnownEmpty(
  gate: PersonGate | undefined,
  kind: PersonRateKind,
  owner: string | undefined,
  connectionToken: () => Promise<unknown>,
): Promise<void> {
  const known = knownPersonRefusal(gate, kind, owner);
  if (!known) return;
  await connectionToken().catch(() => undefined);
  throw known;
}

/** Takes one token of `kind` from the person's bucket, or throws RateLimited (no strike). */
export async function takePersonToken(
  gate: PersonGate | undefined,
  kind: PersonRateKind,
  owner: string | undefined,
): Promise<void> {
  const known = knownPersonRefusal(gate, kind, owner);
  if (known) throw known;
  const limited = rateOf(gate, kind, owner);
  if (!limited) return;
  const { rate } = limited;
  const intervalMs = (rate.windowSeconds * 1000) / rate.limit;
  const bucket = bucketOf(kind, limited.owner);
  const nowMs = limited.gate.now().getTime();
  const { taken, waitMs } = await limited.gate.store.takeOrWait(bucket, nowMs, intervalMs, rate.limit);
  if (waitMs > 0) {
    const memo = emptyUntil.get(limited.gate) ?? new Map<string, number>();
    emptyUntil.set(limited.gate, memo);
    const key = memoKey(bucket, rate);
    memo.delete(key);
    memo.set(key, nowMs + waitMs);
    if (memo.size > EMPTY_KEPT) memo.delete(memo.keys().next().value as string);
  }
  if (!taken) throw refusal(kind, rate);
}
