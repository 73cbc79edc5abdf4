import type { Members } from './members';
import { now, sleep, withTimeout } from './members';
import { lossAndDuplicates, round, summarize } from './stats';

/**
 * The hot-room scenario: members of one room send `rate` messages a second between them (pipelined: a send does
 * not wait for the previous message's delivery), and every member's receipt of every message is timed from its
 * send. Each post the fan-out makes arrives as one frame, so the frames the members receive are the posts:
 * posts per message = frames ÷ messages. The same room then sends one message at a time (each delivered to every
 * member before the next is sent): the quiet latency, which the hot latency is compared with.
 *
 * Frames are read as the frame contract has them: a `message` frame carries one message, a `batch` frame several
 * (its `messages`, each a `message` frame). The scenario listens to the raw frames itself, so it counts the same
 * way whether or not the client library unpacks batches.
 */

export interface LatencySummary {
  /** Deliveries timed: members × messages received. */
  deliveries: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface HotRoomPhase extends LatencySummary {
  /** Messages the phase's frames carried, and of them the ones whose send was acked (timed). */
  messages: number;
  acked: number;
  /** Frames carrying messages that the members received (one per post). */
  frames: number;
  /** frames ÷ messages: the room size when every message goes alone. */
  postsPerMessage: number;
  /** Frames that carried more than one message, and the most one carried. */
  batchFrames: number;
  largestBatch: number;
  missing: number;
  duplicated: number;
  /** Messages acked per second of the phase's sending (acks lag the schedule on a loaded machine). */
  sentPerSecond: number;
}

interface Delivery {
  seq: number;
  at: number;
}

/** Taps every member's frames: message-carrying frames per member, each message's receipt time. */
export class FrameTap {
  readonly deliveries: Delivery[][] = [];
  frames = 0;
  batchFrames = 0;
  largestBatch = 0;
  private readonly waiting = new Map<number, { need: number; done: () => void }>();
  private readonly counts = new Map<number, number>();
  private readonly stops: (() => void)[] = [];

  constructor(members: Members) {
    members.clients.forEach((chat, i) => {
      const mine: Delivery[] = [];
      this.deliveries[i] = mine;
      this.stops.push(chat.on('frame', ({ frame }) => this.onFrame(mine, frame)));
    });
  }

  private onFrame(mine: Delivery[], frame: Record<string, unknown> | undefined): void {
    if (!frame) return;
    const at = now();
    const messages =
      frame.type === 'message'
        ? [frame]
        : frame.type === 'batch' && Array.isArray(frame.messages)
          ? frame.messages
          : [];
    if (messages.length === 0) return;
    this.frames++;
    if (messages.length > 1) this.batchFrames++;
    this.largestBatch = Math.max(this.largestBatch, messages.length);
    for (const m of messages as { seq?: unknown }[]) {
      if (typeof m.seq !== 'number') continue;
      mine.push({ seq: m.seq, at });
      const count = (this.counts.get(m.seq) ?? 0) + 1;
      this.counts.set(m.seq, count);
      const w = this.waiting.get(m.seq);
      if (w && count >= w.need) {
        this.waiting.delete(m.seq);
        w.done();
      }
    }
  }

  /** Resolves when `need` deliveries of seq have arrived. */
  received(seq: number, need: number): Promise<void> {
    if ((this.counts.get(seq) ?? 0) >= need) return Promise.resolve();
    return new Promise((done) => this.waiting.set(seq, { need, done }));
  }

