import { appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatClient, type Frame, isGatewayError, isPresence } from '../helpers/chatClient';
import type { CloudTables, DeliveryChecker } from '../helpers/deliveryChecker';
import type { TestCloud } from '../helpers/localCloud';

/** Shared moves of the reliability tests: crowds of members, rooms, and a sender that retries like a real client. */

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens `count` connections, a few at a time so a 2-core machine is not flooded with handshakes. */
export async function connectMany(
  url: string,
  prefix: string,
  count: number,
  parallel = 25,
): Promise<ChatClient[]> {
  const clients: ChatClient[] = [];
  for (let i = 0; i < count; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, count - i) }, (_, j) =>
      ChatClient.connect(url, `${prefix}-${i + j}`, 20_000),
    );
    clients.push(...(await Promise.all(batch)));
  }
  return clients;
}

/**
 * Joins at once, per wave, when a test sets up a room. Every join holds the room's item in a transaction
 * (functions/rooms/dynamoEntry.ts), so a wave's joins conflict and retry, and each retry's pause holds one of the
 * local Lambda service's few environments (one per core, tools/local/lambda/service.ts) while the rest of the wave
 * waits for one: 19 at once on a loaded 2-core machine left one join unanswered after 20 s. A test of a join wave
 * says so (tests/deliver/presenceWave.test.ts); a room to test something else in is filled ten at a time.
 */
const JOIN_WAVE = 10;
/**
 * How long a setup's join is waited for: the gateway answers it by its 29-second integration timeout (a reply, an
 * error frame or its timeout), so the test sees the gateway's own answer rather than a guess of its own, however
 * loaded the machine; this ceiling only ends the wait for an answer that is never coming.
 */
export const JOIN_PATIENCE_MS = 180_000;

/** Creates a room with the first client and joins the others; every member is watched by the checker. */
export async function roomWith(
  clients: ChatClient[],
  checker?: DeliveryChecker,
  parallel = JOIN_WAVE,
): Promise<string> {
  return (await roomAndKeyWith(clients, checker, parallel)).roomId;
}

/** roomWith, also giving the room's invite key for members who join later. */
export async function roomAndKeyWith(
  clients: ChatClient[],
  checker?: DeliveryChecker,
  parallel = JOIN_WAVE,
): Promise<{ roomId: string; key?: string }> {
  const [owner, ...others] = clients;
  if (!owner) throw new Error('roomWith needs a client');
  const created = await owner.expectReply({ action: 'createroom' }, 20_000);
  const roomId = String(created.roomId);
  // The invite key, as a shared link carries it: joins by code alone are limited per source (docs/SECURITY.md).
  const key = created.inviteKey as string | undefined;
  checker?.member(owner, created);
  for (let i = 0; i < others.length; i += parallel) {
    await Promise.all(
      others.slice(i, i + parallel).map(async (c) => {
        // Joins at once conflict on the room's item, and the server may answer some BUSY: asked again, as the
        // client library does (client/session.ts, JOIN_RETRY).
        const joined = await c.expectReply({ action: 'joinroom', roomId, key }, JOIN_PATIENCE_MS);
        checker?.member(c, joined);
      }),
    );
  }
  // Presence frames of later joins are not messages; nothing to wait for, but the owner has seen them all.
  await Promise.all(
    others.slice(-1).map((last) => owner.next(isPresence(roomId, 'join', last.username), 90_000)),
  );
  return { roomId, key };
}

export interface SendOutcome {
  ack: Frame;
  /** Sends needed until the ack (1 = first try). */
  attempts: number;
  /** Error frames received on the way, by code. */
  errors: string[];
}

/**
 * Sends a message with a clientMsgId and retries with the same id on BUSY / INTERNAL / RATE_LIMITED, with backoff, as the
 * protocol tells a client to: the retry must never create a second message.
 */
