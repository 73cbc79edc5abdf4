/**
 * The send limits of a person in the model (tools/bench/awsModel.ts): the runtime settings `SendRateLimit` per
 * `SendRateWindowSeconds` on each connection (functions/core/limits/rateLimit.ts) and `PersonSendRateLimit` per
 * `PersonRateWindowSeconds` on each person across its connections (functions/core/limits/personRate.ts), their
 * defaults read from the settings schema (functions/platform/settingsSchema.ts, the one source). Each is a token
 * bucket of `limit` tokens refilled at limit ÷ window a second, full at first; the messages function takes both at
 * once (functions/messages/sending.ts readFirst), each spending its own token when it has one, and a send either
 * refuses is `RATE_LIMITED`: the sender's to send again later, never stored. The person's refusal is the one named
 * when both refuse (the person's bucket is the one told first once known empty: personRate.ts refuseKnownEmpty).
 *
 * A sender is one person in one room on `connectionsPerSender` connections (a scenario's `senders`, every member
 * by default); a person sending in two rooms is not modelled (each room's senders are its own people).
 */
import { SETTINGS } from '#platform/settingsSchema';
import { countIn, type QuotaUse, sumSince } from './quotas';

/** One bucket's rate: `limit` sends per `windowSeconds`. */
export interface SenderRate {
  limit: number;
  windowSeconds: number;
}

/** The two send limits; none: that limit off (a setting of 0). */
export interface SendLimits {
  connection?: SenderRate;
  person?: SenderRate;
}

/** The settings that set SendLimits, by the setting's name. */
export const SEND_LIMIT_SETTINGS = [
  'SendRateLimit',
  'SendRateWindowSeconds',
  'PersonSendRateLimit',
  'PersonRateWindowSeconds',
] as const;
export type SendLimitSetting = (typeof SEND_LIMIT_SETTINGS)[number];

/**
 * The limits from the settings' values: the schema's defaults, with `given` over them (each checked against the
 * schema's range, so the model takes no value the settings document would refuse).
 */
export function sendLimitsOf(given: Partial<Record<SendLimitSetting, string>> = {}): SendLimits {
  const value = (name: SendLimitSetting) => {
    const schema = SETTINGS[name];
    const raw = given[name];
    if (raw === undefined) return schema.default;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < schema.min || n > schema.max)
      throw new Error(`${name} must be a whole number from ${schema.min} to ${schema.max}, got "${raw}"`);
    return n;
  };
  const rate = (limit: number, windowSeconds: number) => (limit > 0 ? { limit, windowSeconds } : undefined);
  const connection = rate(value('SendRateLimit'), value('SendRateWindowSeconds'));
  const person = rate(value('PersonSendRateLimit'), value('PersonRateWindowSeconds'));
  return { ...(connection && { connection }), ...(person && { person }) };
}

/**
 * The most a person sends in a chat, sustained: one message a second (a line takes longer to type; a burst of pasted
 * lines is what the limits' buckets of 10 are for). The shipped limits sustain exactly this rate, so they refuse no
 * person. A load whose senders each send more is not a chat of people but a fan-out load (docs/DECISIONS.md, "The
 * product's loads against the shipped limits").
 */
export const PERSON_SENDS_PER_SECOND = 1;

/** Each sender's messages a second in a load: its room's rate over its senders (every member when not given). */
export function sendsPerSender(load: { rate: number; members: number; senders?: number }): number {
  return load.rate / (load.senders ?? load.members);
}

/** Whether a load's senders each send faster than a person does (PERSON_SENDS_PER_SECOND): a fan-out load. */
export function isFanoutLoad(load: { rate: number; members: number; senders?: number }): boolean {
  return sendsPerSender(load) > PERSON_SENDS_PER_SECOND;
}

/** A sender's sustained sends a second under both limits (the lower), or Infinity when neither limits it. */
export function sustainedPerSender(limits: SendLimits | undefined): number {
  const perSecond = (r?: SenderRate) => (r ? r.limit / r.windowSeconds : Number.POSITIVE_INFINITY);
  return Math.min(perSecond(limits?.connection), perSecond(limits?.person));
}

/** `SendRateLimit 10 per 10 s per connection, PersonSendRateLimit 10 per 10 s per person`, or each `off`. */
export function describeSendLimits(limits: SendLimits | undefined): string {
  const one = (name: string, r: SenderRate | undefined, per: string) =>
    r ? `${name} ${r.limit} per ${r.windowSeconds} s per ${per}` : `${name} off`;
  return `${one('SendRateLimit', limits?.connection, 'connection')}, ${one('PersonSendRateLimit', limits?.person, 'person')}`;
}

