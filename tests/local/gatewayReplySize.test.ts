import type WebSocket from 'ws';
import { harness, waitFor } from './gatewayHarness';

/**
 * API Gateway's 128 KB message quota covers what the server sends: a route response over it never reaches the
 * client (a post over it is refused 413, gatewayManagement.test.ts). Counted in UTF-8 bytes of the text.
 */
const LIMIT = 128 * 1024;

/** Every text frame the socket receives, in order. */
function received(ws: WebSocket): string[] {
  const texts: string[] = [];
  ws.on('message', (data: Buffer) => texts.push(data.toString('utf8')));
  return texts;
}

async function replying(): Promise<{ ws: WebSocket; texts: string[]; warnings: string[] }> {
  const warnings: string[] = [];
  const h = await harness({ log: (level, msg) => level === 'warn' && warnings.push(msg) });
  // The route answers with `repeat` copies of `unit`, as large as the test asks.
  h.handlers.set('sendmessage', async (event) => {
    const { unit, repeat } = JSON.parse(event.body ?? '{}') as { unit: string; repeat: number };
    return { statusCode: 200, body: unit.repeat(repeat) };
  });
  const { ws } = await h.connect();
  return { ws, texts: received(ws), warnings };
}

const ask = (ws: WebSocket, unit: string, repeat: number) =>
  ws.send(JSON.stringify({ action: 'sendmessage', unit, repeat }));

it('delivers a route response of exactly 128 KB and not one byte more, in UTF-8 bytes', async () => {
  const { ws, texts, warnings } = await replying();
  ask(ws, 'x', LIMIT);
  ask(ws, 'x', LIMIT + 1);
  // 'é' is two bytes: 65,536 of them are exactly the limit, one more is over it.
  ask(ws, 'é', LIMIT / 2);
  ask(ws, 'é', LIMIT / 2 + 1);
  ask(ws, 'x', 10);
  // Replies come back in any order: wait for the three delivered and the two refused.
  await waitFor(() => texts.length >= 3 && warnings.length >= 2);
  expect(texts.map((t) => Buffer.byteLength(t))).toEqual(expect.arrayContaining([LIMIT, LIMIT, 10]));
  expect(texts).toHaveLength(3);
  expect(texts.every((t) => Buffer.byteLength(t) <= LIMIT)).toBe(true);
  expect(warnings).toEqual([
    'route response over the message limit, not delivered',
    'route response over the message limit, not delivered',
  ]);
});

it('keeps the connection open and serving after dropping an oversize reply', async () => {
  const { ws, texts, warnings } = await replying();
  ask(ws, 'y', 3 * LIMIT);
  await waitFor(() => warnings.length === 1);
  ask(ws, 'z', 5);
  await waitFor(() => texts.length === 1);
  expect(texts).toEqual(['zzzzz']);
  expect(ws.readyState).toBe(ws.OPEN);
});
