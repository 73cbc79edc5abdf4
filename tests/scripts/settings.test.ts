import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

/**
 * npm run settings: shows a stack's runtime settings (defaults and the document's overrides) and changes them in
 * the settings document with `aws ssm put-parameter --overwrite`, after checking each value against the schema the
 * functions use. Here `aws` is a stand-in that keeps the parameter in a file and records each call.
 */
const root = join(__dirname, '..', '..');
const script = join(root, 'scripts', 'settings.mjs');
const run = promisify(execFile);

/** A directory with a fake `aws` holding /<stack>/settings = `document`; returns it and how to read what it holds. */
function fakeAws(document: string) {
  const bin = mkdtempSync(join(tmpdir(), 'fake-aws-'));
  const value = join(bin, 'value');
  const calls = join(bin, 'calls');
  writeFileSync(value, document);
  writeFileSync(
    join(bin, 'aws'),
    `#!${process.execPath}
const fs = require('node:fs');
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(calls)}, JSON.stringify(args) + '\\n');
if (args[1] === 'get-parameter') process.stdout.write(fs.readFileSync(${JSON.stringify(value)}, 'utf8') + '\\n');
else if (args[1] === 'put-parameter') fs.writeFileSync(${JSON.stringify(value)}, args[args.indexOf('--value') + 1]);
`,
  );
  chmodSync(join(bin, 'aws'), 0o755);
  return {
    env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}` },
    held: () => readFileSync(value, 'utf8'),
    calls: () =>
      existsSync(calls)
        ? readFileSync(calls, 'utf8')
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as string[])
        : [],
  };
}

async function settings(args: string[], env: NodeJS.ProcessEnv) {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { encoding: 'utf8', env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

it('prints every runtime setting in force, marking the overrides', async () => {
  const aws = fakeAws('{"SendRateLimit":20}');
  const { code, stdout } = await settings(['--stack', 'roomcast'], aws.env);
  expect(code).toBe(0);
  expect(stdout).toMatch(/^\* SendRateLimit +20 {2}\(default 10\)$/m);
  expect(stdout).toMatch(/^ {2}LobbyPolicy +"broadcasts"$/m);
  expect(aws.calls()).toEqual([
    [
      'ssm',
      'get-parameter',
      '--name',
      '/roomcast/settings',
      '--query',
      'Parameter.Value',
      '--output',
      'text',
    ],
  ]);
});

it("changes the named settings, keeps the document's others, and removes one given empty", async () => {
  const aws = fakeAws('{"LobbyPolicy":"open","StrikeLimit":5}');
  const { code } = await settings(['--stack', 'roomcast', 'SendRateLimit=12', 'LobbyPolicy='], aws.env);
  expect(code).toBe(0);
  expect(JSON.parse(aws.held())).toEqual({ StrikeLimit: 5, SendRateLimit: 12 });
  expect(aws.calls().at(-1)).toEqual([
    'ssm',
    'put-parameter',
    '--name',
    '/roomcast/settings',
    '--value',
    '{"StrikeLimit":5,"SendRateLimit":12}',
    '--overwrite',
  ]);
});

it('refuses a value out of range, naming the setting and its range, and writes nothing', async () => {
  const aws = fakeAws('{}');
  const { code, stderr } = await settings(['--stack', 'roomcast', 'ConnectionsPerSource=5000'], aws.env);
  expect(code).toBe(2);
  expect(stderr).toContain(
    'ConnectionsPerSource must be a whole number from 0 to 1000, got 5000: nothing was written',
  );
  expect(aws.calls()).toEqual([]);
  expect(aws.held()).toBe('{}');
});

it('refuses settings that together break a rule between them (the frame guard above the send rate), writing nothing', async () => {
  const aws = fakeAws('{"FrameRateLimit":150}');
  const raised = await settings(['--stack', 'roomcast', 'SendRateLimit=20'], aws.env);
  expect(raised.code).toBe(0);
  const lowered = await settings(['--stack', 'roomcast', 'FrameRateLimit='], aws.env);
  expect(lowered.code).toBe(2);
  expect(lowered.stderr).toContain(
    'FrameRateLimit (100) must exceed the sends a connection may make in its window, SendRateLimit × (FrameRateWindowSeconds / SendRateWindowSeconds + 1) = 140',
  );
  expect(lowered.stderr).toContain('nothing was written');
  expect(JSON.parse(aws.held())).toEqual({ FrameRateLimit: 150, SendRateLimit: 20 });
});

it('refuses a name that is no setting, and a choice not allowed', async () => {
  const aws = fakeAws('{}');
  const unknown = await settings(['--stack', 'roomcast', 'SendRatelimit=20'], aws.env);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('there is no setting SendRatelimit');
  const choice = await settings(['--stack', 'roomcast', 'LobbyPolicy=everyone'], aws.env);
  expect(choice.stderr).toContain('LobbyPolicy must be one of open, broadcasts, off, got "everyone"');
  expect(aws.calls()).toEqual([]);
});

it('says a deploy-time constant lives in template.yaml and needs a redeploy', async () => {
  const aws = fakeAws('{}');
  const { code, stderr } = await settings(['--stack', 'roomcast', 'FanoutChunkSize=50'], aws.env);
  expect(code).toBe(2);
  expect(stderr).toContain(
    'FanoutChunkSize is a deploy-time constant, not a runtime setting: it lives in template.yaml (Mappings.Deploy.Settings, now 100); edit it there and redeploy',
  );
  expect(aws.calls()).toEqual([]);
});
