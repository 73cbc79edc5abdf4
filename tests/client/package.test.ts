import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LocalCloud } from '../../tools/local/cloud';
import { startTestCloud } from '../helpers/localCloud';
import { withRepoBuildLock } from '../helpers/repoBuildLock';

/**
 * @roomcast/client as someone outside this repository gets it: `npm pack` makes the tarball, an empty project
 * installs it (with `ws`, packed from this repository's node_modules, so the install needs no registry), type-checks
 * code against it under `strict` with `node16` resolution as an ES module and as CommonJS, loads it both ways, and
 * two clients of the installed copy chat through the local cloud.
 */
jest.setTimeout(600_000);

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const TSC = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

let work: string;
let project: string;
let cloud: LocalCloud;
let cloudStarted: Promise<void> | undefined;

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd });
  return stdout;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'roomcast-package-'));
  project = join(work, 'app');
  mkdirSync(project);
  // The local cloud starts while npm packs and installs: neither waits for the other.
  cloudStarted = startTestCloud().then((test) => {
    cloud = test.cloud;
  });
  // ws and its types (with theirs), from this repository's node_modules: the install needs no registry.
  const deps = ['ws', '@types/ws', '@types/node', 'undici-types'].map((d) => join(root, 'node_modules', d));
  const [packJson] = await Promise.all([
    // Its prepack rebuilds client/dist: not while another test file builds the repository (repoBuildLock.ts).
    withRepoBuildLock(() => npm(['pack', '--json', '--pack-destination', work], join(root, 'client'))),
    npm(['pack', '--ignore-scripts', '--pack-destination', work, ...deps], work),
  ]);
  const packed = JSON.parse(packJson);
  const tarballs = readdirSync(work).filter((f) => f.endsWith('.tgz'));
  expect(tarballs).toHaveLength(5);
  // What the tarball holds: the two builds, their declarations, the README; no sources, no tests.
  const files = (packed[0].files as Array<{ path: string }>).map((f) => f.path).sort();
  expect(files).toEqual(
    expect.arrayContaining([
      'README.md',
      'dist/index.cjs',
      'dist/index.d.cts',
      'dist/index.d.mts',
      'dist/index.mjs',
      'package.json',
    ]),
  );
  expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.mts') && !f.endsWith('.d.cts'))).toEqual(
    [],
  );
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'app', private: true, version: '1.0.0' }),
  );
  await npm(['install', '--offline', ...tarballs.map((t) => join(work, t))], project);
  await cloudStarted;
}, 600_000);

afterAll(async () => {
  // A set-up that failed half-way may leave the cloud still starting: it is closed once up.
  await cloudStarted?.catch(() => undefined);
  await cloud?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

it('type-checks under strict with node16 resolution, as an ES module and as CommonJS', async () => {
  // Real types, not `any`: each @ts-expect-error must find an error, or tsc fails. `ws`'s class is passed as it is.
  const uses = `
const chat = createRoomcastClient({ url: 'ws://127.0.0.1:3001/prod', username: 'ann', WebSocket: Socket, autoConnect: false });
chat.on('message', (m: MessageFrame) => {
  const seq: number = m.seq;
  const text: string = m.text;
  void seq, text;
});
chat.on('state', ({ state }) => {
  const s: ConnectionState = state;
  void s;
});
const joined: Promise<JoinedFrame> = chat.join('ABCDEF', 'an-invite-key-16');
void joined.catch((e: unknown) => e instanceof RoomcastError && e.code === 'ROOM_NOT_FOUND');
const max: number = LIMITS.messageMaxBytes;
void max;
// @ts-expect-error a room code is a string
void chat.join(42);
// @ts-expect-error there is no such event
chat.on('mesage', () => {});
`;
  const names =
    'createRoomcastClient, LIMITS, RoomcastError, type ConnectionState, type JoinedFrame, type MessageFrame';
  writeFileSync(
    join(project, 'esm.mts'),
    `import { ${names} } from '@roomcast/client';\nimport Socket from 'ws';\n${uses}`,
  );
  writeFileSync(
    join(project, 'cjs.cts'),
    `import { ${names} } from '@roomcast/client';\nimport Socket = require('ws');\n${uses}`,
  );
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: 'node16',
        moduleResolution: 'node16',
        target: 'es2022',
        lib: ['es2022'],
        types: ['node'],
        noEmit: true,
      },
      files: ['esm.mts', 'cjs.cts'],
    }),
  );
  const { stdout } = await run(process.execPath, [TSC, '-p', project, '--traceResolution'], { cwd: project });
  // Each form resolved to its own declarations through the package's `exports`.
  expect(stdout).toMatch(/'@roomcast\/client' was successfully resolved to '.*\/dist\/index\.d\.mts'/);
  expect(stdout).toMatch(/'@roomcast\/client' was successfully resolved to '.*\/dist\/index\.d\.cts'/);
}, 240_000);

it('loads with import and with require from the installed copy', async () => {
  // Two independent child processes: they run at once.
  const [esm, cjs] = await Promise.all([
    run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import * as c from '@roomcast/client'; console.log(typeof c.createRoomcastClient, c.LOBBY)",
      ],
      { cwd: project },
    ),
    run(
      process.execPath,
      [
        '-e',
        "const c = require('@roomcast/client'); console.log(typeof c.createRoomcastClient, require.resolve('@roomcast/client'))",
      ],
      { cwd: project },
    ),
  ]);
  expect(esm.stdout.trim()).toBe('function lobby');
  expect(cjs.stdout.trim()).toBe(
    `function ${join(project, 'node_modules', '@roomcast', 'client', 'dist', 'index.cjs')}`,
  );
});

it('chats with a roomcast stack: one creates a room, the other joins it with the invite key and reads the message', async () => {
  writeFileSync(
    join(project, 'chat.mjs'),
    `import { createRoomcastClient } from '@roomcast/client';
import WebSocket from 'ws';
const url = process.argv[2];
// 20 s per request, as every test waits for a frame that must come (FRAME_TIMEOUT_MS): the first request of a fresh
// local cloud meets the cold start of its feature's function, which a loaded CI machine stretched past 10 s once.
const ann = createRoomcastClient({ url, username: 'ann', WebSocket, requestTimeoutMs: 20_000 });
const ben = createRoomcastClient({ url, username: 'ben', WebSocket, requestTimeoutMs: 20_000 });
await Promise.all([ann.ready(), ben.ready()]);
const { roomId, inviteKey } = await ann.createRoom();
await ben.join(roomId, inviteKey);
const got = new Promise((resolve) => ben.on('message', (m) => resolve(m)));
await ann.send('hello from the package');
const m = await got;
console.log(JSON.stringify({ roomId, username: m.username, text: m.text, seq: m.seq }));
ann.close();
ben.close();
`,
  );
  const { stdout } = await run(process.execPath, ['chat.mjs', cloud.wsUrl], {
    cwd: project,
    timeout: 60_000,
  });
  const said = JSON.parse(stdout.trim());
  expect(said).toEqual({
    roomId: expect.stringMatching(/^[A-HJ-NP-Z2-9]{8}$/),
    username: 'ann',
    text: 'hello from the package',
    seq: 1,
  });
}, 240_000);
