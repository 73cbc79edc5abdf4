import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

/**
 * The documented operator commands that call the AWS CLI fail with one clear sentence, never a Node stack trace:
 * without credentials or a region the CLI refuses, and the command says which call failed and the CLI's reason.
 */
const scripts = join(__dirname, '..', '..', 'scripts');

/** A directory holding an `aws` that fails as the real CLI does without a region (exit 255, its reason on stderr). */
function failingAws(): string {
  const bin = mkdtempSync(join(tmpdir(), 'aws-'));
  const aws = join(bin, 'aws');
  writeFileSync(
    aws,
    '#!/bin/sh\necho \'You must specify a region. You can also configure your region by running "aws configure".\' >&2\nexit 255\n',
  );
  chmodSync(aws, 0o755);
  return bin;
}

function run(script: string, args: string[], path: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(scripts, script), ...args],
      { encoding: 'utf8', env: { ...process.env, PATH: path } },
      (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr }),
    );
  });
}

const noStack = (stderr: string) =>
  expect(stderr).not.toMatch(/^\s+at |node:internal|Error: Command failed/m);

describe.each([
  ['publish-web', 'publish-web.mjs', ['--stack', 'demo'], 'cloudformation describe-stacks'],
  ['settings', 'settings.mjs', ['--stack', 'demo', 'SendRateLimit=5'], 'ssm get-parameter'],
])('npm run %s', (name, script, args, call) => {
  it('says in one line which AWS call failed and the CLI reason, with no stack trace', async () => {
    const { code, stderr } = await run(script, args, `${failingAws()}:${process.env.PATH}`);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      `${name}: aws ${call} failed: You must specify a region. You can also configure your region by running "aws configure".`,
    );
    noStack(stderr);
  });

  it('says how to get the AWS CLI when it is not installed', async () => {
    const { code, stderr } = await run(script, args, mkdtempSync(join(tmpdir(), 'no-aws-')));
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(
      `${name}: aws ${call} failed: the AWS CLI v2 is not installed (https://docs.aws.amazon.com/cli/)`,
    );
    noStack(stderr);
  });
});

it('npm run load with an unknown option says so in one line and how to get help', async () => {
  const { code, stderr } = await run('load.mjs', ['--bogus'], String(process.env.PATH));
  expect(code).toBe(2);
  expect(stderr.trim()).toBe("load: Unknown option '--bogus'\nRun with --help for the options.");
  noStack(stderr);
});

it('npm run load --port refuses a port that is not one, and says how to start the local chat when none answers', async () => {
  const bad = await run('load.mjs', ['--port', 'abc'], String(process.env.PATH));
  expect(bad.code).toBe(2);
  expect(bad.stderr.trim()).toBe(
    'load: --port takes the local chat\'s WebSocket port (1-65535, npm start\'s is 3001), not "abc"',
  );
  // A port nothing listens on: a closed server's, so it is free.
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  await new Promise((ok) => server.close(ok));
  const none = await run('load.mjs', ['--port', String(port)], String(process.env.PATH));
  expect(none.code).toBe(1);
  expect(none.stderr.trim()).toBe(
    `load: no local chat answers on ws://127.0.0.1:${port} (ECONNREFUSED): start one with \`npm start\` (its WebSocket port is 3001 unless given --ws-port), or leave out --port to start one for this run`,
  );
  noStack(none.stderr);
});

describe('npm run deploy', () => {
  /** A PATH whose `aws` answers get-caller-identity as the real CLI does with credentials, and whose `sam` logs. */
  function signedIn(): { path: string; samLog: string } {
    const bin = mkdtempSync(join(tmpdir(), 'deploy-'));
    const samLog = join(bin, 'sam.log');
    writeFileSync(
      join(bin, 'aws'),
      `#!/bin/sh\necho '{"UserId":"AIDAEXAMPLE","Account":"123456789012","Arn":"arn:aws:iam::123456789012:user/alice"}'\n`,
    );
    writeFileSync(join(bin, 'sam'), `#!/bin/sh\necho "sam $*" >> '${samLog}'\necho "sam $*"\n`);
    for (const tool of ['aws', 'sam']) chmodSync(join(bin, tool), 0o755);
    return { path: `${bin}:${process.env.PATH}`, samLog };
  }

  it('asks no question without credentials: it says how to sign in, and sam never runs', async () => {
    const { samLog } = signedIn();
    const bin = failingAws();
    // The signed-in PATH's `sam`, behind an `aws` that fails.
    const path = `${bin}:${samLog.replace(/\/sam\.log$/, '')}:${process.env.PATH}`;
    const { code, stderr } = await run('deploy.mjs', ['--config-env', 'demo'], path);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      'deploy: aws sts get-caller-identity failed: You must specify a region. You can also configure your region by running "aws configure".',
      expect.stringMatching(/^Sign in first .*keeps no answer when they fail\.$/),
    ]);
    noStack(stderr);
    expect(existsSync(samLog)).toBe(false);
  });

  it('with credentials, names the identity, then runs sam build and sam deploy --guided with the options given', async () => {
    const { path, samLog } = signedIn();
    const out = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(scripts, 'deploy.mjs'), '--config-env', 'demo'],
        { encoding: 'utf8', env: { ...process.env, PATH: path } },
        (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }),
      );
    });
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('Deploying as arn:aws:iam::123456789012:user/alice (account 123456789012).');
    expect(readFileSync(samLog, 'utf8').trim().split('\n')).toEqual([
      'sam build',
      'sam deploy --guided --config-env demo',
    ]);
  });

  it("says what each of the guided deploy's parameter questions decides, after the build and before SAM asks", async () => {
    const { path } = signedIn();
    const stdout = await new Promise<string>((resolve) => {
      execFile(
        process.execPath,
        [join(scripts, 'deploy.mjs')],
        { encoding: 'utf8', env: { ...process.env, PATH: path } },
        (_error, out) => resolve(out),
      );
    });
    const lines = stdout.trim().split('\n');
    const build = lines.indexOf('sam build');
    const deploy = lines.indexOf('sam deploy --guided');
    // SAM shows a parameter's name and default only; the lines between the build and the deploy say what each is.
    const asked = lines.slice(build + 1, deploy).filter((line) => /^ {2}[A-Za-z0-9]+: /.test(line));
    const names = Object.keys(
      (
        parseYaml(readFileSync(join(scripts, '..', 'template.yaml'), 'utf8'), { logLevel: 'silent' }) as {
          Parameters: Record<string, unknown>;
        }
      ).Parameters,
    );
    expect(build).toBeGreaterThan(0);
    expect(deploy).toBeGreaterThan(build);
    expect(asked.map((line) => line.trim().split(':')[0])).toEqual(names);
    for (const line of asked) expect(line.length).toBeGreaterThan(40);
    expect(asked).toContain(
      '  CognitoUserPoolId: AuthMode=cognito with an existing user pool (e.g. eu-west-1_AbC123); empty = the stack creates one.',
    );
  });
});
