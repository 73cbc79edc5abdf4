import { createRoomcastClient, type RoomcastClient, type RoomcastClientOptions } from '../../client';
import { FakeRoomcastServer } from './fakeRoomcastServer';

/** Moves Jest's fake clock on (20 ms by default: long enough for the fake server to answer). */
export const tick = (ms = 20) => jest.advanceTimersByTimeAsync(ms);

/**
 * The client tests' stage, set up from the top of a test file: Jest's fake clock, a fresh FakeRoomcastServer for each
 * test (`fake.server`), and clients made with `fake.client()` closed after it.
 */
export function fakeServerPerTest() {
  jest.useFakeTimers();
  const clients: RoomcastClient[] = [];
  const fake = {
    server: undefined as unknown as FakeRoomcastServer,
    /** A client of the fake server: a browser-like socket, username `me` and half jitter unless `options` differ. */
    client(options: Partial<RoomcastClientOptions> = {}): RoomcastClient {
      const chat = createRoomcastClient({
        url: 'ws://fake/prod',
        username: 'me',
        WebSocket: fake.server.WebSocket,
        random: () => 0.5,
        ...options,
      });
      clients.push(chat);
      return chat;
    },
  };
  beforeEach(() => {
    fake.server = new FakeRoomcastServer();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
    jest.clearAllTimers();
  });
  return fake;
}
