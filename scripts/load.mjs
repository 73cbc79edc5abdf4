#!/usr/bin/env node
// npm run load [-- --deployed | --target wss://... | --port N | --scenario FILE]
// Starts the local cloud on free ports, runs artillery's WebSocket scenario (tools/load/local.yml) against it, stops
// the cloud and prints the chat figures. With --port N it runs tools/load/local.yml against the local chat already
// running on that WebSocket port (`npm start`, which a person may be watching) and starts nothing. With --deployed
// (URL from ROOMCAST_WS_URL) or --target URL it runs tools/load/deployed.yml against that URL and starts nothing.
//
// artillery is not a dependency: it runs through `npx` at a pinned version, without browsers and with its
// telemetry stubbed (tools/load/no-telemetry.cjs), so it works offline once npx has cached it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import localLimitsModule from '../tools/load/localLimits.js';
import signInHints from '../tools/load/signInHint.js';

const { localLimits } = localLimitsModule;

const ARTILLERY = 'artillery@2.0.21';
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const READY_TIMEOUT_MS = 30_000;
const RUN_TIMEOUT_MS = Number(process.env.LOAD_TIMEOUT_MS ?? 150_000);
/** The first run downloads artillery (about 100 MB of packages): its own, longer limit. */
const FETCH_TIMEOUT_MS = Number(process.env.LOAD_FETCH_TIMEOUT_MS ?? 600_000);