  close(): void {
    for (const stop of this.stops) stop();
  }
}

/** Where a phase starts in the tap: its frame counts and each member's deliveries so far. */
export function mark(tap: FrameTap) {
  tap.largestBatch = 0;
  return {
    frames: tap.frames,
    batchFrames: tap.batchFrames,
    delivered: tap.deliveries.map((mine) => mine.length),
  };
}

/**
 * Latency of every (member, message) delivery from the message's send, the delivery audit, and posts per message:
 * the frames of the phase ÷ the distinct messages they carried (a send whose answer was lost, e.g. the gateway's
 * timeout, may still have been stored and delivered: its frames count, and so does its message).
 */
export function measure(tap: FrameTap, sentAt: Map<number, number>, start: ReturnType<typeof mark>) {
  const latencies: number[] = [];
  const seqs = [...sentAt.keys()];
  const wanted = new Set(seqs);
  const phase = tap.deliveries.map((mine, i) => mine.slice(start.delivered[i] ?? 0));
  const carried = new Set(phase.flatMap((mine) => mine.map((d) => d.seq)));
  const received = phase.map((mine) => mine.filter((d) => wanted.has(d.seq)));
  for (const mine of received) {
    for (const d of mine) latencies.push(d.at - (sentAt.get(d.seq) as number));
  }
  const s = summarize(latencies);
  const { missing, duplicated } = lossAndDuplicates(
    seqs,
    received.map((mine) => mine.map((d) => d.seq)),
  );
  const frames = tap.frames - start.frames;
  return {
    deliveries: s.count,
    p50Ms: round(s.p50),
    p99Ms: round(s.p99),
    maxMs: round(s.max),
    messages: carried.size,
    acked: seqs.length,
    frames,
    postsPerMessage: round(frames / Math.max(1, carried.size)),
    batchFrames: tap.batchFrames - start.batchFrames,
    largestBatch: tap.largestBatch,
    missing,
    duplicated,
  };
}

/**
 * Sends `count` messages at `rate` a second, senders taking turns (each member's sends are rate limited), without
 * waiting for deliveries; then waits for every member to have every message (or `drainMs`).
 */
async function hotPhase(members: Members, tap: FrameTap, rate: number, count: number, drainMs: number) {
  const n = members.size;
  const sentAt = new Map<number, number>();
  const start = mark(tap);
  const started = now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    const t0 = now();
    sends.push(
      members.send(members.sent++ % n, `hot ${i}`).then(
        ({ seq }) => {
          sentAt.set(seq, t0);
        },
        (error: Error) => {
          process.stderr.write(`hot send ${i} failed: ${error.message}\n`);
        },
      ),
    );
  }
  await Promise.all(sends);
  const sentPerSecond = round((sentAt.size * 1000) / (now() - started));
  await withTimeout(
    Promise.all([...sentAt.keys()].map((seq) => tap.received(seq, n))),
    drainMs,
    'hot-room deliveries',
  ).catch((error: Error) => process.stderr.write(`${error.message}\n`));
  await sleep(300); // late copies would show up here
  return { ...measure(tap, sentAt, start), sentPerSecond };
}

/** One message at a time, each delivered to every member before the next: the quiet room's latency. */
async function quietPhase(members: Members, tap: FrameTap, count: number, gapMs: number, drainMs: number) {
  const n = members.size;
  const sentAt = new Map<number, number>();
  const start = mark(tap);
  const started = now();
  for (let i = 0; i < count; i++) {
    const t0 = now();
    const { seq } = await members.send(members.sent++ % n, `quiet ${i}`);
    sentAt.set(seq, t0);
    await withTimeout(tap.received(seq, n), drainMs, `quiet message ${seq}`).catch((error: Error) =>
      process.stderr.write(`${error.message}\n`),
    );
    await sleep(gapMs);
  }
  const sentPerSecond = round((sentAt.size * 1000) / (now() - started));
  await sleep(300);
  return { ...measure(tap, sentAt, start), sentPerSecond };
}

export interface HotRoomResult {
  hot: HotRoomPhase;
  quiet: HotRoomPhase;
  /** What a busy room's delivery adds to a quiet one's: hot minus quiet, at p50 and p99. */
  addedP50Ms: number;
  addedP99Ms: number;
}

/** Quiet first (its latency is the reference), then hot, in the same room and cloud. */
export async function runHotRoom(
  members: Members,
  opts: { rate: number; messages: number; quietMessages: number; gapMs: number; drainMs: number },
): Promise<HotRoomResult> {
  const tap = new FrameTap(members);
  try {
    const quiet = await quietPhase(members, tap, opts.quietMessages, opts.gapMs, opts.drainMs);
    await sleep(1000);
    const hot = await hotPhase(members, tap, opts.rate, opts.messages, opts.drainMs);
    return {
      hot,
      quiet,
      addedP50Ms: round(hot.p50Ms - quiet.p50Ms),
      addedP99Ms: round(hot.p99Ms - quiet.p99Ms),
    };
  } finally {
    tap.close();
  }
}
