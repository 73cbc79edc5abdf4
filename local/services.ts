import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A started service of the local cloud: what it offers, and how to stop it. */
export interface Started<T> {
  value: T;
  close(): Promise<void>;
}

/**
 * The services of the local cloud, started one after the other and closed in the reverse order, so nothing is
 * closed while a service started after it still uses it. When a start fails, what had started is closed before the
 * error goes on: a failed start leaves no thread, port or process behind.
 */
export class Services {
  private readonly started: { name: string; close(): Promise<void> }[] = [];

  /** Starts one service after those started so far; on failure closes them all and rethrows. */
  async start<T>(name: string, start: () => Promise<Started<T>> | Started<T>): Promise<T> {
    let service: Started<T>;
    try {
      service = await start();
    } catch (error) {
      await this.close();
      throw error;
    }
    this.started.push({ name, close: () => service.close() });
    return service.value;
  }

  /** The names of the running services, in the order they started. */
  names(): string[] {
    return this.started.map((s) => s.name);
  }

  /** Closes every started service, the last started first; a failing close does not stop the others. */
  async close(): Promise<void> {
    for (const service of this.started.splice(0).reverse()) await service.close().catch(() => undefined);
  }
}

/** Listens on `port` (0: any free one) and answers the port it got. */
export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** A listening HTTP server as a service: closing it ends its open connections too. */
export async function serve(server: Server, port: number, host: string): Promise<Started<string>> {
  const boundPort = await listen(server, port, host);
  return {
    value: `http://${host}:${boundPort}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
