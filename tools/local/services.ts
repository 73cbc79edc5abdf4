import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A started service of the local cloud: what it offers, and how to stop it. */
export interface Started<T> {
  value: T;
  close(): Promise<void>;
}

/**
 * The services of the local cloud. Each starts as soon as it is asked to, beside the others; one that uses another
 * awaits that one's promise in its start. They close in the reverse order of their starts' ends, so a service is
 * never closed while one that started with it still runs. When a start fails, `ready` waits for the other starts,
 * closes what started and passes the first error on: a failed start leaves no thread, port or process behind.
 */
export class Services {
  private readonly started: { name: string; close(): Promise<void> }[] = [];
  private readonly starting: Promise<unknown>[] = [];
  private readonly failures: unknown[] = [];

  /** Starts one service now; its promise is its value once started. */
  start<T>(name: string, start: () => Promise<Started<T>> | Started<T>): Promise<T> {
    const starting = (async () => {
      try {
        const service = await start();
        this.started.push({ name, close: () => service.close() });
        return service.value;
      } catch (error) {
        this.failures.push(error);
        throw error;
      }
    })();
    this.starting.push(starting);
    // A failure is passed on by `ready`; a caller that awaits only `ready` leaves no rejection unhandled.
    starting.catch(() => undefined);
    return starting;
  }

  /** Resolves once every service asked for so far has started; if one failed, closes the others and rethrows. */
  async ready(): Promise<void> {
    await Promise.allSettled(this.starting.splice(0));
    if (this.failures.length === 0) return;
    const [first] = this.failures.splice(0);
    await this.close();
    throw first;
  }

  /** The names of the running services, in the order their starts ended. */
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
