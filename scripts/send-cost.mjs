#!/usr/bin/env node
// node scripts/send-cost.mjs [--members M] [--sends S] [--rate R] [-- <local cloud arguments>]
// The send path alone: a fresh local cloud in a child process (bench/childCloud.ts), M members in its lobby, S
// `sendmessage` frames at R per second from the members in turn (each with a clientMsgId). Prints the ack latency
// (from the frame leaving to its ack) and the CPU each send costs: the cloud process's whole CPU time (gateway,
// dynalite, IAM checks, EventBridge, Step Functions, every sandbox) and each function's sandboxes on their own, over
// the timed sends, divided by S. With few members the fan-out is small, so this is what one send costs the machine.
// Not a test: run it on an idle machine (`npm run build` first). Example: node scripts/send-cost.mjs --rate 20
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    members: { type: 'string', default: '2' },
    sends: { type: 'string', default: '200' },
    rate: { type: 'string', default: '10' },
  },
});
const members = Number(values.members);
const sends = Number(values.sends);
const rate = Number(values.rate);

/** User + system CPU of a process so far, in ms (/proc/<pid>/stat, clock ticks of 10 ms). */
function processCpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const { startChildCloud } = await import(pathToFileURL(join(root, 'dist/bench/childCloud.js')).href);
const cloud = await startChildCloud({
  args: ['--log-level', 'ERROR', '--parameter', 'SendRateLimit=1000', ...positionals],
});
try {
  const sockets = await Promise.all(
    Array.from(
      { length: members },
      (_, i) =>
        new Promise((open, fail) => {
          const ws = new WebSocket(`${cloud.wsUrl}?username=sender-${i}`, { perMessageDeflate: false });
          ws.once('open', () => open(ws));
          ws.once('error', fail);
        }),
    ),
  );
  const sentAt = new Map();
  const ackMs = [];
  for (const ws of sockets) {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data));
      const started = sentAt.get(frame.clientMsgId);
      if (started === undefined || (frame.type !== 'ack' && frame.type !== 'error')) return;
      sentAt.delete(frame.clientMsgId);
      if (frame.type === 'ack') ackMs.push(performance.now() - started);
    });
  }
  const send = (i, id) => {
    sentAt.set(id, performance.now());
    sockets[i % members].send(
      JSON.stringify({ action: 'sendmessage', message: `send ${id}`, clientMsgId: id }),
    );
  };
  // Warm-up, not timed: cold starts of SendMessage and Deliver.
  for (let i = 0; i < 4; i++) {
    send(i, `warm-${i}`);
    await sleep(300);
  }
  ackMs.length = 0;
  const cpuBefore = processCpuMs(cloud.pid);
  const lambdaBefore = await cloud.lambdaCpuUs();
  const started = performance.now();
  for (let i = 0; i < sends; i++) {
    send(i, `send-${i}`);
    await sleep(Math.max(0, started + ((i + 1) * 1000) / rate - performance.now()));
  }
  const giveUpAt = Date.now() + 60_000;
  while (sentAt.size > 0 && Date.now() < giveUpAt) await sleep(50);
  const cloudCpuMs = processCpuMs(cloud.pid) - cpuBefore;
  const lambdaAfter = await cloud.lambdaCpuUs();
  ackMs.sort((a, b) => a - b);
  const at = (p) =>
    Math.round(ackMs[Math.min(ackMs.length - 1, Math.ceil(p * ackMs.length) - 1)] ?? Number.NaN);
  const sandboxUsPerSend = Object.fromEntries(
    Object.entries(lambdaAfter)
      .map(([fn, us]) => [fn, Math.round((us - (lambdaBefore[fn] ?? 0)) / sends)])
      .filter(([, us]) => us > 0),
  );
  console.log(
    JSON.stringify({
      members,
      sends,
      rate,
      acked: ackMs.length,
      ackP50Ms: at(0.5),
      ackP99Ms: at(0.99),
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      cloudCpuMsPerSend: Number((cloudCpuMs / sends).toFixed(1)),
      sandboxCpuUsPerSend: sandboxUsPerSend,
    }),
  );
  for (const ws of sockets) ws.close();
} finally {
  await cloud.stop();
}
