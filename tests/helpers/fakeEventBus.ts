import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An event as the bus's rule hands it to its target (the fields the fan-out reads). */
export interface BusEvent {
  source: string;
  'detail-type': string;
  detail: Record<string, unknown>;
}

/**
 * A stand-in for EventBridge's PutEvents (the JSON protocol the SDK speaks): every entry is accepted and handed to
 * `onEvent`, as the template's rule hands the chat bus's events to the fan-out machine.
 */
export class FakeEventBus {
  readonly events: BusEvent[] = [];
  onEvent: (event: BusEvent) => void = () => undefined;
  private server: Server | undefined;

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
          Entries?: { Source: string; DetailType: string; Detail: string }[];
        };
        const entries = body.Entries ?? [];
        for (const entry of entries) {
          const event = {
            source: entry.Source,
            'detail-type': entry.DetailType,
            detail: JSON.parse(entry.Detail),
          };
          this.events.push(event);
          this.onEvent(event);
        }
        res
          .writeHead(200, { 'content-type': 'application/x-amz-json-1.1' })
          .end(
            JSON.stringify({ FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `e${i}` })) }),
          );
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
