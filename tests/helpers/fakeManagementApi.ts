import { createServer, type Server } from 'node:http';
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
        if (this.gone.has(id)) {
          return res
            .writeHead(410, { 'x-amzn-ErrorType': 'GoneException', 'content-type': 'application/json' })
            .end('{"message":null}');
        }
        const failure = this.failWith.get(id);
        if (failure) {
          return res
            .writeHead(failure[0], { 'x-amzn-ErrorType': failure[1], 'content-type': 'application/json' })
            .end('{"message":null}');
        }
        const throttled = this.throttle.get(id) ?? 0;
        if (throttled > 0) {
          this.throttle.set(id, throttled - 1);
          return res
            .writeHead(429, {
              'x-amzn-ErrorType': 'LimitExceededException',
              'content-type': 'application/json',
            })
            .end('{"message":"Too Many Requests"}');
        }
        const list = this.received.get(id) ?? [];
        list.push(Buffer.concat(chunks).toString('utf8'));
        this.received.set(id, list);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/${stage}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
