#!/usr/bin/env node
// cfn-lint checks one template and evaluates no parameter values, so each AuthMode and hosting choice is linted on a
// copy of template.yaml (beside it, so relative paths resolve; removed after) whose parameter Defaults are set to
// that variant, and deploy-time constants (Mappings.Deploy.Settings) set to other values than their defaults.
//   node scripts/lint-template-variants.mjs     (npm run lint runs it)
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = readFileSync(join(root, 'template.yaml'), 'utf8');

const VARIANTS = [
  {},
  { HostWebChat: 'false' },
  { AuthMode: 'none' },
  { AuthMode: 'none', HostWebChat: 'false' },
  { AuthMode: 'token' },
  { AuthMode: 'token', HostWebChat: 'false' },
  { AuthMode: 'cognito', CognitoUserPoolId: 'eu-west-1_AbC123', CognitoUserPoolClientId: 'abc123' },
  { AuthMode: 'oidc', OidcIssuer: 'https://id.example.com', OidcAudience: 'roomcast' },
  { AuthMode: 'oidc', OidcIssuer: 'https://id.example.com', OidcAudience: 'roomcast', HostWebChat: 'false' },
  { constants: { DeliverReservedConcurrency: '5', FanoutLogLevel: 'ALL' } },
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

let failed = 0;
for (const values of VARIANTS) {
  const name =
    Object.entries({ ...values, ...values.constants })
      .filter(([k]) => k !== 'constants')
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || '(defaults)';
  // Same folder layout as the repository, so DefinitionUri and CodeUri resolve.
  const path = join(root, `.template-variant-${process.pid}.yaml`);
  writeFileSync(path, withDefaults(source, values));
  try {
    execFileSync('cfn-lint', [path], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    process.stdout.write(`ok    ${name}\n`);
  } catch (error) {
    failed++;
    process.stdout.write(`FAIL  ${name}\n${error.stdout ?? ''}${error.stderr ?? ''}\n`);
  } finally {
    rmSync(path, { force: true });
  }
}
process.exit(failed > 0 ? 1 : 0);
