export interface RoomResult {
  apiLatencyMs: number;
  roomSize: number;
  messages: number;
  chunkSize: number;
  maxConcurrency: number;
  /** 'room' (createroom + joinroom) or 'lobby'. */
  via: string;
  joinMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  deliveriesPerSec: number;
  missing: number;
  duplicated: number;
  tutorialMessages: number;
  tutorialP50Ms: number;
  speedupVsTutorial: number;
  rawPostRate: number;
  throughputVsRawPost: number;
  rawWsP50Ms: number;
  /** CPU time of the Deliver sandboxes during the timed messages ÷ the posts they made (N × messages), in µs. */
  deliverCpuUsPerPost: number;
  idleRssMb: number;
  rssMb: number;
  /** 1-minute load average of the machine when the room finished: other work on the machine skews every figure. */
  loadAvg1m: number;
}

/** The bench's human table: one row per (latency, room size). */

const fmt = (v: number) => (Number.isFinite(v) ? String(v) : '–');

export function table(rows: RoomResult[]): string {
  const head = [
    'lat ms',
    'room',
    'via',
    'chunk×conc',
    'p50 ms',
    'p95',
    'p99',
    'max',
    'deliv/s',
    'tutorial p50',
    'speedup',
    'raw POST/s',
    'vs raw',
    'raw ws p50',
    'lost/dup',
    'Deliver µs/post',
    'idle RSS',
    'peak RSS MB',
    'load',
  ];
  const lines = rows.map((r) => [
    String(r.apiLatencyMs),
    String(r.roomSize),
    r.via,
    `${r.chunkSize}×${r.maxConcurrency}`,
    fmt(r.p50Ms),
    fmt(r.p95Ms),
    fmt(r.p99Ms),
    fmt(r.maxMs),
    fmt(r.deliveriesPerSec),
    r.tutorialMessages ? `${fmt(r.tutorialP50Ms)} (${r.tutorialMessages})` : '–',
    Number.isFinite(r.speedupVsTutorial) ? `${r.speedupVsTutorial}×` : '–',
    fmt(r.rawPostRate),
    Number.isFinite(r.throughputVsRawPost) ? String(r.throughputVsRawPost) : '–',
    fmt(r.rawWsP50Ms),
    `${r.missing}/${r.duplicated}`,
    fmt(r.deliverCpuUsPerPost),
    fmt(r.idleRssMb),
    fmt(r.rssMb),
    fmt(r.loadAvg1m),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const row = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] as number)).join('  ');
  return [row(head), row(widths.map((w) => '-'.repeat(w))), ...lines.map(row)].join('\n');
}
