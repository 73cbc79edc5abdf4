// Per-partition-key throughput of the local DynamoDB: every write and read is charged to its table's partition key
// value (and a write to the partition key value of each global secondary index the item is in), and a key past
// DynamoDB's per-partition ceiling (1,000 WCU/s, 3,000 RCU/s) is refused as DynamoDB refuses it
// (docs/PARITY.md, "Per-partition-key throughput"). One partition holds at least one partition key value, and a
// single value cannot be split across partitions, so these are the limits a hot key meets on AWS whatever the table's
// size or capacity mode.
//
// The limit is a sliding one-second window kept as ten 100 ms slots per key: a key is admitted while what it used in
// the last second plus this request's units stays within the limit. No unused capacity is carried over, because
// DynamoDB's burst capacity does not lift partition-level throttling.

export const KEY_WCU_PER_SECOND = 1000;
export const KEY_RCU_PER_SECOND = 3000;

const SLOTS = 10;
const SLOT_MS = 100;
/** Keys idle this long are forgotten (their counts too), so a long `npm start` does not grow without bound. */
const FORGET_IDLE_MS = 5 * 60_000;
const SWEEP_EVERY_MS = 30_000;

type Attr = Record<string, unknown>;
export type Item = Record<string, Attr>;

/** The part of dynalite's table description the accounting reads. */
export interface KeyedTable {
  TableName: string;
  KeySchema: { AttributeName: string; KeyType?: string }[];
  GlobalSecondaryIndexes?: {
    IndexName: string;
    KeySchema: { AttributeName: string; KeyType?: string }[];
    Projection?: { ProjectionType?: string; NonKeyAttributes?: string[] };
  }[];
}

/** Counts of one partition key value (of a table, or of one of its global secondary indexes). */
export interface KeyStat {
  table: string;
  /** The global secondary index, when the key is an index's partition key. */
  index?: string;
  /** The partition key value, e.g. `S:room-1` or `N:42`. */
  key: string;
  /** Item writes admitted (an index entry written or removed counts as one). */
  writes: number;
  wcu: number;
  /** Most item writes admitted within any one second (sliding, 100 ms steps). */
  peakWritesPerSecond: number;
  /** Writes refused because this key was over its limit. */
  throttledWrites: number;
  reads: number;
  rcu: number;
  throttledReads: number;
}

/** Why a request was refused: DynamoDB's `ThrottlingReason` (reason and the ARN of the table or index). */
export interface Throttle {
  reason: string;
  resource: string;
}

/** One charge: a table's or index's partition key value and the units it costs. */
export interface Charge {
  table: string;
  index?: string;
  key: string;
  units: number;
}

interface KeyState {
  /** Slots of WCU, RCU and admitted writes: [0, SLOTS), [SLOTS, 2 SLOTS), [2 SLOTS, 3 SLOTS). */
  slots: Float64Array;
  /** Absolute index (ms / SLOT_MS) of the newest slot. */
  at: number;
  stat: KeyStat;
}

export interface KeyThroughput {
  /** Limits in force: DynamoDB's times the scale. */
  readonly wcuPerSecond: number;
  readonly rcuPerSecond: number;
  /**
   * Charges writes, all or none: when any key would pass its limit, nothing is charged and the index (in `charges`)
   * of each refused one is returned with its reason; else an empty list.
   */
  chargeWrites(charges: Charge[]): { at: number; throttle: Throttle }[];
  /** Charges reads, all or none, as chargeWrites. */
  chargeReads(charges: Charge[]): { at: number; throttle: Throttle }[];
  /** The charges of writing `item` over `old` (null: absent) in `table`; `transactional` costs double. */
  writeCharges(
    table: KeyedTable,
    old: Item | null | undefined,
    item: Item | null,
    transactional: boolean,
  ): Charge[];
  /** The busiest keys by writes since the last reset, at most `top` (default all), optionally of one table. */
  stats(options?: { top?: number; table?: string }): KeyStat[];
  /** Forgets every count (the limits' windows too). */
  reset(): void;
}

/** `S:value`, `N:42`, `B:base64`: the partition key value as a map key and as tests read it. */
export function keyValue(attr: Attr | undefined): string | undefined {
  if (!attr) return undefined;
  for (const type in attr) return `${type}:${String(attr[type])}`;
  return undefined;
}

/** DynamoDB's item size: attribute names plus values (dynalite's rule), here as WCU or RCU units. */
export function itemBytes(item: Item | null | undefined, size: (item: Item) => number): number {
  return item ? size(item) : 0;
}

const hashKeyOf = (schema: { AttributeName: string; KeyType?: string }[]) =>
  (schema.find((k) => k.KeyType === 'HASH') ?? schema[0])?.AttributeName;

