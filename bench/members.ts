import WebSocket from 'ws';

/** The bench's WebSocket members (real `ws` clients) and the small helpers every phase uses. */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const now = () => performance.now();

/** Runs `task` over `items` with at most `limit` in flight. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, i: number) => Promise<void>,
) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await task(items[i] as T, i);
    }
  });
  await Promise.all(lanes);
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Receipts {
  count: number;
  last: number;
}

/** Every bench member's frames land here; receipts are keyed by seq (tutorial frames use negative seqs). */
export class Members {
  readonly sockets: WebSocket[] = [];
  readonly seqs: number[][] = [];
  readonly receipts = new Map<number, Receipts>();
  private readonly waiting = new Map<number, { need: number; done: () => void }>();
  private readonly replies: ((frame: Record<string, unknown>) => void)[][] = [];
  lastFrameAt = now();
  frames = 0;
  /** Messages sent so far, to pick the next sender. */
  sent = 0;

  async connect(url: string, n: number, tag: string): Promise<void> {
    await pool(
      Array.from({ length: n }, (_, i) => i),
      50,
      async (i) => {
        const ws = new WebSocket(`${url}?username=${tag}-${i}`, { perMessageDeflate: false });
        await withTimeout(
          new Promise<void>((ok, fail) => {
            ws.once('open', () => ok());
            ws.once('error', fail);
          }),
          20_000,
          `connect member ${i}`,
        );
        ws.on('error', () => {});
        const index = this.sockets.length;
        this.sockets.push(ws);
        this.seqs.push([]);
        this.replies.push([]);
        ws.on('message', (data: Buffer) => this.onFrame(index, data));
      },
    );
  }

  private onFrame(index: number, data: Buffer): void {
    const at = now();
    this.lastFrameAt = at;
    this.frames++;
    const frame = JSON.parse(data.toString()) as Record<string, unknown>;
    if (frame.type === 'message' && typeof frame.seq === 'number') {
      const seq = frame.seq;
      (this.seqs[index] as number[]).push(seq);
      let r = this.receipts.get(seq);
      if (!r) {
        r = { count: 0, last: 0 };
        this.receipts.set(seq, r);
      }
      r.count++;
      r.last = at;
      const w = this.waiting.get(seq);
      if (w && r.count >= w.need) {
        this.waiting.delete(seq);
        w.done();
      }
    } else if (frame.type === 'joined' || frame.type === 'ack' || frame.type === 'error') {
      this.replies[index]?.shift()?.(frame);
    }
  }

  /** Sends an action and resolves with the sender's reply frame (joined, ack or error). */
  call(index: number, body: object, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const reply = new Promise<Record<string, unknown>>((ok) => this.replies[index]?.push(ok));
    this.sockets[index]?.send(JSON.stringify(body));
    return withTimeout(reply, timeoutMs, `reply to ${JSON.stringify(body)}`);
  }

  /** Resolves when `need` members have received seq (at once if they already have). */
  received(seq: number, need: number): Promise<void> {
    const r = this.receipts.get(seq);
    if (r && r.count >= need) return Promise.resolve();
    return new Promise((done) => this.waiting.set(seq, { need, done }));
  }

  /** Waits until no frame has arrived for `quietMs` (the join's presence fan-outs have drained). */
  async settle(quietMs: number, maxMs: number): Promise<void> {
    const until = now() + maxMs;
    while (now() < until && now() - this.lastFrameAt < quietMs) await sleep(50);
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    await sleep(50);
  }
}