let values;
try {
  ({ values } = parseArgs({
    options: {
      deployed: { type: 'boolean' },
      target: { type: 'string' },
      port: { type: 'string' },
      scenario: { type: 'string' },
      'api-latency-ms': { type: 'string' },
      'auth-mode': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  process.stderr.write(`load: ${error.message}\nRun with --help for the options.\n`);
  process.exit(2);
}

if (values.help) {
  process.stdout.write(`Usage: npm run load -- [options]
  (none)                 start the local cloud on free ports, run tools/load/local.yml against it, stop it
  --api-latency-ms N     local cloud: add N ms to every management-API call (as on AWS)
  --auth-mode MODE       local cloud with a sign-in: token (tokens signed here), cognito or oidc (tokens from its
                         development issuer); every VU connects with its own token
                         (deployed: set ROOMCAST_TOKEN_SECRET or ROOMCAST_TOKEN_COMMAND, docs/LOAD.md)
  --deployed             run tools/load/deployed.yml against $ROOMCAST_WS_URL (the stack output WebSocketUrl)
  --target URL           run tools/load/deployed.yml against URL (wss://.../prod)
  --port N               run tools/load/local.yml against the local chat \`npm start\` is running on WebSocket port
                         N (3001 unless started with --ws-port), without a sign-in (AuthMode=none); starts nothing
  --scenario FILE        use another scenario file
`);
  process.exit(0);
}

/** --port: the WebSocket port of a local chat already running on this machine (`npm start`), checked. */
function runningLocalTarget(port) {
  if (port === undefined) return undefined;
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    console.error(
      `load: --port takes the local chat's WebSocket port (1-65535, npm start's is 3001), not "${port}"`,
    );
    process.exit(2);
  }
  if (values.target || values.deployed || values['auth-mode'] !== undefined || values['api-latency-ms']) {
    console.error(
      'load: --port runs against a local chat already running; it takes none of --target, --deployed, --auth-mode, --api-latency-ms',
    );
    process.exit(2);
  }
  return `ws://127.0.0.1:${Number(port)}`;
}
const runningLocal = runningLocalTarget(values.port);
const remoteTarget = runningLocal
  ? undefined
  : (values.target ?? (values.deployed ? process.env.ROOMCAST_WS_URL : undefined));
if (values.deployed && !remoteTarget) {
  console.error('load: --deployed needs ROOMCAST_WS_URL (the WebSocketUrl output of `sam deploy`)');
  process.exit(2);
}
const AUTH_MODES = ['token', 'cognito', 'oidc'];
if (values['auth-mode'] !== undefined && (!AUTH_MODES.includes(values['auth-mode']) || remoteTarget)) {
  console.error(`load: --auth-mode takes ${AUTH_MODES.join(', ')}, for the local cloud only`);
  process.exit(2);
}
/** AuthMode=token locally: a fresh secret for the local cloud, which the processor signs every VU's token with. */
const tokenSecret = values['auth-mode'] === 'token' ? randomBytes(32).toString('base64url') : undefined;
// The processor (artillery's workers, and the warm-up here) reads it from the environment.
if (tokenSecret) process.env.ROOMCAST_TOKEN_SECRET = tokenSecret;
const scenario = resolve(
  values.scenario ?? join(root, 'tools', 'load', remoteTarget ? 'deployed.yml' : 'local.yml'),
);

/**
 * Starts the local cloud on free ports through the bench's launcher (dist/bench/childCloud.js), which waits for the
 * cloud's JSON ready line; resolves with its WebSocket URL. The cloud's output goes to logPath.
 */
async function startLocalCloud(logPath) {
  const launcher = join(root, 'dist/bench/childCloud.js');
  if (!existsSync(launcher)) throw new Error(`${launcher} is missing; run npm run build`);
  const { startChildCloud } = await import(launcher);
  const log = createWriteStream(logPath);
  const args = ['--log-level', 'WARN'];
  if (values['api-latency-ms']) args.push('--api-latency-ms', values['api-latency-ms']);
  if (tokenSecret) args.push('--parameter', 'AuthMode=token', '--auth-secret', tokenSecret);
  else if (values['auth-mode']) args.push('--parameter', `AuthMode=${values['auth-mode']}`);
  const cloud = await startChildCloud({
    nodeArgs: ['--enable-source-maps'],
    args,
    onLine: (line) => log.write(`${line}\n`),
    readyTimeoutMs: READY_TIMEOUT_MS,
  });
  // A sign-in: each VU (and the warm-up, in this process) asks the development issuer for its token, as
  // `npm run token -- --dev-issuer` does. The processor runs the command with ROOMCAST_USERNAME set.
  if (cloud.devIssuerUrl)
    process.env.ROOMCAST_TOKEN_COMMAND = `"${process.execPath}" "${join(root, 'scripts/mint-token.mjs')}" --username "$ROOMCAST_USERNAME" --dev-issuer ${cloud.devIssuerUrl}`;
  return cloud;
}

/**
 * Runs every route once (connect, createroom, joinroom, sendmessage -> fan-out -> Deliver, leaveroom, disconnect)
 * so that the figures measure warm functions, as on a deployed stack under steady traffic, not 11 cold starts.
 */
async function warmUp(target) {
  const { default: WebSocket } = await import('ws');
  const { createRoomcastClient } = await import('@roomcast/client');
  const { tokenFor } = createRequire(import.meta.url)('../tools/load/processor.js');
  const open = async (username) => {
    const chat = createRoomcastClient({ url: target, username, token: tokenFor(username), WebSocket });
    await chat.ready();
    return chat;
  };
  const a = await open('warmup-a');
  const b = await open('warmup-b');
  const { roomId } = await a.createRoom();
  await b.join(roomId);
  const delivered = new Promise((ok) => b.on('message', ok));
  await Promise.all([a.send('warm-up'), delivered]);
  await b.leave();
  a.close();
  b.close();
}

/**
 * Fails with a sentence saying what to do when nothing accepts a WebSocket at `url` (--port with no `npm start`
 * running, or another port), or what answers is not the local chat (its handshake is refused).
 */
async function reachable(url) {
  const { default: WebSocket } = await import('ws');
  await new Promise((ok, fail) => {
    const socket = new WebSocket(url, { handshakeTimeout: 10_000 });
    socket.once('open', () => {
      socket.close();
      ok();
    });
    socket.once('error', (error) =>
      fail(
        new Error(
          `no local chat answers on ${url} (${error.code ?? error.message}): start one with \`npm start\` (its WebSocket port is 3001 unless given --ws-port), or leave out --port to start one for this run`,
        ),
      ),
    );
  });
}

/** The environment artillery runs in: no browsers, no telemetry, the target for the processor. */
function artilleryEnv(target) {
  return {
    ...process.env,
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
    ARTILLERY_DISABLE_TELEMETRY: 'true',
    NODE_OPTIONS:
      `${process.env.NODE_OPTIONS ?? ''} --require ${join(root, 'tools/load/no-telemetry.cjs')}`.trim(),
    ROOMCAST_WS_URL: target,
    npm_config_update_notifier: 'false',
  };
}

/** `npx artillery@<pinned> ...` in its own process group, stopped after timeoutMs. */
function npxArtillery(args, env, timeoutMs, what) {
  const all = ['--prefer-offline', '-y', ARTILLERY, ...args];
  console.log(`load: npx ${all.join(' ')}`);
  const child = spawn('npx', all, { cwd: root, env, stdio: 'inherit', detached: true });
  const timer = setTimeout(() => {
    console.error(`load: ${what} still running after ${timeoutMs} ms; stopping it`);
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {}
  }, timeoutMs);
  return {
    child,
    done: new Promise((done) =>
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        done(code ?? (signal ? 1 : 0));
      }),
    ),
  };
}

/**
 * Puts artillery in npx's cache first, so the run's own time limit never includes the download. npx prints nothing
 * while it downloads (about 100 MB the first time), so a line every 10 s says it is still at it.
 */
async function fetchArtillery() {
  const started = Date.now();
  console.log(`load: making sure ${ARTILLERY} is in npx's cache (the first time downloads about 100 MB)`);
  const progress = setInterval(
    () => console.log(`load: still fetching ${ARTILLERY} (${Math.round((Date.now() - started) / 1000)} s)`),
    10_000,
  );
  const code = await npxArtillery(
    ['--version'],
    artilleryEnv(''),
    FETCH_TIMEOUT_MS,
    'fetching artillery',
  ).done.finally(() => clearInterval(progress));
  if (code !== 0) throw new Error(`could not fetch ${ARTILLERY} with npx (exit ${code})`);
  console.log(`load: ${ARTILLERY} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function runArtillery(target, reportPath) {
  return npxArtillery(
    ['run', '--target', target, '--output', reportPath, scenario],
    artilleryEnv(target),
    RUN_TIMEOUT_MS,
    'artillery',
  );
}

function summarize(reportPath) {
  const { aggregate } = JSON.parse(readFileSync(reportPath, 'utf8'));
  const c = aggregate.counters ?? {};
  const s = aggregate.summaries ?? {};
  const n = (name) => c[name] ?? 0;
  const hist = (name) => {
    const h = s[name];
    return h
      ? `n=${h.count} min ${h.min} p50 ${h.median ?? h.p50} p95 ${h.p95} p99 ${h.p99} max ${h.max} ms`
      : '(none)';
  };
  const errors = Object.entries(c).filter(([k]) => k.startsWith('errors.') || k.startsWith('chat.error.'));
  const lines = [
    '',
    'roomcast load summary',
    `  virtual users    created ${n('vusers.created')}, completed ${n('vusers.completed')}, failed ${n('vusers.failed')}`,
    `  rooms            ${n('chat.rooms_created')} created`,
    `  messages         sent ${n('chat.sent')}, acked ${n('chat.acked')}, own received ${n('chat.received_own')}, others received ${n('chat.received_others')}`,
    `  lost             own missing ${n('chat.own_missing')}, room seqs missing ${n('chat.seq_missing')}, duplicates ${n('chat.duplicates')}, resync frames ${n('chat.resyncs')}`,
    `  chat.latency_ms  ${hist('chat.latency_ms')}   (send -> sender gets its own message)`,
    `  chat.fanout_ms   ${hist('chat.fanout_ms')}   (send -> another member gets it)`,
    `  chat.ack_ms      ${hist('chat.ack_ms')}`,
    `  chat.join_ms     ${hist('chat.join_ms')}`,
    `  errors           ${errors.length ? errors.map(([k, v]) => `${k}=${v}`).join(', ') : 'none'}`,
  ];
  const hint = signInHints.signInHint(errors.map(([k]) => k));
  if (hint) lines.push(`  hint             ${hint}`);
  console.log(lines.join('\n'));
  return {
    ok:
      errors.length === 0 &&
      n('vusers.failed') === 0 &&
      n('chat.sent') > 0 &&
      n('chat.own_missing') === 0 &&
      n('chat.seq_missing') === 0 &&
      n('chat.duplicates') === 0,
    summaries: s,
  };
}

/**
 * Whether a failed run failed only on a latency threshold against the local cloud, every message delivered
 * (tools/load/localLimits.js): then it says so, with the machine's cores and load average, and passes.
 */
function onlyLocalLimits(code, ok, summaries, local) {
  const thresholds = parseYaml(readFileSync(scenario, 'utf8'))?.config?.ensure?.thresholds;
  const { localOnly, over } = localLimits({ code, local, delivered: ok, thresholds, summaries });
  if (!localOnly) return false;
  const load = loadavg()[0].toFixed(1);
  for (const { name, limit, measured } of over)
    console.log(`  latency          ${name} ${measured} ms over the scenario's ${limit} ms`);
  console.log(
    `  local limits     every message was delivered; the latency limits are AWS's figures, and this run had the local\n` +
      `                   cloud and the virtual users on this machine's ${availableParallelism()} cores (load average ${load}):\n` +
      `                   not a failure here. Measure latency against a deployed stack (npm run load -- --deployed).`,
  );
  return true;
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'roomcast-load-'));
  const reportPath = join(work, 'report.json');
  let cloud;
  let artillery;
  const cleanup = async () => {
    if (artillery && artillery.child.exitCode === null) {
      try {
        process.kill(-artillery.child.pid, 'SIGTERM');
      } catch {}
    }
    await cloud?.stop();
  };
  process.on('SIGINT', () => cleanup().then(() => process.exit(130)));
  process.on('SIGTERM', () => cleanup().then(() => process.exit(143)));
  try {
    // Checked first: a --port with nothing running says so at once, not after artillery's download.
    if (runningLocal) {
      await reachable(runningLocal);
      console.log(`load: the local chat at ${runningLocal} answers`);
    }
    await fetchArtillery();
    // The run's own time, from here: the download above is not part of it.
    const started = Date.now();
    let target = remoteTarget ?? runningLocal;
    if (!remoteTarget) {
      if (!runningLocal) {
        cloud = await startLocalCloud(join(work, 'local-cloud.log'));
        target = cloud.wsUrl;
        console.log(`load: local cloud ready at ${target} in ${Date.now() - started} ms`);
      }
      const warm = Date.now();
      await Promise.race([
        warmUp(target),
        new Promise((_, fail) => setTimeout(() => fail(new Error('warm-up took over 30 s')), 30_000)),
      ]);
      console.log(`load: functions warmed up in ${Date.now() - warm} ms`);
    }
    artillery = runArtillery(target, reportPath);
    const code = await artillery.done;
    if (cloud && cloud.process.exitCode !== null)
      throw new Error(`local cloud died during the run (log: ${join(work, 'local-cloud.log')})`);
    // A failed `ensure` check exits 1 with a full report: summarize it, then fail.
    if (!existsSync(reportPath)) throw new Error(`artillery exited with ${code} and wrote no report`);
    const { ok, summaries } = summarize(reportPath);
    const localOnly = onlyLocalLimits(code, ok, summaries, !remoteTarget);
    if (code !== 0 && !localOnly)
      console.log(
        `  ensure           artillery exited with ${code}: a threshold or condition failed (above)`,
      );
    console.log(
      `  wall time        ${((Date.now() - started) / 1000).toFixed(1)} s from starting the local cloud, without fetching artillery (report: ${reportPath}${cloud ? `, local cloud log: ${join(work, 'local-cloud.log')}` : ''})`,
    );
    process.exitCode = ok && (code === 0 || localOnly) ? 0 : 1;
  } catch (error) {
    console.error(`load: ${error.message}`);
    process.exitCode = 1;
  } finally {
    await cleanup();
  }
}

main();
