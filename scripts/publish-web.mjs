#!/usr/bin/env node
// Publishes web/ to the stack's private web bucket (HostWebChat=true) with the stack's URLs in config.json, then
// invalidates the CloudFront cache. Needs the AWS CLI and credentials for the stack's account.
//   npm run publish-web -- --stack roomcast [--region eu-west-1] [--dry-run]
// --dry-run writes the folder it would upload and prints the commands instead of running them;
// --outputs-file reads the stack outputs from a JSON file ([{OutputKey, OutputValue}], as describe-stacks prints).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HELP = `Usage: npm run publish-web -- --stack NAME [--region R] [--dry-run] [--outputs-file F]`;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function fail(message) {
  process.stderr.write(`publish-web: ${message}\n${HELP}\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      stack: { type: 'string' },
      region: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'outputs-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  fail(error.message);
}
if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
if (!values.stack && !values['outputs-file']) fail('give --stack');
const regionArgs = values.region ? ['--region', values.region] : [];
const aws = (args) =>
  execFileSync('aws', [...args, ...regionArgs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

const outputList = values['outputs-file']
  ? JSON.parse(readFileSync(values['outputs-file'], 'utf8'))
  : JSON.parse(
      aws([
        'cloudformation',
        'describe-stacks',
        '--stack-name',
        values.stack,
        '--query',
        'Stacks[0].Outputs',
        '--output',
        'json',
      ]),
    );
const outputs = Object.fromEntries(outputList.map((o) => [o.OutputKey, o.OutputValue]));
for (const key of ['WebSocketUrl', 'WebBucketName', 'WebDistributionId', 'WebUrl']) {
  if (!outputs[key]) fail(`the stack has no ${key} output: deploy it with HostWebChat=true`);
}

// What the page reads at start (web/app.js: GET /config.json; web/signin.js: the auth part).
const config = {
  wsUrl: outputs.WebSocketUrl,
  broadcastUrl: outputs.BroadcastUrl,
  ...(outputs.SignInIssuer && {
    auth: { mode: outputs.AuthMode, issuer: outputs.SignInIssuer, clientId: outputs.SignInClientId },
    adminBroadcastUrl: outputs.AdminBroadcastUrl,
  }),
};
const folder = mkdtempSync(join(tmpdir(), 'roomcast-web-'));
cpSync(join(root, 'web'), folder, { recursive: true });
writeFileSync(join(folder, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);

const commands = [
  ['s3', 'sync', folder, `s3://${outputs.WebBucketName}/`, '--delete'],
  ['cloudfront', 'create-invalidation', '--distribution-id', outputs.WebDistributionId, '--paths', '/*'],
];
if (values['dry-run']) {
  process.stdout.write(`would upload ${folder}\n${commands.map((c) => `aws ${c.join(' ')}`).join('\n')}\n`);
} else {
  for (const command of commands) aws(command);
  process.stdout.write(`published web/ to ${outputs.WebUrl}\n`);
}
