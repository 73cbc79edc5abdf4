#!/usr/bin/env node
// Measures a reconnect as a user lives it: the gateway closes a member's connection (DELETE @connections), the
// room goes on talking, and the clock stops when the member's client is back in the room with every message.
//   node scripts/build.mjs --quiet && node dist/local/cli.js --http-port 0 --ws-port 0 [--api-latency-ms 20] &
//   node scripts/reconnect-time.mjs ws://127.0.0.1:PORT/prod [--rounds 20] [--messages 5] [--region us-east-1]
import { parseArgs } from 'node:util';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { createRoomcastClient } from '@roomcast/client';
import WebSocket from 'ws';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '20' },
    messages: { type: 'string', default: '5' },
    region: { type: 'string', default: 'us-east-1' },
  },
});
const url = positionals[0];
if (!url) {
  console.error('usage: node scripts/reconnect-time.mjs ws://HOST:PORT/STAGE [--rounds N] [--messages N]');
  process.exit(2);
}
const rounds = Number(values.rounds);
const messages = Number(values.messages);
// The local cloud checks every management-API call's signature: this one is signed with the documented local admin
// key (docs/PARITY.md, IAM), in the template's region (us-east-1 unless the template says otherwise).
const management = new ApiGatewayManagementApiClient({
  endpoint: url.replace(/^ws/, 'http'),
  region: values.region,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

const open = async (username) => {
  // Generous request timeout: on a busy machine a cold function may take seconds, and a timeout would add a reconnect.
  const chat = createRoomcastClient({ url, username, WebSocket, requestTimeoutMs: 30_000 });
  await chat.ready(30_000);
  return chat;
};
const alice = await open(`alice-${process.pid}`);
const bob = await open(`bob-${process.pid}`);
const { roomId } = await alice.createRoom();
await bob.join(roomId);
await alice.send('warm-up');

const waitFor = (condition) =>
  new Promise((resolve) => {
    const check = () => (condition() ? resolve() : setTimeout(check, 1));
    check();
  });

const times = [];
const reopened = [];
let opened = 0;
bob.on('state', ({ state }) => {
  if (state === 'resuming') opened = performance.now();
});
for (let round = 0; round < rounds; round++) {
  const { connectionId } = await bob.info();
  const started = performance.now();
  opened = 0;
  await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
  const acks = await Promise.all(
    Array.from({ length: messages }, (_, i) => alice.send(`round ${round} message ${i}`)),
  );
  const last = Math.max(...acks.map((a) => a.seq));
  await waitFor(() => bob.state === 'ready' && bob.lastSeq >= last);
  times.push(performance.now() - started);
  reopened.push(opened - started);
}
alice.close();
bob.close();

const summary = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(0);
  return `median ${at(0.5)} ms, p90 ${at(0.9)} ms, min ${at(0)} ms, max ${at(1)} ms`;
};
console.log(`${rounds} rounds, ${messages} messages missed each`);
console.log(`  gateway closes -> new socket open:  ${summary(reopened)}`);
console.log(`  gateway closes -> caught up:        ${summary(times)}`);
