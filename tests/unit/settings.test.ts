import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

/**
 * npm run settings: changes the named settings of the Settings parameter and keeps every other one, because
 * `--parameter-overrides "Settings=..."` replaces the whole string. The stack's parameters are read from a file
 * here (--parameters-file), as `aws cloudformation describe-stacks` prints them.
 */
const root = join(__dirname, '..', '..');
const script = join(root, 'scripts', 'settings.mjs');
const run = promisify(execFile);

function stackParameters(settings: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'stack-')), 'parameters.json');
  writeFileSync(
    file,
    JSON.stringify([
      { ParameterKey: 'AuthMode', ParameterValue: 'none' },
      { ParameterKey: 'Settings', ParameterValue: settings },
    ]),
  );
  return file;
}

async function settings(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], { encoding: 'utf8', env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

it("changes the named setting and keeps the stack's others", async () => {
  const file = stackParameters('LobbyPolicy=open,FanoutLogLevel=ALL');
  const { code, stdout } = await settings([
    '--stack',
    'roomcast',
    '--parameters-file',
    file,
    'SendRateLimit=20',
  ]);
  expect(code).toBe(0);
  expect(stdout).toContain('Settings next: LobbyPolicy=open,FanoutLogLevel=ALL,SendRateLimit=20\n');
  expect(stdout).toContain(
    'sam deploy --stack-name roomcast --parameter-overrides Settings=LobbyPolicy=open,FanoutLogLevel=ALL,SendRateLimit=20\n',
  );
});

it('replaces a value in place, and an empty value puts a setting back to its default', async () => {
  const file = stackParameters('SendRateLimit=10,LobbyPolicy=open');
  const { stdout } = await settings([
    '--stack',
    'roomcast',
    '--parameters-file',
    file,
    'SendRateLimit=30',
    'LobbyPolicy=',
  ]);
  expect(stdout).toContain('Settings next: SendRateLimit=30\n');
});

it('refuses a setting the template does not have, and a value out of its range, printing no command', async () => {
  const file = stackParameters('LobbyPolicy=open');
  const unknown = await settings(['--stack', 'roomcast', '--parameters-file', file, 'SendRatelimit=20']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('there is no setting SendRatelimit');
  expect(unknown.stdout).toBe('');
  const outOfRange = await settings([
    '--stack',
    'roomcast',
    '--parameters-file',
    file,
    'FanoutMaxConcurrency=41',
  ]);
  expect(outOfRange.code).toBe(2);
  expect(outOfRange.stderr).toContain('AllowedPattern refuses "LobbyPolicy=open,FanoutMaxConcurrency=41"');
  expect(outOfRange.stdout).toBe('');
});

it("starts from a samconfig profile's Settings and passes its other overrides again", async () => {
  const { stdout } = await settings(['--config-env', 'demo', 'SendRateLimit=20']);
  expect(stdout).toContain("Settings now (samconfig.toml's demo profile): LobbyPolicy=open\n");
  expect(stdout).toContain(
    "sam deploy --config-env demo --parameter-overrides 'AuthMode=none Settings=LobbyPolicy=open,SendRateLimit=20'\n",
  );
});

it('--deploy runs sam deploy with the merged Settings', async () => {
  const bin = mkdtempSync(join(tmpdir(), 'fake-sam-'));
  const record = join(bin, 'args.json');
  writeFileSync(
    join(bin, 'sam'),
    `#!${process.execPath}\nrequire('node:fs').writeFileSync(${JSON.stringify(record)}, JSON.stringify(process.argv.slice(2)));\n`,
  );
  chmodSync(join(bin, 'sam'), 0o755);
  const file = stackParameters('LobbyPolicy=open');
  const { code } = await settings(
    ['--stack', 'roomcast', '--parameters-file', file, 'SendRateLimit=20', '--deploy'],
    { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}` },
  );
  expect(code).toBe(0);
  expect(JSON.parse(readFileSync(record, 'utf8'))).toEqual([
    'deploy',
    '--stack-name',
    'roomcast',
    '--parameter-overrides',
    'Settings=LobbyPolicy=open,SendRateLimit=20',
  ]);
});
