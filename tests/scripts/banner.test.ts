import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRoomcastClient, type RoomcastClient } from '@roomcast/client';
import WebSocket from 'ws';
import { withRepoBuildLock } from '../helpers/repoBuildLock';

/**
 * What `npm start` prints is true for the stack's AuthMode: the wscat line it suggests connects, the admin route
 * is shown with the authorizer it runs, with a sign-in the development issuer's URL is named, and the page of
 * pushes it names answers.
 */
// A test here may wait for another file's build of the repository (withRepoBuildLock) and then build it again itself,
// on a machine busy with other test files and a second CI run: minutes, not seconds (at a load of 40, over four).
jest.setTimeout(600_000);

const root = join(__dirname, '..', '..');
const run = promisify(execFile);
const children: ChildProcess[] = [];
const clients: RoomcastClient[] = [];

afterAll(() => {
  for (const c of clients) c.close();
  // Each shell leads a process group of its own: the group's SIGTERM reaches start.mjs and the cloud as well.
  for (const child of children) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    } catch {
      // That group has ended already.
    }
  }
});

/**
 * Starts `npm start`'s script (scripts/start.mjs) on free ports as npm runs a script, a shell whose child is the
 * script; resolves with its banner and that shell. `built: true` says dist/ is current (ROOMCAST_DIST_BUILT=1, true
 * under Jest: its global set-up or .ci/run built it), so the script starts the cloud without bundling every function
 * again; `built: false` lets it build first, as on a fresh clone.
 */
function start(built: boolean, ...args: string[]): Promise<{ banner: string; shell: ChildProcess }> {
  const { ROOMCAST_DIST_BUILT: _built, ...env } = process.env;
  const command = [
    process.execPath,
    join(root, 'scripts', 'start.mjs'),
    '--http-port',
    '0',
    '--ws-port',
    '0',
    ...args,
  ]
    .map((word) => `"${word}"`)
    .join(' ');
  // `; :` keeps the shell a process of its own (no exec of its last command), as npm's shell is.
  const shell = spawn('sh', ['-c', `${command}; :`], {
    cwd: root,
    detached: true,
    env: built ? { ...env, ROOMCAST_DIST_BUILT: '1' } : env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(shell);
  return new Promise((resolve, reject) => {
    let out = '';
    shell.stdout?.on('data', (chunk) => {
      out += chunk;
      if (out.includes('Ctrl-C to stop.')) resolve({ banner: out, shell });
    });
    shell.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${out}`)));
  });
}

/**
 * The AuthMode=oidc cloud, started by the first test that needs it: the banner test reads it and the last test kills
 * its shell (a cloud start is seconds of CPU, so one serves both).
 */
let oidcCloud: ReturnType<typeof start> | undefined;
const oidc = () => {
  oidcCloud ??= start(true, '--parameter', 'AuthMode=oidc');
  return oidcCloud;
};

/**
 * A client of the printed URL. `reconnects`: how many times a handshake closed without an answer is tried again, as
 * an app reconnects (on a machine running two CI runs, a first $connect with its authorizer can outlast the
 * gateway's wait); 0 where a refusal is the point.
 */
async function connect(url: string, reconnects = 0): Promise<RoomcastClient> {
  const chat = createRoomcastClient({ url, WebSocket, backoff: { maxAttempts: reconnects } });
  clients.push(chat);
  await chat.ready(60_000);
  return chat;
}

it('AuthMode=oidc: names the issuer, shows the admin route behind its authorizer, and its wscat line connects', async () => {
  const { banner } = await oidc();
  expect(banner).not.toContain('(open)');
  // dist/ was built already (ROOMCAST_DIST_BUILT=1): no build ran, so none is timed.
  expect(banner).toMatch(/roomcast local cloud ready in \d+ ms\b/);
  expect(banner).not.toContain('after a build');
  expect(banner).toMatch(/sign-in\s+AuthMode=oidc: development issuer http:\/\/127\.0\.0\.1:\d+\/dev-oidc /);
  expect(banner).toMatch(
    /REST\s+POST http:\/\/127\.0\.0\.1:\d+\/admin\/broadcast\s+\(Lambda authorizer \w+: Authorization: Bearer/,
  );
  expect(banner).toMatch(
    /REST\s+POST http:\/\/127\.0\.0\.1:\d+\/broadcast\s+\(AWS_IAM on AWS, open locally\)/,
  );
  // The push service stand-in's page of pushes: named, and it answers (none sent yet).
  const pushes = /pushes\s+(http:\/\/127\.0\.0\.1:\d+\/push)\s/.exec(banner)?.[1];
  expect(pushes).toBeDefined();
  const page = await fetch(String(pushes));
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('No pushes yet.');
  const line =
    /wscat -c "(ws:\/\/[^?"]+)\?token=\$\(npm run --silent token -- (--username alice --dev-issuer (\S+))\)"/.exec(
      banner,
    );
  expect(line).not.toBeNull();
  const [, wsUrl, mintArgs] = line as RegExpExecArray;
  // The command inside $(...), as `npm run token` runs it (the build before it is already done).
  const { stdout } = await run(
    process.execPath,
    [join(root, 'scripts', 'mint-token.mjs'), ...(mintArgs as string).split(' ')],
    {
      cwd: root,
    },
  );
  const chat = await connect(`${wsUrl}?token=${stdout.trim()}`, 3);
  expect((await chat.info()).username).toBe('alice');
  // The line it replaced, ?username= without a token, is refused by the stack.
  await expect(connect(`${wsUrl}?username=alice`)).rejects.toMatchObject({ code: 'HANDSHAKE_REFUSED' });
});

// One cloud for both: `npm start` as on a fresh clone (it builds first) is also the open chat, AuthMode=none.
it("npm start: builds, gives the build time beside the cloud's own start time, and its wscat line (AuthMode=none) names the user with ?username=", async () => {
  // The build writes the repository's built files: with the lock, no other test file packs them meanwhile.
  const { banner } = await withRepoBuildLock(() => start(false));
  const times = /roomcast local cloud ready in (\d+) ms, after a build of (\d+) ms/.exec(banner);
  expect(times).not.toBeNull();
  expect(Number(times?.[2])).toBeGreaterThan(0);
  const line = /wscat -c "(ws:\/\/[^"]+\?username=alice)"/.exec(banner);
  expect(line).not.toBeNull();
  const chat = await connect((line as RegExpExecArray)[1] as string, 3);
  expect((await chat.info()).username).toBe('alice');
});

// Last: it stops the AuthMode=oidc cloud.
it('npm start: the local cloud ends with the process that started it, also when npm and its shell are killed alone', async () => {
  // Killing the shell alone (as `kill <npm's PID>` ends npm and its shell) leaves start.mjs without its parent.
  const { banner: out, shell } = await oidc();
  const port = /wscat -c "ws:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1];
  expect(port).toBeDefined();
  // Whether the cloud's WebSocket port takes a connection (this cloud refuses a handshake without a token, so the
  // port, not a handshake, tells a running cloud from a stopped one).
  const opens = () =>
    new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port: Number(port) });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  expect(await opens()).toBe(true);

  shell.kill('SIGKILL');
  // The cloud stops: its port refuses connections (start.mjs notices it has lost its parent within half a second).
  let open = true;
  for (let i = 0; i < 600 && open; i++) {
    open = await opens();
    if (open) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(open).toBe(false);
});
