/**
 * The model's machinery (tools/bench/awsModel.ts): a seeded generator, a clock of events in simulated time, and a
 * latency histogram. Nothing here knows AWS.
 */

/** A seeded uniform generator in (0, 1): mulberry32, so a run is the same for a seed on any machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967297;
  };
}

interface Scheduled {
  at: number;
  order: number;
  run: () => void;
}

/** The simulation's clock and its events, earliest first (ties in the order scheduled). */
export class Clock {
  now = 0;
  count = 0;
  private readonly heap: Scheduled[] = [];
  private order = 0;

  at(at: number, run: () => void): void {
    const item = { at: Math.max(at, this.now), order: this.order++, run };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i] as Scheduled, h[p] as Scheduled)) break;
      [h[i], h[p]] = [h[p] as Scheduled, h[i] as Scheduled];
      i = p;
    }
  }

  runUntil(end: number): void {
    const h = this.heap;
    while (h.length > 0 && (h[0] as Scheduled).at <= end) {
      const top = h[0] as Scheduled;
      const last = h.pop() as Scheduled;
      if (h.length > 0) {
        h[0] = last;
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          if (l < h.length && before(h[l] as Scheduled, h[m] as Scheduled)) m = l;
          if (r < h.length && before(h[r] as Scheduled, h[m] as Scheduled)) m = r;
          if (m === i) break;
          [h[i], h[m]] = [h[m] as Scheduled, h[i] as Scheduled];
          i = m;
        }
      }
      this.now = top.at;
      this.count++;
      top.run();
    }
    this.now = Math.max(this.now, end);
  }

  get pending(): number {
    return this.heap.length;
  }
}

/** The map's value for a key, made and kept on first use. */
export function entry<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

const before = (a: Scheduled, b: Scheduled) => a.at < b.at || (a.at === b.at && a.order < b.order);

/** Latencies in whole milliseconds, as counts (a million receipts cost no sort). */
export class Histogram {
  private readonly counts = new Map<number, number>();
  count = 0;
  max = 0;

  add(ms: number, times = 1): void {
    const bucket = Math.max(0, Math.round(ms));
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + times);
    this.count += times;
    if (bucket > this.max) this.max = bucket;
  }

  /** Nearest rank, as tools/bench/stats.ts `percentile`. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (const bucket of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(bucket) as number;
      if (seen >= rank) return bucket;
    }
    return this.max;
  }
}
