import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the management API of a WebSocket stage: records what each connection received, answers 410 Gone
 * for connections that no longer exist and 429 for posts it is told to throttle.
 */
export class FakeManagementApi {
  readonly received = new Map<string, string[]>();
  readonly gone = new Set<string>();
  /** Connection id -> how many of its next posts answer 429. */
  readonly throttle = new Map<string, number>();
  /** Connection id -> the status and x-amzn-ErrorType every post to it answers. */
  readonly failWith = new Map<string, [number, string]>();
  /** Connections whose posts are never answered (a stage that hangs), until `dropHung()`. */
  readonly hang = new Set<string>();
  private readonly hung: ServerResponse[] = [];
  /** How long every other post waits before its answer. */
  delayMs = 0;
  /** Runs before a post is answered (a test's hook into the race it stages); the answer waits for it. */
  beforeAnswer: ((connectionId: string) => Promise<void>) | undefined;
  /** Connection ids in the order their posts arrived. */
  readonly arrived: string[] = [];
  posts = 0;
  private server: Server | undefined;

  async start(stage = 'prod'): Promise<string> {
    this.server = createServer((req, res) => {
      const match = /^\/[^/]+\/@connections\/([^/?]+)$/.exec(req.url ?? '');
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const id = decodeURIComponent(match?.[1] ?? '');
        this.posts++;
        if (!match || req.method !== 'POST') return res.writeHead(404).end();
        this.arrived.push(id);
        if (this.hang.has(id)) {
          this.hung.push(res);
          return;
        }
        const hook = this.beforeAnswer?.(id) ?? Promise.resolve();
        void hook.then(() => {
          if (this.delayMs > 0) setTimeout(() => this.answer(id, chunks, res), this.delayMs);
          else this.answer(id, chunks, res);
        });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/${stage}`;
  }

  private answer(id: string, chunks: Buffer[], res: ServerResponse): void {
    if (this.gone.has(id)) {
      res
        .writeHead(410, { 'x-amzn-ErrorType': 'GoneException', 'content-type': 'application/json' })
        .end('{"message":null}');
      return;
    }
    const failure = this.failWith.get(id);
    if (failure) {
      res
        .writeHead(failure[0], { 'x-amzn-ErrorType': failure[1], 'content-type': 'application/json' })
        .end('{"message":null}');
      return;
    }
    const throttled = this.throttle.get(id) ?? 0;
    if (throttled > 0) {
      this.throttle.set(id, throttled - 1);
      res
        .writeHead(429, {
          'x-amzn-ErrorType': 'LimitExceededException',
          'content-type': 'application/json',
        })
        .end('{"message":"Too Many Requests"}');
      return;
    }
    const list = this.received.get(id) ?? [];
    list.push(Buffer.concat(chunks).toString('utf8'));
    this.received.set(id, list);
    res.writeHead(200).end();
  }

  /** Resets the sockets of the posts it is holding: their senders see the connection drop, unanswered. */
  dropHung(): void {
    for (const res of this.hung.splice(0)) res.socket?.destroy();
  }

  async stop(): Promise<void> {
    // Hung posts keep their sockets open: close them, or the server never closes.
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
