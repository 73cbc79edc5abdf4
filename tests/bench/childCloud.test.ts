import { existsSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { type ChildCloud, startChildCloud } from '../../tools/bench/childCloud';

/**
 * The launcher the bench and `npm run load` share: it starts dist/local/cli.js with --ready-json, takes the URLs
 * from the cloud's JSON ready line (no banner scraping), and reads the sandboxes' CPU time over IPC.
 */

let cloud: ChildCloud;

beforeAll(async () => {
  if (!existsSync(join(__dirname, '..', '..', 'dist', 'local', 'cli.js'))) {
    throw new Error('dist/ is missing: run `node scripts/build.mjs --quiet` first');
  }
  cloud = await startChildCloud({ args: ['--log-level', 'ERROR'] });
}, 240_000);

afterAll(async () => {
  await cloud?.stop();
});

it('starts on free ports and hands back working URLs from the ready line', async () => {
  expect(cloud.wsUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/prod$/);
  expect(cloud.callbackUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/prod$/);
  const page = await fetch(cloud.httpUrl);
  expect(page.status).toBe(200);

  const ws = new WebSocket(`${cloud.wsUrl}?username=launcher`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const reply = new Promise<Record<string, unknown>>((resolve) =>
    ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()))),
  );
  ws.send(JSON.stringify({ action: 'sendmessage', message: 'through the launcher', clientMsgId: 'l-1' }));
  await expect(reply).resolves.toMatchObject({ type: expect.stringMatching(/^(ack|message)$/) });
  ws.close();
});

it("reports each function's sandbox CPU time, which grows when the function runs", async () => {
  const before = await cloud.lambdaCpuUs();
  expect(Object.keys(before)).toEqual(expect.arrayContaining(['DeliverFunction', 'MessagesFunction']));
  const ws = new WebSocket(`${cloud.wsUrl}?username=cpu`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  // The message comes alone, or in a `batch` when the lobby's fan-out was still busy with the previous test's.
  const delivered = new Promise<void>((resolve) =>
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as {
        type?: string;
        text?: string;
        messages?: { text?: string }[];
      };
      const texts = frame.type === 'batch' ? (frame.messages ?? []).map((m) => m.text) : [frame.text];
      if ((frame.type === 'message' || frame.type === 'batch') && texts.includes('count my CPU')) resolve();
    }),
  );
  ws.send(JSON.stringify({ action: 'sendmessage', message: 'count my CPU', clientMsgId: 'c-1' }));
  await delivered;
  const after = await cloud.lambdaCpuUs();
  expect(after.DeliverFunction).toBeGreaterThan(before.DeliverFunction ?? 0);
  expect(after.MessagesFunction).toBeGreaterThan(before.MessagesFunction ?? 0);
  ws.close();
  // A send and its fan-out through a child process's cloud; the figures, not the time, are what is checked.
}, 240_000);

it('ends when the program that started it dies without stopping it', async () => {
  const { spawn } = await import('node:child_process');
  // A parent that starts the cloud with an IPC channel, as the bench does, prints its pid once ready, and exits.
  const parent = spawn(
    process.execPath,
    [
      '-e',
      `const { spawn } = require('node:child_process');
       const cloud = spawn(process.execPath, ['dist/local/cli.js', '--http-port', '0', '--ws-port', '0', '--ready-json', '--log-level', 'ERROR'], { stdio: ['ignore', 'pipe', 'ignore', 'ipc'] });
       cloud.stdout.once('data', () => { process.stdout.write(String(cloud.pid)); process.exit(0); });`,
    ],
    { cwd: join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const pid = Number(
    await new Promise<string>((resolve) =>
      parent.stdout.once('data', (data: Buffer) => resolve(data.toString())),
    ),
  );
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    const until = Date.now() + 60_000;
    while (alive() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(alive()).toBe(false);
  } finally {
    if (alive()) process.kill(pid, 'SIGKILL');
  }
}, 240_000);
