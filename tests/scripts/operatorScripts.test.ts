import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
