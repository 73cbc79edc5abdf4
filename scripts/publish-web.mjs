#!/usr/bin/env node
// Publishes the web chat's static site to the stack's private web bucket (HostWebChat=true): the folder the build
// assembles (scripts/build.mjs buildSite, dist/web/: web/'s pages plus the client bundle roomcast.js, the folder the
// local cloud serves), adding only config.json with the stack's URLs and those URLs in the pages'
// Content-Security-Policy (connect-src), then invalidates the CloudFront cache. With a sign-in it reads
// the issuer's discovery document for the token endpoint. Needs the AWS CLI and credentials for the stack's account.
//   npm run publish-web -- --stack roomcast [--region eu-west-1] [--dry-run]
// --dry-run writes the folder it would upload and prints the commands instead of running them;
// --outputs-file reads the stack outputs from a JSON file ([{OutputKey, OutputValue}], as describe-stacks prints).
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { awsCli } from './awsCli.mjs';
import { buildSite, siteDir } from './build.mjs';

const HELP = `Usage: npm run publish-web -- --stack NAME [--region R] [--dry-run] [--outputs-file F]`;

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
const aws = (args) => awsCli('publish-web', [...args, ...regionArgs]);

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

/**
 * What a page fetches to sign in at `issuer`: its discovery document, and the token endpoint and JWKS that document
 * names (the page asks the JWKS whether the issuer still publishes its token's key, web/signin.js signInLapsed).
 */
async function signInEndpoints(issuer) {
  const discoveryUrl = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let doc;
  try {
    const res = await fetch(discoveryUrl, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`answered ${res.status}`);
    doc = await res.json();
  } catch (error) {
    fail(`cannot read the sign-in issuer's discovery document ${discoveryUrl}: ${error.message}`);
  }
  const endpoints = [discoveryUrl];
  for (const name of ['token_endpoint', 'jwks_uri']) {
    const url = doc?.[name];
    if (typeof url !== 'string' || !/^https?:\/\/[^\s;,']+$/.test(url))
      fail(`the discovery document ${discoveryUrl} names no usable ${name}`);
    endpoints.push(url);
  }
  return endpoints;
}

/**
 * The page with `connect-src` of its CSP meta tag set to exactly `sources`, as the local cloud's server does it
 * (tools/local/http.ts withConnectSrc): web/*.html store `connect-src 'self'`.
 */
function withConnectSrc(html, sources) {
  return html.replace(
    /(http-equiv="Content-Security-Policy"\s+content="[^"]*?connect-src )[^;"]*/,
    (_, head) => `${head}${sources.join(' ')}`,
  );
}

/** The page with the CSP meta tag's `img-src` also allowing `sources`, as tools/local/http.ts withImgSrc does. */
function withImgSrc(html, sources) {
  if (sources.length === 0) return html;
  return html.replace(
    /(http-equiv="Content-Security-Policy"\s+content="[^"]*?img-src )([^;"]*)/,
    (_, head, current) => `${head}${current} ${sources.join(' ')}`,
  );
}

// What the page reads at start (web/app.js: GET /config.json; web/signin.js: the auth part).
const config = {
  wsUrl: outputs.WebSocketUrl,
  broadcastUrl: outputs.BroadcastUrl,
  // The client's typing heartbeat follows the stack's TypingIntervalSeconds (web/connection.js).
  ...(outputs.TypingIntervalSeconds && { typingIntervalSeconds: Number(outputs.TypingIntervalSeconds) }),
  ...(outputs.SignInIssuer && {
    auth: {
      mode: outputs.AuthMode,
      issuer: outputs.SignInIssuer,
      clientId: outputs.SignInClientId,
      // The page links members of this group to the broadcast page (web/signin.js).
      ...(outputs.AdminGroupName && { adminGroup: outputs.AdminGroupName }),
    },
    adminBroadcastUrl: outputs.AdminBroadcastUrl,
  }),
};
// The site as the build assembles it now (not a stale dist/), copied so the stack's settings stay out of dist/web/.
await buildSite();
const folder = mkdtempSync(join(tmpdir(), 'roomcast-web-'));
cpSync(siteDir, folder, { recursive: true });
writeFileSync(join(folder, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
// The pages may connect to this origin (config.json), the WebSocket stage and, with a sign-in, the admin route and
// the issuer: exactly the stack's endpoints, so no link or script can send a token or an invite key elsewhere.
const connectSrc = [
  "'self'",
  outputs.WebSocketUrl,
  ...(config.auth ? [outputs.AdminBroadcastUrl, ...(await signInEndpoints(outputs.SignInIssuer))] : []),
  // Image uploads are XHR POSTs to the attachments bucket (presigned POST).
  outputs.AttachmentsOrigin,
].filter(Boolean);
// Images: the attachments bucket's presigned GETs.
const imgSrc = [outputs.AttachmentsOrigin].filter(Boolean);
for (const page of readdirSync(folder).filter((name) => name.endsWith('.html'))) {
  const html = readFileSync(join(folder, page), 'utf8');
  const next = withImgSrc(withConnectSrc(html, connectSrc), imgSrc);
  if (next === html) fail(`${page} has no Content-Security-Policy meta tag with connect-src to set`);
  writeFileSync(join(folder, page), next);
}

const commands = [
  ['s3', 'sync', folder, `s3://${outputs.WebBucketName}/`, '--delete'],
  ['cloudfront', 'create-invalidation', '--distribution-id', outputs.WebDistributionId, '--paths', '/*'],
];
if (values['dry-run']) {
  process.stdout.write(`would upload ${folder}\n${commands.map((c) => `aws ${c.join(' ')}`).join('\n')}\n`);
} else {
  for (const command of commands) aws(command);
  process.stdout.write(`published the web chat to ${outputs.WebUrl}\n`);
}
