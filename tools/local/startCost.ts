// What one start of the local cloud costs, step by step: when each service was up, in ms from the process's start
// (its modules' loading included, as a test file pays it), and the process's CPU time (all its threads) to ready and
// to closed. Run by startCost.mjs, one fresh process per start as a test file's cloud starts.
import { performance } from 'node:perf_hooks';
import { startLocalCloud } from './cloud';
import { Services } from './services';

const steps: Record<string, number> = {};
const original = Services.prototype.start;
Services.prototype.start = function <T>(this: Services, name: string, start: () => unknown) {
  const promise = original.call(this, name, start as never) as Promise<T>;
  promise.then(
    () => {
      steps[name] = performance.now();
    },
    () => undefined,
  );
  return promise;
};

async function main(): Promise<void> {
  steps['modules loaded'] = performance.now();
  const cloud = await startLocalCloud({ httpPort: 0, wsPort: 0, log: () => undefined });
  const readyMs = performance.now();
  const cpu1 = process.cpuUsage();
  await cloud.close();
  const cpu2 = process.cpuUsage();
  const ms = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;
  process.stdout.write(
    `${JSON.stringify({ readyMs, cpuReadyMs: ms(cpu1), closedMs: performance.now(), cpuClosedMs: ms(cpu2), steps })}\n`,
  );
}

void main();
