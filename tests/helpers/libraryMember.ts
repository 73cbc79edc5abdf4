import type { RoomcastClient, RoomcastClientOptions } from '@roomcast/client';
import { createRoomcastClient } from '@roomcast/client';
import WebSocket from 'ws';
import type { LocalCloud, LocalCloudOptions } from '../../tools/local/cloud';
import { FRAME_TIMEOUT_MS } from './chatClient';
import { startTestCloud, type TestCloud } from './localCloud';

/**
 * A member using the client library (@roomcast/client) against a local cloud, as an app would: over `ws`, with short
 * reconnect pauses and a request timeout a busy 2-core machine's cold functions fit in. Added to `clients`, which the
 * file closes when it ends. `username` undefined: one who signs in (`options.getToken`).
 */
export function libraryClient(
  wsUrl: string,
  username: string | undefined,
  clients: RoomcastClient[],
  options: Partial<RoomcastClientOptions> = {},
): RoomcastClient {
  const chat = createRoomcastClient({
    url: wsUrl,
    ...(username !== undefined && { username }),
    WebSocket: WebSocket as unknown as RoomcastClientOptions['WebSocket'],
    backoff: { initialDelayMs: 50, maxDelayMs: 500 },
    requestTimeoutMs: FRAME_TIMEOUT_MS,
    ...options,
  });
  clients.push(chat);
  return chat;
}

/** Waits until `condition` holds: true, or false after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

/**
 * A test file's local cloud for members using the client library, started before its tests with the per-connection
 * send and frame limits out of a burst's way (`settings` over those), and closed after them with the `clients` its
 * tests made; `options` over startTestCloud's (a test clock). Called from the top of the file.
 */
export function libraryCloud(
  settings: Record<string, string> = {},
  options: Partial<LocalCloudOptions> = {},
): {
  readonly cloud: LocalCloud;
  readonly clients: RoomcastClient[];
} {
  let test: TestCloud | undefined;
  const clients: RoomcastClient[] = [];
  beforeAll(async () => {
    test = await startTestCloud({
      ...options,
      settings: { SendRateLimit: '1000', FrameRateLimit: '100000', ...settings },
    });
  });
  afterAll(async () => {
    for (const c of clients.splice(0)) c.close();
    await test?.cloud.close();
  });
  return {
    get cloud() {
      if (!test) throw new Error('the local cloud is not started yet');
      return test.cloud;
    },
    clients,
  };
}
