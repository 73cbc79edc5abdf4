import type { AckFrame, JoinedFrame, MessageFrame } from '@roomcast/client';
import { createRoomcastClient, type RoomcastClient, type SocketFactory } from '@roomcast/client';
import WebSocket from 'ws';

/**
 * The bench's members: roomcast clients (client/) in lean mode over real `ws` sockets, and the small helpers every
 * phase uses. Lean mode (docs/CLIENT.md) keeps a received frame's cost to parsing it and one event: no resume, no
 * timers, no member list, and every message frame counted as it arrives, so the audit sees losses and copies.
 */

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

/** `ws` without per-message deflate (API Gateway offers none), as the client's WebSocket class. */
class MemberSocket extends WebSocket {
  constructor(url: string) {
    super(url, { perMessageDeflate: false });
  }
}

/** Every bench member's message frames land here; receipts are keyed by seq (tutorial frames use negative seqs). */
export class Members {
  readonly clients: RoomcastClient[] = [];
  /** Each member's message seqs in arrival order, copies included (for the delivery audit). */
  readonly seqs: number[][] = [];
  readonly receipts = new Map<number, Receipts>();
  private readonly waiting = new Map<number, { need: number; done: () => void }>();
  lastFrameAt = now();
  frames = 0;
  /** Messages sent so far, to pick the next sender. */
  sent = 0;

  get size(): number {
    return this.clients.length;
  }

  /** Opens `n` members named `<tag>-<i>`, 50 handshakes at a time; `requestTimeoutMs` bounds joins. */
  async connect(url: string, n: number, tag: string, requestTimeoutMs = 120_000): Promise<void> {
    await pool(
      Array.from({ length: n }, (_, i) => i),
      50,
      async (i) => {
        const chat = createRoomcastClient({
          url,
          username: `${tag}-${i}`,
          // `ws` types its handlers' events more narrowly than SocketLike's `unknown`; at run time they fit.
          WebSocket: MemberSocket as unknown as SocketFactory,
          lean: true,
          requestTimeoutMs,
          maxSendAttempts: 1,
        });
        const seqs: number[] = [];
        // `frame` comes first for every frame (presence too, which `settle` waits out), then `message`.
        chat.on('frame', () => {
          this.lastFrameAt = now();
          this.frames++;
        });
        chat.on('message', (message) => this.onMessage(seqs, message));
        await chat.ready(20_000).catch((error: Error) => {
          chat.close();
          throw new Error(`connect member ${i}: ${error.message}`);
        });
        this.clients.push(chat);
        this.seqs.push(seqs);
      },
    );
  }

  private onMessage(seqs: number[], message: MessageFrame): void {
    const seq = message.seq;
    if (typeof seq !== 'number') return;
    seqs.push(seq);
    let r = this.receipts.get(seq);
    if (!r) {
      r = { count: 0, last: 0 };
      this.receipts.set(seq, r);
    }
    r.count++;
    r.last = this.lastFrameAt; // the `frame` event of this very frame set it
    const w = this.waiting.get(seq);
    if (w && r.count >= w.need) {
      this.waiting.delete(seq);
      w.done();
    }
  }

  private member(index: number): RoomcastClient {
    const chat = this.clients[index];
    if (chat === undefined) throw new Error(`no member ${index}`);
    return chat;
  }

  /** Member `index` creates a room and moves into it. */
  createRoom(index: number): Promise<JoinedFrame> {
    return withTimeout(this.member(index).createRoom(), 30_000, 'createroom');
  }

  /** Member `index` joins a room with its invite key (joins by code alone are limited per source address). */
  join(index: number, roomId: string, key: string | undefined): Promise<JoinedFrame> {
    return this.member(index).join(roomId, key);
  }

  /** Member `index` sends a message to its room; resolves with the ack (rejects with the server's error). */
  send(index: number, text: string): Promise<AckFrame> {
    return withTimeout(this.member(index).send(text), 30_000, `sendmessage "${text}"`);
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
    for (const chat of this.clients) chat.close();
    await sleep(50);
  }
}
