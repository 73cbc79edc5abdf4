#!/usr/bin/env node
// npm run lint: every check the CI runs on the sources, in order, stopping at the first that fails. TypeScript's
// check, last in the list, starts first and runs beside the others: it takes one core for ~15 s, as cfn-lint does
// on the other, and neither needs the other's result. A tool that is not installed is named with the command that
// installs it, instead of the shell's bare "not found".
//   node scripts/lint.mjs
//   node scripts/lint.mjs --constants [template.yaml]   only the deploy-time constants' rules (checkDeployConstants)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadSettingsSchema } from './settingsSchema.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** cfn-lint is a Python tool (with the SAM translator); .ci/run installs it the same way when it is missing. */
const CFN_LINT_INSTALL = "python3 -m pip install 'cfn-lint>=1.51,<2'";

function onPath(command) {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}

// `--no-install`: without the project's packages npx would fetch unrelated registry packages of the same names.
// A step is a command and its arguments, or a check of this file's that says whether it passed.
const TSC = ['npx', ['--no-install', 'tsc', '--noEmit', '-p', 'tsconfig.json']];
const steps = [
  ['npx', ['--no-install', 'biome', 'check', '.']],
  ['npx', ['--no-install', 'asl-validator', '--json-path', 'statemachines/fanout.asl.json']],
  // Before cfn-lint: seconds sooner, and its message names the constant and what it may be.
  deployConstantsPass,
  ['cfn-lint', ['template.yaml']],
  ['node', ['scripts/lint-template-variants.mjs']],
  TSC,
];

/**
 * The deploy-time constants (template.yaml Mappings.Deploy.Settings) against their rules (DEPLOY_CONSTANTS in
 * functions/platform/settingsSchema.ts, the settings' one schema): CloudFormation checks no mapping value, so a
 * constant edited out of its range would fail only at deploy, or not at all (a throttle of 0, a chunk size the state
 * machine cannot carry). Returns one sentence per problem, naming the constant, its value and what it may be; a
 * constant without a rule and a rule without a constant are problems too, so no constant goes unchecked.
 */
async function checkDeployConstants(templatePath = join(root, 'template.yaml')) {
  const where = relative(process.cwd(), templatePath) || templatePath;
  const { DEPLOY_CONSTANTS, constantRefusal } = await loadSettingsSchema();
  // Short-form tags (!Ref, !Sub...) carry no meaning here: the mapping holds plain values only.
  const deploy = parse(readFileSync(templatePath, 'utf8'), { logLevel: 'silent' })?.Mappings?.Deploy ?? {};
  const constants = deploy.Settings ?? {};
  const problems = [];
  for (const name of Object.keys(DEPLOY_CONSTANTS)) {
    if (!(name in constants))
      problems.push(
        `${where}: the deploy-time constant ${name} of settingsSchema.ts is missing from Mappings.Deploy.Settings`,
      );
  }
  for (const [name, raw] of Object.entries(constants)) {
    const at = `${where}: deploy-time constant ${name} (Mappings.Deploy.Settings)`;
    if (!(name in DEPLOY_CONSTANTS)) {
      problems.push(`${at} has no rule: add it to DEPLOY_CONSTANTS in functions/platform/settingsSchema.ts`);
      continue;
    }
    // The schema's sentence starts with the constant's name, which `at` already says.
    const wrong = constantRefusal(name, raw);
    if (wrong) problems.push(`${at} ${wrong.slice(name.length + 1)}`);
  }
  return problems;
}

/** checkDeployConstants as a lint step: the problems on stderr, and whether there were none. */
async function deployConstantsPass(templatePath) {
  const problems = await checkDeployConstants(templatePath);
  for (const problem of problems) console.error(problem);
  if (problems.length > 0)
    console.error('lint: deploy-time constants break their rules (settingsSchema.ts DEPLOY_CONSTANTS)');
  return problems.length === 0;
}

if (process.argv.includes('--constants')) {
  const given = process.argv[process.argv.indexOf('--constants') + 1];
  process.exit((await deployConstantsPass(given ? resolve(given) : undefined)) ? 0 : 1);
} else {
  await lintAll();
}

async function lintAll() {
  if (!existsSync(join(root, 'node_modules', '.bin', 'tsc'))) {
    console.error("lint: the project's packages are not installed. Install them with:\n  npm ci");
    process.exit(1);
  }
  if (!onPath('cfn-lint')) {
    console.error(`lint: cfn-lint is not installed. Install it with:\n  ${CFN_LINT_INSTALL}`);
    process.exit(1);
  }
  const [tscCommand, tscArgs] = TSC;
  const tsc = spawn(tscCommand, tscArgs, { cwd: root, stdio: 'inherit' });
  const tscPassed = new Promise((resolve) => {
    tsc.on('error', () => resolve(false));
    tsc.on('exit', (code) => resolve(code === 0));
  });
  const failed = (step) => {
    if (step) console.error(`lint: ${step.flat().join(' ')} failed`);
    tsc.kill();
    process.exit(1);
  };
  for (const step of steps) {
    if (step === TSC) {
      if (!(await tscPassed)) failed(TSC);
      continue;
    }
    if (typeof step === 'function') {
      if (!(await step())) failed();
      continue;
    }
    try {
      execFileSync(step[0], step[1], { cwd: root, stdio: 'inherit' });
    } catch {
      failed(step);
    }
  }
}
