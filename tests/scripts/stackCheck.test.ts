import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * `npm run check`, the stack check a user runs after deploying, against the local cloud: it connects, creates a
 * room, sends, receives its message back through the fan-out, reads history, pings and closes the room, one line
 * per step, and its exit code says whether everything worked.
 */
jest.setTimeout(240_000);

const script = join(__dirname, '..', '..', 'scripts', 'check-stack.mjs');

function check(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('against a running local cloud', () => {
  let testCloud: TestCloud;

  beforeAll(async () => {
    testCloud = await startTestCloud();
  });

  afterAll(async () => {
    await testCloud?.cloud.close();
  });

  it('passes every step and exits 0', async () => {
    const { code, stdout } = await check('--url', testCloud.cloud.wsUrl, '--timeout', '30');
    const steps = stdout
      .split('\n')
      .filter((line) => /^(ok|FAIL) /.test(line))
      .map((line) => line.split(/\s+/).slice(0, 3).join(' '));
    expect(steps).toEqual([
      `ok connect ws://127.0.0.1:${new URL(testCloud.cloud.wsUrl).port}/prod`,
      'ok create room',
      'ok send seq',
      'ok receive the',
      'ok history seq',
      'ok ping pong',
      'ok close room',
    ]);
    expect(stdout).toContain('all steps passed');
    expect(code).toBe(0);
  });

  it('fails the receive step, and exits 1, when the fan-out delivers nothing', async () => {
    // Every post to a connection is throttled: the send is acknowledged but nothing comes back live.
    testCloud.cloud.gateway.setFaults({ faultThrottle: 1 });
    try {
      const { code, stdout } = await check('--url', testCloud.cloud.wsUrl, '--timeout', '5');
      expect(stdout).toMatch(/^ok {2}\s*send /m);
      expect(stdout).toMatch(/^FAIL\s+receive\s+no message back from the fan-out within 5 s/m);
      expect(stdout).toMatch(/^ok\s+history /m);
      expect(code).toBe(1);
    } finally {
      testCloud.cloud.gateway.setFaults({ faultThrottle: 0 });
    }
  });
});

it('says plainly that nothing answers, and exits 1, when the URL does not', async () => {
  const { code, stdout } = await check('--url', 'ws://127.0.0.1:9/prod', '--timeout', '5');
  expect(stdout).toMatch(/^FAIL\s+connect\s+ws:\/\/127\.0\.0\.1:9\/prod: connect ECONNREFUSED/m);
  expect(stdout).toContain('1 step(s) failed');
  expect(code).toBe(1);
});

it('refuses to run without a target, with its usage', async () => {
  const { code, stderr } = await check();
  expect(stderr).toContain('give either --stack or --url');
  expect(code).toBe(2);
});