/** A token bucket as takeToken keeps it (functions/core/limits/rateLimit.ts): tokens left at `at`. */
class SenderBucket {
  private tokens: number;
  private at = 0;
  constructor(private readonly rate: SenderRate) {
    this.tokens = rate.limit;
  }

  /** Refills to `now`, then takes a token if there is one. The tokens left after it, or undefined when refused. */
  take(now: number): number | undefined {
    const perMs = this.rate.limit / (this.rate.windowSeconds * 1000);
    this.tokens = Math.min(this.rate.limit, this.tokens + Math.max(0, now - this.at) * perMs);
    this.at = now;
    if (this.tokens < 1) return undefined;
    this.tokens -= 1;
    return this.tokens;
  }
}

/** One limit's buckets (a connection's or a person's, by key): its refusals and deepest draw-down by second. */
class LimitMeter {
  private readonly buckets = new Map<string, SenderBucket>();
  private readonly refusals = new Map<number, number>();
  /** Per second, the most of a bucket's `limit` taken down (1: a bucket emptied). */
  private readonly drawn = new Map<number, number>();
  constructor(readonly rate: SenderRate) {}

  take(key: string, at: number): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new SenderBucket(this.rate);
      this.buckets.set(key, bucket);
    }
    const second = Math.floor(at / 1000);
    const left = bucket.take(at);
    if (left === undefined) {
      countIn(this.refusals, second);
      return false;
    }
    const drawn = (this.rate.limit - left) / this.rate.limit;
    this.drawn.set(second, Math.max(this.drawn.get(second) ?? 0, drawn));
    return true;
  }

  use(name: string, from: number): QuotaUse {
    let peak = 0;
    for (const [second, d] of this.drawn) if (second >= from) peak = Math.max(peak, d);
    return {
      name,
      limit: this.rate.limit / this.rate.windowSeconds,
      refused: sumSince(this.refusals, from),
      peakUse: Math.round(peak * 100) / 100,
    };
  }
}

/**
 * Write units of one token write: the connection's item (Connections: its ids, name, room and buckets, well under
 * 1 KB) and the person's bucket (Limits: `rate#send#<owner>`, `fullAt` and `ttl`, under 100 bytes) are each under
 * 1 KB, and an UpdateItem costs 1 WCU per KB of the larger of the item before and after it
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html).
 */
export const TOKEN_WRITE_UNITS = 1;

/** A token write of a send's take: the item's key (`connection#…` in Connections, `rate#send#…` in Limits). */
export interface TokenWrite {
  key: string;
  units: number;
}

/** A send's take: the limit that refused it (the person's when both did), and the token writes it made. */
export interface SenderTake {
  refused?: 'person' | 'connection';
  writes: TokenWrite[];
}

/** The quota names a row gives the two limits. */
export const PERSON_LIMIT = 'PersonSendRateLimit (per person)';
export const CONNECTION_LIMIT = 'SendRateLimit (per connection)';

/** Every sender's buckets in a run. */
export class SenderLimits {
  private readonly connection?: LimitMeter;
  private readonly person?: LimitMeter;
  constructor(limits: SendLimits | undefined) {
    if (limits?.connection) this.connection = new LimitMeter(limits.connection);
    if (limits?.person) this.person = new LimitMeter(limits.person);
  }

  /**
   * A send of `person` (a room's sender) on its connection `connection` at `at`: both buckets taken at once, each
   * spending its own token; the limit that refuses (the person's when both do, none when the send passes) and the
   * token writes the take made.
   */
  take(person: string, connection: string, at: number): SenderTake {
    const byConnection = this.connection?.take(connection, at) ?? true;
    const byPerson = this.person?.take(person, at) ?? true;
    return {
      refused: !byPerson ? 'person' : !byConnection ? 'connection' : undefined,
      // The connection's bucket is written only when it had a token: takeToken refuses before saveSendBucket. The
      // person's conditional UpdateItem (DynamoGuardStore.takeOrWait) is written whether it takes or not: a write
      // whose condition fails consumes write units as one that succeeds.
      writes: [
        ...(this.connection && byConnection
          ? [{ key: `connection#${connection}`, units: TOKEN_WRITE_UNITS }]
          : []),
        ...(this.person ? [{ key: `rate#send#${person}`, units: TOKEN_WRITE_UNITS }] : []),
      ],
    };
  }

  /** Each limit in force as a quota of the run, from second `from` on. */
  uses(from: number): QuotaUse[] {
    return [
      ...(this.person ? [this.person.use(PERSON_LIMIT, from)] : []),
      ...(this.connection ? [this.connection.use(CONNECTION_LIMIT, from)] : []),
    ];
  }
}
