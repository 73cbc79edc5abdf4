#!/usr/bin/env node
// npm run lint: every check the CI runs on the sources, in order, stopping at the first that fails. A tool that is
// not installed is named with the command that installs it, instead of the shell's bare "not found".
//   node scripts/lint.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** cfn-lint is a Python tool (with the SAM translator); .ci/run installs it the same way when it is missing. */
const CFN_LINT_INSTALL = "python3 -m pip install 'cfn-lint>=1.51,<2'";

function onPath(command) {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}

// `--no-install`: without the project's packages npx would fetch unrelated registry packages of the same names.
const steps = [
  ['npx', ['--no-install', 'biome', 'check', '.']],
  ['npx', ['--no-install', 'tsc', '--noEmit', '-p', 'tsconfig.json']],
  ['npx', ['--no-install', 'asl-validator', '--json-path', 'statemachines/fanout.asl.json']],
  ['cfn-lint', ['template.yaml']],
  ['node', ['scripts/lint-template-variants.mjs']],
];

if (!existsSync(join(root, 'node_modules', '.bin', 'tsc'))) {
  console.error("lint: the project's packages are not installed. Install them with:\n  npm ci");
  process.exit(1);
}
if (!onPath('cfn-lint')) {
  console.error(`lint: cfn-lint is not installed. Install it with:\n  ${CFN_LINT_INSTALL}`);
  process.exit(1);
}
for (const [command, args] of steps) {
  try {
    execFileSync(command, args, { cwd: root, stdio: 'inherit' });
  } catch {
    console.error(`lint: ${[command, ...args].join(' ')} failed`);
    process.exit(1);
  }
}
