#!/usr/bin/env node
// node scripts/client-cost.mjs [--members FILE.ts] [--full-client] [--clients N] [--messages K] [--runs R]
// The receiving side's CPU per message, alone: N members in this process connect to a plain `ws` server in a child
// process, which broadcasts K message frames to all of them (a frame every 2 ms); this process's CPU time (user +
// system) from the first frame to the last receipt, divided by N × K, is the cost of one received message. The
// bench's members (tools/bench/members.ts, or another version of that file with --members, e.g. one from `git show`)
// are measured by default; --full-client measures plain clients of client/ (resume, keepalive, seq order) instead.
// Not a benchmark of roomcast: no cloud, no functions, one process per side. Run it on an idle machine.
import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    serve: { type: 'boolean' },
    members: { type: 'string', default: join(root, 'tools/bench/members.ts') },
    'full-client': { type: 'boolean' },
    clients: { type: 'string', default: '500' },
    messages: { type: 'string', default: '100' },
    runs: { type: 'string', default: '3' },
  },
});

if (values.serve) {
  process.on('disconnect', () => process.exit(0));
  serve();
} else await main();

/** The child: a plain WebSocket server that answers `history` (for full clients) and broadcasts on request. */
async function serve() {
  const { WebSocketServer } = await import('ws');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  wss.on('connection', (ws) =>
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data));
      if (frame.action === 'history') {
        ws.send(
          JSON.stringify({
            type: 'history',
            roomId: 'lobby',
            messages: [],
            hasMore: false,
            requestId: frame.requestId,
          }),
        );
      }
    }),
  );
  wss.on('listening', () => process.send({ port: wss.address().port }));
  process.on('message', async ({ from, count }) => {
    for (let seq = from; seq < from + count; seq++) {
      const frame = JSON.stringify({
        type: 'message',
        roomId: 'lobby',
        seq,
        messageId: `m${seq}`,
        username: 'cost',
        text: `message ${seq} ${'x'.repeat(80)}`,
        sentAt: new Date().toISOString(),
      });
      for (const ws of wss.clients) ws.send(frame);
      await new Promise((r) => setTimeout(r, 2));
    }
  });
}

async function main() {
  const n = Number(values.clients);
  const k = Number(values.messages);
  const server = fork(fileURLToPath(import.meta.url), ['--serve']);
  const { port } = await new Promise((ok) => server.once('message', ok));
  const url = `ws://127.0.0.1:${port}/prod`;
  const receivers = values['full-client'] ? await fullClients(url, n) : await benchMembers(url, n);
  let from = 1;
  const perMessage = [];
  for (let run = 0; run < Number(values.runs); run++) {
    const last = from + k - 1;
    const done = receivers.received(last, n);
    const cpu = process.cpuUsage();
    server.send({ from, count: k });
    await done;
    const used = process.cpuUsage(cpu);
    perMessage.push((used.user + used.system) / (n * k));
    from += k;
  }
  await receivers.close();
  server.kill();
  const sorted = [...perMessage].sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      receiver: values['full-client'] ? 'client/ (full)' : values.members,
      clients: n,
      messages: k,
      cpuUsPerMessage: perMessage.map((v) => Math.round(v * 10) / 10),
      medianCpuUsPerMessage: Math.round((sorted[Math.floor(sorted.length / 2)] ?? Number.NaN) * 10) / 10,
    }),
  );
}

/** The bench's Members class from a members.ts, bundled with esbuild (its dependencies stay in node_modules). */
async function benchMembers(url, n) {
  const { build } = await import('esbuild');
  const outdir = join(root, 'node_modules/.cache/client-cost');
  mkdirSync(outdir, { recursive: true });
  const outfile = join(outdir, `members-${process.pid}.cjs`);
  await build({
    entryPoints: [resolve(values.members)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    logLevel: 'warning',
  });
  const { Members } = (await import(pathToFileURL(outfile).href)).default;
  const members = new Members();
  await members.connect(url, n, 'cost');
  return members;
}

/** Plain clients of client/: each resumes the lobby (one history request) and hands messages over in seq order. */
async function fullClients(url, n) {
  const { default: WebSocket } = await import('ws');
  const { createRoomcastClient } = await import('@roomcast/client');
  const count = new Map();
  const waiting = new Map();
  const clients = [];
  for (let i = 0; i < n; i++) {
    const chat = createRoomcastClient({ url, username: `cost-${i}`, WebSocket });
    chat.on('message', ({ seq }) => {
      const c = (count.get(seq) ?? 0) + 1;
      count.set(seq, c);
      if (c === n) waiting.get(seq)?.();
    });
    clients.push(chat);
  }
  await Promise.all(clients.map((c) => c.ready()));
  return {
    received: (seq) => new Promise((done) => waiting.set(seq, done)),
    close: async () => {
      for (const c of clients) c.close();
    },
  };
}
