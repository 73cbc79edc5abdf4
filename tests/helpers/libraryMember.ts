import type { RoomcastClient, RoomcastClientOptions } from '@roomcast/client';
import { createRoomcastClient } from '@roomcast/client';
import WebSocket from 'ws';

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
    requestTimeoutMs: 20_000,
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