export function createKeyThroughput(opts: {
  scale?: number;
  region: string;
  accountId: string;
  /** dynalite's item size in bytes. */
  itemSize: (item: Item) => number;
  now?: () => number;
}): KeyThroughput {
  const scale = opts.scale ?? 1;
  if (!(scale > 0 && scale <= 1)) throw new Error(`dynamoKeyLimitScale must be within (0, 1], got ${scale}`);
  const now = opts.now ?? Date.now;
  const wcuPerSecond = KEY_WCU_PER_SECOND * scale;
  const rcuPerSecond = KEY_RCU_PER_SECOND * scale;
  const keys = new Map<string, KeyState>();
  let lastSweep = now();
  const arn = (table: string, index?: string) =>
    `arn:aws:dynamodb:${opts.region}:${opts.accountId}:table/${table}${index ? `/index/${index}` : ''}`;

  /** The key's state with its window moved up to `slot`: slots older than a second are emptied. */
  const stateOf = (charge: Charge, slot: number): KeyState => {
    const id = `${charge.table}\u0000${charge.index ?? ''}\u0000${charge.key}`;
    let state = keys.get(id);
    if (!state) {
      state = {
        slots: new Float64Array(SLOTS * 3),
        at: slot,
        stat: {
          table: charge.table,
          ...(charge.index !== undefined && { index: charge.index }),
          key: charge.key,
          writes: 0,
          wcu: 0,
          peakWritesPerSecond: 0,
          throttledWrites: 0,
          reads: 0,
          rcu: 0,
          throttledReads: 0,
        },
      };
      keys.set(id, state);
      return state;
    }
    const gap = slot - state.at;
    if (gap > 0) {
      const { slots } = state;
      if (gap >= SLOTS) slots.fill(0);
      else
        for (let s = state.at + 1; s <= slot; s++) {
          const i = s % SLOTS;
          slots[i] = 0;
          slots[SLOTS + i] = 0;
          slots[2 * SLOTS + i] = 0;
        }
      state.at = slot;
    }
    return state;
  };

  const used = (slots: Float64Array, base: number) => {
    let sum = 0;
    for (let i = base; i < base + SLOTS; i++) sum += slots[i] as number;
    return sum;
  };

  const sweep = (ms: number) => {
    if (ms - lastSweep < SWEEP_EVERY_MS) return;
    lastSweep = ms;
    const oldest = Math.floor((ms - FORGET_IDLE_MS) / SLOT_MS);
    for (const [id, state] of keys) if (state.at < oldest) keys.delete(id);
  };

  const charge = (charges: Charge[], write: boolean) => {
    const ms = now();
    sweep(ms);
    const slot = Math.floor(ms / SLOT_MS);
    const i = slot % SLOTS;
    const limit = write ? wcuPerSecond : rcuPerSecond;
    const base = write ? 0 : SLOTS;
    const states = charges.map((c) => stateOf(c, slot));
    // Two charges of one request on one key (an item moving within an index) add up before the check.
    const pending = new Map<KeyState, number>();
    const refused: { at: number; throttle: Throttle }[] = [];
    states.forEach((state, at) => {
      const units = (pending.get(state) ?? 0) + (charges[at] as Charge).units;
      pending.set(state, units);
      if (used(state.slots, base) + units > limit) {
        const { table, index } = charges[at] as Charge;
        const kind = `${index ? 'Index' : 'Table'}${write ? 'Write' : 'Read'}`;
        refused.push({
          at,
          throttle: { reason: `${kind}KeyRangeThroughputExceeded`, resource: arn(table, index) },
        });
      }
    });
    if (refused.length > 0) {
      for (const { at } of refused) {
        const stat = (states[at] as KeyState).stat;
        if (write) stat.throttledWrites++;
        else stat.throttledReads++;
      }
      return refused;
    }
    states.forEach((state, at) => {
      const units = (charges[at] as Charge).units;
      const { slots, stat } = state;
      if (write) {
        slots[i] = (slots[i] as number) + units;
        slots[2 * SLOTS + i] = (slots[2 * SLOTS + i] as number) + 1;
        stat.writes++;
        stat.wcu += units;
        const perSecond = used(slots, 2 * SLOTS);
        if (perSecond > stat.peakWritesPerSecond) stat.peakWritesPerSecond = perSecond;
      } else {
        slots[SLOTS + i] = (slots[SLOTS + i] as number) + units;
        stat.reads++;
        stat.rcu += units;
      }
    });
    return refused;
  };

  return {
    wcuPerSecond,
    rcuPerSecond,
    chargeWrites: (charges) => charge(charges, true),
    chargeReads: (charges) => charge(charges, false),
    writeCharges(table, old, item, transactional) {
      // 1 WCU per KB, rounded up, of the larger of the old and new item (2 in a transaction).
      const unitsOf = (...items: (Item | null | undefined)[]) =>
        Math.max(1, Math.ceil(Math.max(...items.map((it) => itemBytes(it, opts.itemSize))) / 1024)) *
        (transactional ? 2 : 1);
      const units = unitsOf(old, item);
      const tableKey = hashKeyOf(table.KeySchema);
      const keyed = item ?? old;
      const charges: Charge[] = [];
      const own = tableKey && keyed ? keyValue(keyed[tableKey]) : undefined;
      if (own !== undefined) charges.push({ table: table.TableName, key: own, units });
      for (const index of table.GlobalSecondaryIndexes ?? []) {
        const attr = hashKeyOf(index.KeySchema);
        if (!attr) continue;
        const hasAll = (it: Item | null | undefined) =>
          !!it && index.KeySchema.every((k) => it[k.AttributeName] != null);
        const before = hasAll(old) ? keyValue((old as Item)[attr]) : undefined;
        const after = hasAll(item) ? keyValue((item as Item)[attr]) : undefined;
        // A write that changes none of what the index holds (its keys and projected attributes) does not write the
        // index (GSI.html#GSI.ThroughputConsiderations.Writes): an update of an attribute the index does not project
        // costs the index nothing.
        if (before !== undefined && before === after && !projectedChanged(index, old, item)) continue;
        // The index entry is written under the new key, and removed from the old one when the key changed, each
        // charged the size of the index entry (its keys, the table's, and what it projects), not of the item:
        // GSI.html#GSI.ThroughputConsiderations.Writes.
        const entry = (it: Item | null | undefined) => indexEntry(index, table.KeySchema, it);
        if (after !== undefined) {
          const size = before === after ? unitsOf(entry(old), entry(item)) : unitsOf(entry(item));
          charges.push({ table: table.TableName, index: index.IndexName, key: after, units: size });
        }
        if (before !== undefined && before !== after)
          charges.push({
            table: table.TableName,
            index: index.IndexName,
            key: before,
            units: unitsOf(entry(old)),
          });
      }
      return charges;
    },
    stats({ top, table } = {}) {
      const all: KeyStat[] = [];
      for (const state of keys.values())
        if (!table || state.stat.table === table) all.push({ ...state.stat });
      all.sort((a, b) => b.writes - a.writes || b.reads - a.reads);
      return top === undefined ? all : all.slice(0, top);
    },
    reset() {
      keys.clear();
    },
  };
}