export function sendWithRetry(
  client: ChatClient,
  text: string,
  clientMsgId: string,
  options: { maxAttempts?: number; baseDelayMs?: number; timeoutMs?: number } = {},
): Promise<SendOutcome> {
  // The gateway's own "Internal server error" names no request, so a client has one send in flight at a time;
  // otherwise that reply could be taken for the wrong send.
  const previous = inFlight.get(client) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => sendOne(client, text, clientMsgId, options));
  inFlight.set(client, next);
  return next;
}

const inFlight = new WeakMap<ChatClient, Promise<unknown>>();

/**
 * How long a send waits for its reply before the test gives up on it. The send does not race the gateway's 29 s
 * integration timeout: the gateway answers every send, with the reply or `Endpoint request timed out` (retried
 * below) 29 s after its function started (a wait for one of this machine's environments is not counted: on AWS it
 * would have started at once), so a send always ends in a reply however loaded the machine is. This ceiling only
 * ends the wait for a reply that is never coming (a socket gone), and is far beyond any machine's delay; the rule of
 * the 29 s itself is tested with the timeout injected smaller (tests/local/gatewayManagement.test.ts).
 */
const REPLY_WAIT_MS = 180_000;

async function sendOne(
  client: ChatClient,
  text: string,
  clientMsgId: string,
  { maxAttempts = 12, baseDelayMs = 100, timeoutMs = REPLY_WAIT_MS } = {},
): Promise<SendOutcome> {
  const errors: string[] = [];
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const reply = await client.ask({ action: 'sendmessage', message: text, clientMsgId }, timeoutMs);
    if (reply.type === 'ack') return { ack: reply, attempts: attempt, errors };
    // The gateway's own "Internal server error" (the function failed or timed out) is retried like any error.
    const code = isGatewayError(reply) ? 'GATEWAY_ERROR' : String(reply.code);
    if (code !== 'BUSY' && code !== 'INTERNAL' && code !== 'RATE_LIMITED' && code !== 'GATEWAY_ERROR')
      throw new Error(`send ${clientMsgId} refused: ${JSON.stringify(reply)}`);
    errors.push(code);
    await sleep(Math.min(2000, baseDelayMs * 2 ** (attempt - 1)));
  }
  throw new Error(`send ${clientMsgId} not acked after ${maxAttempts} attempts (${errors.join(', ')})`);
}

export async function closeAll(clients: ChatClient[]): Promise<void> {
  await Promise.all(
    clients.map((c) => {
      if (!c.isOpen) {
        c.terminate();
        return Promise.resolve();
      }
      // An unref'd grace timer: once every socket is closed, nothing is left to keep the test process alive.
      const grace = new Promise((resolve) => setTimeout(resolve, 2000).unref());
      return Promise.race([c.close(), grace]).then(() => c.terminate());
    }),
  );
}

/**
 * A fault file's end: its clients closed, with DUMP_LOGS the cloud's first warnings and errors printed (what to read
 * when a fault test fails), its admin DynamoDB client destroyed and the cloud closed.
 */
export async function closeFaultCloud(
  testCloud: TestCloud | undefined,
  open: ChatClient[],
  tables?: CloudTables,
): Promise<void> {
  await closeAll(open);
  if (process.env.DUMP_LOGS && testCloud)
    process.stdout.write(
      `${testCloud.logs
        .filter((l) => /WARN|ERROR/.test(l))
        .slice(0, 40)
        .join('\n')}\n`,
    );
  tables?.db.destroy();
  await testCloud?.cloud.close();
}

/** Polls until `check` is true or the time is up; answers whether it became true. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
}

/** The figures of one test, printed and appended to a file the dated record (docs/MEASUREMENTS.md) is written from. */
export const FIGURES_FILE = join(tmpdir(), 'roomcast-reliability-figures.jsonl');

export function recordFigures(test: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ test, at: new Date().toISOString(), ...figures });
  appendFileSync(FIGURES_FILE, `${line}\n`);
  process.stdout.write(`[figures] ${line}\n`);
}
