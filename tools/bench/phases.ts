import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import { WebSocketServer } from 'ws';
import type { ChildCloud } from './childCloud';
import { Members, now, sleep, withTimeout } from './members';
import { lossAndDuplicates, ratePerSec } from './stats';
import { handler as tutorialHandler } from './tutorial';

/** The local cloud's documented admin key and region (docs/PARITY.md, IAM): outside tools sign with it. */
const LOCAL_ADMIN_KEY = { accessKeyId: 'local', secretAccessKey: 'local' };
const REGION = 'us-east-1';

/** The measured phases of one room: the fan-out itself, the tutorial baseline and the two floors. */

export interface FanoutResult {
  latencies: number[];
  missing: number;
  duplicated: number;
}

export async function runFanout(
  members: Members,
  k: number,
  gapMs: number,
  timeoutMs: number,
): Promise<FanoutResult> {
  const n = members.size;
  const latencies: number[] = [];
  const seqs: number[] = [];
  for (let i = 0; i < k; i++) {
    const t0 = now();
    // Senders take turns: sendmessage is rate limited per member (10 messages per 10 s).
    const { seq } = await members.send(members.sent++ % n, `bench message ${i}`);
    seqs.push(seq);
    await withTimeout(members.received(seq, n), timeoutMs, `fan-out of seq ${seq} to ${n} members`).catch(
      (e: Error) =>
        process.stderr.write(`${e.message} (${members.receipts.get(seq)?.count ?? 0} received)\n`),
    );
    const r = members.receipts.get(seq);
    if (r && r.count >= n) latencies.push(r.last - t0);
    await sleep(gapMs);
  }
  await sleep(200); // late duplicates would show up here
  const { missing, duplicated } = lossAndDuplicates(seqs, members.seqs);
  return { latencies, missing, duplicated };
}

export async function runTutorial(
  members: Members,
  cloud: Pick<ChildCloud, 'dynamoEndpoint' | 'callbackUrl'>,
  table: string,
  budgetMs: number,
  expectedMs: number,
  maxMessages: number,
): Promise<number[]> {
  const n = members.size;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = cloud.dynamoEndpoint;
  process.env.AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI = cloud.callbackUrl;
  process.env.CALLBACK_URL = cloud.callbackUrl;
  process.env.CONNECTIONS_TABLE = table;
  // What the local Lambda service gives every function: a region and dummy credentials.
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  const count = Math.max(2, Math.min(maxMessages, Math.floor(budgetMs / Math.max(1, expectedMs))));
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const seq = -(i + 1) - Math.floor(Math.random() * 1e6) * 1000;
    const data = JSON.stringify({ type: 'message', roomId: 'tutorial', seq, text: `tutorial ${i}` });
    const t0 = now();
    const done = members.received(seq, n);
    await tutorialHandler({
      requestContext: { connectionId: 'bench' },
      body: JSON.stringify({ action: 'sendmessage', data }),
    });
    await withTimeout(done, 60_000, `tutorial fan-out ${i}`);
    latencies.push((members.receipts.get(seq)?.last ?? NaN) - t0);
    // Sequential posts are slow by design: stop once the budget is spent (after at least two messages).
    if (latencies.length >= 2 && latencies.reduce((a, b) => a + b, 0) > budgetMs) break;
  }
  return latencies;
}

export async function scanConnectionIds(endpoint: string, table: string): Promise<string[]> {
  const db = new DynamoDBClient({
    endpoint,
    region: REGION,
    credentials: LOCAL_ADMIN_KEY,
  });
  const ids: string[] = [];
  let startKey: ScanCommandOutput['LastEvaluatedKey'];
  do {
    const page = await db.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
    for (const item of page.Items ?? []) if (item.connectionId?.S) ids.push(item.connectionId.S);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  db.destroy();
  return ids;
}

/** Raw POSTs to the management endpoint: keep-alive, `concurrency` in flight, `total` posts or `maxMs`. */
export async function rawPostRate(
  callbackUrl: string,
  ids: string[],
  total: number,
  maxMs: number,
  concurrency = 64,
) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const url = new URL(callbackUrl);
  const body = JSON.stringify({ type: 'floor', roomId: 'ABCDEF', seq: 0, text: 'x'.repeat(120) });
  let sent = 0;
  let ok = 0;
  const started = now();
  const deadline = started + maxMs;
  // The management API checks IAM: each post is signed with the documented local admin key (docs/PARITY.md), as
  // a tool would sign it, with the SDK's own signer and hash.
  const sha256 = new ApiGatewayManagementApiClient({ region: REGION, credentials: LOCAL_ADMIN_KEY }).config
    .sha256;
  const signer = new SignatureV4({
    credentials: LOCAL_ADMIN_KEY,
    region: REGION,
    service: 'execute-api',
    sha256,
    applyChecksum: false,
  });
  const one = async (id: string) => {
    const path = `${url.pathname}/@connections/${encodeURIComponent(id)}`;
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      path,
      query: {},
      headers: {
        host: url.host,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
    return new Promise<void>((done) => {
      const req = request(
        { agent, host: url.hostname, port: url.port, method: 'POST', path, headers: signed.headers },
        (res) => {
          if (res.statusCode === 200) ok++;
          res.resume();
          res.on('end', done);
        },
      );
      req.on('error', () => done());
      req.end(body);
    });
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total && now() < deadline) {
        const id = ids[sent++ % ids.length] as string;
        await one(id);
      }
    }),
  );
  const elapsed = now() - started;
  agent.destroy();
  return { posts: ok, rate: ratePerSec(ok, elapsed) };
}

/** The floor of a broadcast: one process sends the frame to N `ws` sockets; time to the last receipt. */
export async function rawWsBroadcast(n: number, k: number, gapMs: number) {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    perMessageDeflate: false,
    clientTracking: true,
  });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as AddressInfo).port;
  const members = new Members();
  await members.connect(`ws://127.0.0.1:${port}/`, n, 'raw');
  while (wss.clients.size < n) await sleep(10);
  const latencies: number[] = [];
  for (let i = 0; i < k; i++) {
    const seq = 1_000_000 + i;
    const frame = JSON.stringify({
      type: 'message',
      roomId: 'RAWRAW',
      seq,
      messageId: 'x',
      username: 'raw',
      text: `m${i}`,
    });
    const done = members.received(seq, n);
    const t0 = now();
    for (const ws of wss.clients) ws.send(frame);
    await withTimeout(done, 30_000, 'raw ws broadcast');
    latencies.push((members.receipts.get(seq)?.last ?? NaN) - t0);
    await sleep(gapMs);
  }
  await members.close();
  await new Promise<void>((r) => wss.close(() => r()));
  return latencies;
}
