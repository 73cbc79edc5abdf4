import { ChatClient, type Frame } from '../helpers/chatClient';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * Fair share with the template's default parameters (docs/SECURITY.md, "Limits per connection"): one connection
 * flooding malformed `sendmessage` frames at 100 frames/s is closed for its strikes, and a well-behaved
 * user who sends one message every 500 ms meanwhile has every message acked. The ack times are printed as figures
 * (before the flood and during it), not asserted: this machine's timing is no benchmark.
 */
jest.setTimeout(240_000);

const SEND_EVERY_MS = 500;
const SENDS = 12;
const FLOOD_PER_SECOND = 100;
const FLOOD_TICK_MS = 50;
/**
 * The flood stops after this many frames if the flooder is still open, so a failing run still ends and prints its
 * figures: ten seconds of flood, many times the strikes (StrikeLimit, 10 by default) that close it. A count, not a
 * time, so a loaded machine that paces the flood slowly sends the same flood.
 */
const FLOOD_CAP_FRAMES = 10 * FLOOD_PER_SECOND;
/**
 * How long the test waits for the close once the flood has ended: a hang, not a speed bound (on an idle machine it
 * closes within a second, and its time is printed as a figure).
 */
const CLOSE_GIVE_UP_MS = 60_000;
/** Long enough that a starved ack is still counted as acked late rather than lost. */
const ACK_TIMEOUT_MS = 30_000;

let testCloud: TestCloud;
const open: ChatClient[] = [];

beforeAll(async () => {
  testCloud = await startTestCloud();
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.close().catch(() => undefined)));
  await testCloud?.settle();
  await testCloud?.cloud.close();
});

async function connect(name: string): Promise<ChatClient> {
  const client = await ChatClient.connect(testCloud.cloud.wsUrl, name);
  open.push(client);
  return client;
}

const p50 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
};

/**
 * Sends SENDS messages, one every SEND_EVERY_MS whatever the earlier ones' fate (a client pipelining within
 * SendRateLimit), and waits for every reply: the reply and its time for each.
 */
async function wellBehaved(client: ChatClient, label: string): Promise<{ reply: Frame; ms: number }[]> {
  const start = Date.now();
  const sends = Array.from({ length: SENDS }, async (_, i) => {
    await new Promise((r) => setTimeout(r, i * SEND_EVERY_MS - (Date.now() - start)));
    const clientMsgId = `${label}-${i}`;
    const sentAt = Date.now();
    client.send({ action: 'sendmessage', message: `${label} ${i}`, clientMsgId });
    const reply = await client
      .next((f) => f.clientMsgId === clientMsgId && (f.type === 'ack' || f.type === 'error'), ACK_TIMEOUT_MS)
      .catch(() => ({ type: 'no reply' }) as Frame);
    return { reply, ms: Date.now() - sentAt };
  });
  return Promise.all(sends);
}

it('closes a connection flooding sendmessage frames for its strikes, and another user keeps every ack', async () => {
  const alice = await connect('alice');
  const created = await alice.expectReply({ action: 'createroom' });
  const roomId = String(created.roomId);

  const quiet = await wellBehaved(alice, 'quiet');
  // Two messages a second is over SendRateLimit's sustained rate (1/s by default) but within its burst: a second
  // connection, with a full bucket, sends during the flood.
  const bob = await connect('bob');
  await bob.expectReply({ action: 'joinroom', roomId, key: created.inviteKey });

  // The flooder is in the users' room: whatever it got through would reach them.
  const flooder = await connect('flooder');
  await flooder.expectReply({ action: 'joinroom', roomId, key: created.inviteKey });
  // Malformed sendmessage frames: no message, a message over the size limit, an id that is not one. (Valid ones
  // empty the send bucket and are refused RATE_LIMITED, a strike either way.)
  const kinds = [
    { action: 'sendmessage' },
    { action: 'sendmessage', message: 'x'.repeat(5000) },
    { action: 'sendmessage', message: 'spam', clientMsgId: '<script>' },
  ];
  let sent = 0;
  let closedAfterMs: number | undefined;
  const floodStart = Date.now();
  void flooder.closed.then(() => {
    closedAfterMs = Date.now() - floodStart;
  });
  const flood = (async () => {
    for (let tick = 0; flooder.isOpen && sent < FLOOD_CAP_FRAMES; tick++) {
      for (
        let i = 0;
        i < (FLOOD_PER_SECOND * FLOOD_TICK_MS) / 1000 && flooder.isOpen && sent < FLOOD_CAP_FRAMES;
        i++
      )
        flooder.send(kinds[sent++ % kinds.length]);
      const wait = floodStart + (tick + 1) * FLOOD_TICK_MS - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  const flooded = await wellBehaved(bob, 'flooded');
  await flood;
  const floodMs = Date.now() - floodStart;
  // The server closes it for its strikes; the test never does. A slow machine may still be answering the flood.
  const closed = await Promise.race([
    flooder.closed.then(() => true),
    new Promise<false>((resolve) => setTimeout(() => resolve(false), CLOSE_GIVE_UP_MS).unref()),
  ]);
  const answered: Record<string, number> = {};
  for (const f of flooder.frames) {
    const kind = f.type === 'error' ? String(f.code) : String(f.type ?? f.message ?? 'other');
    answered[kind] = (answered[kind] ?? 0) + 1;
  }

  const acked = (results: { reply: Frame }[]) => results.filter((r) => r.reply.type === 'ack').length;
  process.stdout.write(
    `[figures] ${JSON.stringify({
      test: 'fair share: 100 sendmessage frames/s from one connection',
      quietAckP50Ms: p50(quiet.map((r) => r.ms)),
      floodedAckP50Ms: p50(flooded.map((r) => r.ms)),
      floodedAckMaxMs: Math.max(...flooded.map((r) => r.ms)),
      acked: { quiet: acked(quiet), flooded: acked(flooded), of: SENDS },
      flooder: { framesSent: sent, answered, closedAfterMs: closedAfterMs ?? null, floodMs },
    })}\n`,
  );

  expect(quiet.map((r) => r.reply.type)).toEqual(Array(SENDS).fill('ack'));
  expect(flooded.map((r) => r.reply)).toEqual(
    Array.from({ length: SENDS }, (_, i) =>
      expect.objectContaining({ type: 'ack', clientMsgId: `flooded-${i}` }),
    ),
  );
  // Closed by the server (the test never closes it, and the gateway's idle timeout is minutes away).
  expect(closed).toBe(true);
  // The flooder is told why it is closed.
  expect(
    flooder.frames.some((f) => f.type === 'error' && /connection is closed/.test(String(f.message))),
  ).toBe(true);
  // The room has every one of the two users' messages once (pipelined sends may take seqs in any order), and
  // nothing of the flood.
  const history = await alice.expectReply({ action: 'history', limit: 100 });
  expect((history.messages as { text: string }[]).map((m) => m.text).sort()).toEqual(
    [
      ...Array.from({ length: SENDS }, (_, i) => `quiet ${i}`),
      ...Array.from({ length: SENDS }, (_, i) => `flooded ${i}`),
    ].sort(),
  );
});
