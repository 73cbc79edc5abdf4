#!/usr/bin/env node
// cfn-lint checks one template and evaluates no parameter values, so each AuthMode and hosting choice is linted on a
// copy of template.yaml (beside it, so relative paths resolve; removed after) whose parameter Defaults are set to
// that variant, and deploy-time constants (Mappings.Deploy.Settings) set to other values than their defaults. The
// defaults themselves are template.yaml as it is, which npm run lint checks just before this.
// The copies go to cfn-lint in one process per core, each given several templates: every cfn-lint process first
// spends ~4 s of CPU loading its specs, and one template takes ~8 s, so 9 processes one after another cost ~100 s
// where two side by side take about half (measured on the 2-core CI machine).
//   node scripts/lint-template-variants.mjs     (npm run lint runs it)
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = readFileSync(join(root, 'template.yaml'), 'utf8');

const VARIANTS = [
  { HostWebChat: 'false' },
  { AuthMode: 'none' },
  { AuthMode: 'none', HostWebChat: 'false' },
  { AuthMode: 'token' },
  { AuthMode: 'token', HostWebChat: 'false' },
  { AuthMode: 'cognito', CognitoUserPoolId: 'eu-west-1_AbC123', CognitoUserPoolClientId: 'abc123' },
  { AuthMode: 'oidc', OidcIssuer: 'https://id.example.com', OidcAudience: 'roomcast' },
  { AuthMode: 'oidc', OidcIssuer: 'https://id.example.com', OidcAudience: 'roomcast', HostWebChat: 'false' },
  { constants: { DeliverReservedConcurrency: '5', MessagesReservedConcurrency: '5', FanoutLogLevel: 'ALL' } },
];

/** The template with `Default:` of each named parameter replaced (every parameter here has a Default line). */
function withDefaults(text, { constants = {}, ...values }) {
  let out = text;
  for (const [name, value] of Object.entries(constants)) {
    // A constant's one line under Mappings.Deploy.Settings (6 spaces in).
    const pattern = new RegExp(`(^  Deploy:\\n    Settings:\\n(?:      .*\\n)*?      ${name}: ).*$`, 'm');
    if (!pattern.test(out)) throw new Error(`Mappings.Deploy.Settings has no ${name} line in template.yaml`);
    out = out.replace(pattern, `$1'${value}'`);
  }
  for (const [name, value] of Object.entries(values)) {
    const pattern = new RegExp(`(^  ${name}:\\n(?:    .*\\n)*?    Default: ).*$`, 'm');
    if (!pattern.test(out)) throw new Error(`parameter ${name} has no Default line in template.yaml`);
    out = out.replace(pattern, `$1'${value}'`);
  }
  return out;
}

const variants = VARIANTS.map((values, index) => ({
  name: Object.entries({ ...values, ...values.constants })
    .filter(([k]) => k !== 'constants')
    .map(([k, v]) => `${k}=${v}`)
    .join(' '),
  // Same folder layout as the repository, so DefinitionUri and CodeUri resolve.
  path: join(root, `.template-variant-${process.pid}-${index}.yaml`),
  text: withDefaults(source, values),
}));

/** cfn-lint over some variants in one process: the variants it failed, each with cfn-lint's lines about it. */
function lint(group) {
  for (const v of group) writeFileSync(v.path, v.text);
  return new Promise((resolve) => {
    execFile(
      'cfn-lint',
      group.map((v) => v.path),
      { encoding: 'utf8', maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const output = `${stdout ?? ''}${stderr ?? ''}`;
        // cfn-lint names the file in each finding; a failure it names no file for counts against every variant given.
        const named = group.filter((v) => output.includes(v.path));
        resolve(error ? (named.length > 0 ? named : group).map((v) => ({ ...v, output })) : []);
      },
    );
  });
}

const processes = Math.max(1, Math.min(availableParallelism(), variants.length));
const groups = Array.from({ length: processes }, (_, p) => variants.filter((_, i) => i % processes === p));
let failures;
try {
  failures = (await Promise.all(groups.map(lint))).flat();
} finally {
  for (const v of variants) rmSync(v.path, { force: true });
}
for (const v of variants) {
  const failure = failures.find((f) => f.path === v.path);
  process.stdout.write(failure ? `FAIL  ${v.name} (${v.path})\n${failure.output}\n` : `ok    ${v.name}\n`);
}
process.exit(failures.length > 0 ? 1 : 0);
