import { DEFAULT_BACKOFF } from '../../client/backoff';
import { Connection, type ConnectionConfig } from '../../client/connection';
import type { RoomcastError } from '../../client/errors';
import { fakeServerPerTest } from '../helpers/fakeServerPerTest';

/**
 * The connection manager alone (client/connection.ts) on Jest's fake clock: its one phase value through connect,
 * keepalive, a dead connection, the planned reconnect before the 2-hour cap and the app's close.
 */
const fake = fakeServerPerTest();

function manager(config: Partial<ConnectionConfig> = {}) {
  const events: string[] = [];
  const connection = new Connection(
    {
      url: 'ws://fake/prod',
      username: 'me',
      Socket: fake.server.WebSocket,
      keepaliveMs: 60_000,
      maxConnectionMs: 3_600_000,
      timeoutMs: 5_000,
      backoff: DEFAULT_BACKOFF,
      random: () => 0.5,
      lean: false,
      ...config,
    },
    {
      connecting: () => events.push('connecting'),
      open: () => events.push('open'),
      text: (text) => events.push(`text ${text}`),
      closed: (code, reason) => events.push(`closed ${code} ${reason}`),
      reconnecting: (attempt, delayMs) => events.push(`reconnecting ${attempt} in ${delayMs}`),
      failed: (error: RoomcastError) => events.push(`failed ${error.code}`),
      error: (error: RoomcastError) => events.push(`error ${error.code}`),
      closedByApp: (code) => events.push(`closedByApp ${code}`),
    },
  );
  return { connection, events };
}

it('connects with the username, pings only after keepaliveMs of silence, and drops a connection that does not pong', async () => {
  const { connection, events } = manager();
  expect(connection.state).toBe('idle');
  connection.connect();
  expect(connection.state).toBe('connecting');
  await jest.advanceTimersByTimeAsync(5);
  expect(connection.state).toBe('open');
  expect(fake.server.last.url).toBe('ws://fake/prod?username=me');

  await jest.advanceTimersByTimeAsync(30_000);
  connection.send('{"action":"who"}'); // sending restarts the keepalive clock
  await jest.advanceTimersByTimeAsync(59_000);
  expect(fake.server.sent('ping')).toHaveLength(0);
  await jest.advanceTimersByTimeAsync(1_000);
  expect(fake.server.sent('ping')).toHaveLength(1);

  // The server stops answering pings: after timeoutMs without a pong the manager closes and backs off.
  fake.server.intercept = (frame) => (frame.action === 'ping' ? null : undefined);
  await jest.advanceTimersByTimeAsync(60_000 + 5_000 + 5);
  expect(events).toContain('closed 4001 no pong');
  expect(events).toContain('reconnecting 1 in 250');
  await jest.advanceTimersByTimeAsync(300);
  expect(connection.state).toBe('open');
  expect(fake.server.sockets).toHaveLength(2);
});

it('recycles before the 2-hour cap: closes on purpose and reconnects at once, without a backoff', async () => {
  const { connection, events } = manager({ maxConnectionMs: 10_000 });
  connection.connect();
  await jest.advanceTimersByTimeAsync(5);
  const first = fake.server.last;
  await jest.advanceTimersByTimeAsync(9_996); // opened at 1 ms: the recycle is due at 10,001 ms
  expect(connection.state).toBe('recycling');
  await jest.advanceTimersByTimeAsync(5);
  expect(first.ended).toEqual({ code: 1000, reason: 'connection age', by: 'client' });
  expect(connection.state).toBe('open');
  expect(fake.server.sockets).toHaveLength(2);
  expect(events.filter((e) => e.startsWith('reconnecting'))).toEqual([]);
});

it('close() is `closing` until the socket has closed, then `closed` for good', async () => {
  const { connection, events } = manager();
  connection.connect();
  await jest.advanceTimersByTimeAsync(5);
  connection.close(1000, 'bye');
  expect(connection.state).toBe('closing');
  expect(connection.isOpen).toBe(false);
  expect(() => connection.send('x')).toThrow(expect.objectContaining({ code: 'DISCONNECTED' }));
  await jest.advanceTimersByTimeAsync(5);
  expect(connection.state).toBe('closed');
  expect(events.at(-1)).toBe('closedByApp 1000');
  connection.connect(); // closed for good
  await jest.advanceTimersByTimeAsync(60_000);
  expect(fake.server.sockets).toHaveLength(1);
});

it('gives up after maxAttempts reconnects and retry() starts again', async () => {
  fake.server.accept = false;
  const { connection, events } = manager({
    backoff: { initialDelayMs: 100, maxDelayMs: 100, maxAttempts: 2 },
  });
  connection.connect();
  await jest.advanceTimersByTimeAsync(1_000);
  expect(connection.state).toBe('failed');
  expect(events.at(-1)).toBe('failed GAVE_UP');
  fake.server.accept = true;
  connection.retry();
  await jest.advanceTimersByTimeAsync(5);
  expect(connection.state).toBe('open');
});