/** What an index holds of `item`: all of it (ALL), else its keys, the table's keys and the INCLUDE attributes. */
function indexEntry(
  index: {
    KeySchema: { AttributeName: string }[];
    Projection?: { ProjectionType?: string; NonKeyAttributes?: string[] };
  },
  tableKeys: { AttributeName: string }[],
  item: Item | null | undefined,
): Item | undefined {
  if (!item) return undefined;
  const type = index.Projection?.ProjectionType ?? 'ALL';
  if (type === 'ALL') return item;
  const names = [
    ...index.KeySchema.map((k) => k.AttributeName),
    ...tableKeys.map((k) => k.AttributeName),
    ...(type === 'INCLUDE' ? (index.Projection?.NonKeyAttributes ?? []) : []),
  ];
  const entry: Item = {};
  for (const name of names) {
    const value = item[name];
    if (value !== undefined) entry[name] = value;
  }
  return entry;
}

/** Whether a write changed an attribute the index holds: its keys, and what its projection copies. */
function projectedChanged(
  index: {
    KeySchema: { AttributeName: string }[];
    Projection?: { ProjectionType?: string; NonKeyAttributes?: string[] };
  },
  old: Item | null | undefined,
  item: Item | null | undefined,
): boolean {
  const same = (name: string) => JSON.stringify(old?.[name]) === JSON.stringify(item?.[name]);
  const type = index.Projection?.ProjectionType ?? 'ALL';
  if (type === 'ALL') {
    const names = new Set([...Object.keys(old ?? {}), ...Object.keys(item ?? {})]);
    return [...names].some((name) => !same(name));
  }
  const names = [
    ...index.KeySchema.map((k) => k.AttributeName),
    ...(type === 'INCLUDE' ? (index.Projection?.NonKeyAttributes ?? []) : []),
  ];
  return names.some((name) => !same(name));
}

/** DynamoDB's answer to a request refused for a hot key (HTTP 400; the SDKs retry it with backoff). */
export function throttleBody(throttles: Throttle[]): Record<string, unknown> {
  return {
    __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message: `Throughput exceeds the current capacity of one partition key: ${throttles[0]?.reason ?? 'KeyRangeThroughputExceeded'}`,
    ThrottlingReasons: throttles,
  };
}
