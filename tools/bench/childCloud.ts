import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Starts the local cloud in a CHILD process (`node dist/local/cli.js --ready-json ...`) and waits for its one JSON
 * ready line: the URLs come from that line, never from the human banner. Used by the bench and `npm run load`.
 * The child has an IPC channel, through which it tells the CPU time of each function's sandboxes.
 */

/** The repository: this file runs from tools/bench/ (tests) or, built, from dist/bench/: two folders down either way. */
const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'local', 'cli.js');

/** What `cli.js --ready-json` prints once every listener is up. */
export interface ReadyLine {
  ready: true;
  httpUrl: string;
  wsUrl: string;
  callbackUrl: string;
  dynamoEndpoint: string;
  eventsEndpoint: string;
  restEndpoints: string[];
  /** With a sign-in (AuthMode cognito or oidc): the development issuer, which mints tokens (tools/local/oidc.ts). */
  devIssuerUrl?: string;
  readyMs: number;
}

export interface ChildCloudOptions {
  /** Arguments of cli.js after `--http-port 0 --ws-port 0 --ready-json` (e.g. `--api-latency-ms 20`). */
  args?: string[];
  /** Arguments for node itself, before cli.js (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** Each stdout/stderr line of the cloud after the ready line (function logs). */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  readyTimeoutMs?: number;
}

export interface ChildCloud extends ReadyLine {
  process: ChildProcess;
  pid: number;
  /** CPU time (µs) used so far by each function's live sandboxes, by logical id. */
  lambdaCpuUs(): Promise<Record<string, number>>;
  /** Highest VmRSS the 100 ms sampler saw (MB). */
  peakSampledMb(): number;
  stop(): Promise<void>;
}

/** VmRSS and VmHWM (peak) of a process, in MB, from /proc (Linux). */
export function memoryOf(pid: number): { rssMb: number; hwmMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** Reads the first line that parses as `{"ready":true,...}`; every other line goes to `onLine`. */
function lines(stream: NodeJS.ReadableStream | null, each: (line: string) => void): void {
  let buffered = '';
  stream?.on('data', (d: Buffer) => {
    buffered += d.toString();
    let end = buffered.indexOf('\n');
    while (end !== -1) {
      each(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
      end = buffered.indexOf('\n');
    }
  });
}

function parseReady(line: string): ReadyLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(line) as Partial<ReadyLine>;
    return parsed.ready === true && typeof parsed.wsUrl === 'string' ? (parsed as ReadyLine) : undefined;
  } catch {
    return undefined;
  }
}

export async function startChildCloud(options: ChildCloudOptions = {}): Promise<ChildCloud> {
  const args = [
    ...(options.nodeArgs ?? []),
    CLI,
    '--http-port',
    '0',
    '--ws-port',
    '0',
    '--ready-json',
    ...(options.args ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let stderrTail = '';
  let ready: ReadyLine | undefined;
  const readyLine = new Promise<ReadyLine>((resolveReady, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`local cloud not ready in ${options.readyTimeoutMs ?? 30_000} ms: ${stderrTail}`));
    }, options.readyTimeoutMs ?? 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local cloud exited with ${code} before it was ready: ${stderrTail}`));
    });
    lines(child.stdout, (line) => {
      if (ready) return options.onLine?.(line, 'stdout');
      ready = parseReady(line);
      if (ready) {
        clearTimeout(timer);
        resolveReady(ready);
      }
    });
  });
  lines(child.stderr, (line) => {
    stderrTail = `${stderrTail}${line}\n`.slice(-4_000);
    options.onLine?.(line, 'stderr');
  });
  const urls = await readyLine;
  const pid = child.pid as number;
  let peak = 0;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, memoryOf(pid).rssMb);
    } catch {
      /* exited */
    }
  }, 100);
  sampler.unref();
  return {
    ...urls,
    process: child,
    pid,
    peakSampledMb: () => peak,
    lambdaCpuUs: () =>
      new Promise((resolveCpu, reject) => {
        const timer = setTimeout(
          () => reject(new Error('the local cloud did not answer lambda-cpu')),
          10_000,
        );
        const answer = (message: { type?: string; cpuUs?: Record<string, number> }) => {
          if (message?.type !== 'lambda-cpu') return;
          clearTimeout(timer);
          child.off('message', answer);
          resolveCpu(message.cpuUs ?? {});
        };
        child.on('message', answer);
        child.send({ type: 'lambda-cpu' });
      }),
    stop: async () => {
      clearInterval(sampler);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
