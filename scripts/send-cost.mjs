#!/usr/bin/env node
// node scripts/send-cost.mjs [--members M] [--sends S] [--rate R] [-- <local cloud arguments>]
// The send path alone: a fresh local cloud in a child process (tools/bench/childCloud.ts), M members in its lobby, S
// `sendmessage` frames at R per second from the members in turn (each with a clientMsgId). Prints the ack latency
// (from the frame leaving to its ack) and the CPU each send costs: the cloud process's whole CPU time (gateway,
// dynalite, IAM checks, EventBridge, Step Functions, every sandbox) and each function's sandboxes on their own, over
// the timed sends, divided by S. With few members the fan-out is small, so this is what one send costs the machine.
// The members are the client library's lean clients (no frame of their own besides the sends, no retry).
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
const { createRoomcastClient } = await import('@roomcast/client');

/** `ws` without per-message deflate (API Gateway offers none), as the client's WebSocket class. */
class SenderSocket extends WebSocket {
  constructor(url) {
    super(url, { perMessageDeflate: false });
  }
}
const cloud = await startChildCloud({
  args: [
    '--log-level',
    'ERROR',
    '--parameter',
    'SendRateLimit=1000',
    '--parameter',
    'FrameRateLimit=100000',
    ...positionals,
  ],
});
try {
  const chats = await Promise.all(
    Array.from({ length: members }, async (_, i) => {
      const chat = createRoomcastClient({
        url: cloud.wsUrl,
        username: `sender-${i}`,
        WebSocket: SenderSocket,
        lean: true,
        maxSendAttempts: 1, // an error answers the send: counted as not acked, not retried
        requestTimeoutMs: 60_000,
      });
      await chat.ready(30_000);
      return chat;
    }),
  );
  let unanswered = 0;
  let timing = false;
  const ackMs = [];
  // Each send gets a clientMsgId from the client; its ack (or error) settles it.
  const send = (i, id) => {
    const started = performance.now();
    const timed = timing;
    unanswered++;
    chats[i % members]
      .send(`send ${id}`)
      .then(
        () => timed && ackMs.push(performance.now() - started),
        () => undefined,
      )
      .finally(() => unanswered--);
  };
  // Warm-up, not timed: cold starts of SendMessage and Deliver.
  for (let i = 0; i < 4; i++) {
    send(i, `warm-${i}`);
    await sleep(300);
  }
  timing = true;
  const cpuBefore = processCpuMs(cloud.pid);
  const lambdaBefore = await cloud.lambdaCpuUs();
  const started = performance.now();
  for (let i = 0; i < sends; i++) {
    send(i, `send-${i}`);
    await sleep(Math.max(0, started + ((i + 1) * 1000) / rate - performance.now()));
  }
  const giveUpAt = Date.now() + 60_000;
  while (unanswered > 0 && Date.now() < giveUpAt) await sleep(50);
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
  for (const chat of chats) chat.close();
} finally {
  await cloud.stop();
}
