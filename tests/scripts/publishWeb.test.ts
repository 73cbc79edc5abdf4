import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * npm run publish-web: web/ plus a config.json with the stack's URLs, the pages' CSP naming exactly those endpoints,
 * synced to the bucket, cache invalidated.
 */
const script = join(__dirname, '..', '..', 'scripts', 'publish-web.mjs');
const run = promisify(execFile);
const outputs = (extra: Record<string, string> = {}) =>
  Object.entries({
    WebSocketUrl: 'wss://abc.execute-api.eu-west-1.amazonaws.com/prod',
    BroadcastUrl: 'https://def.execute-api.eu-west-1.amazonaws.com/prod/broadcast',
    WebBucketName: 'roomcast-webbucket-1',
    WebDistributionId: 'E123',
    WebUrl: 'https://d111.cloudfront.net/',
    AuthMode: 'cognito',
    ...extra,
  }).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue }));

/**
 * A sign-in issuer's discovery document (the user pool's), whose token endpoint lives on the hosted-UI domain and
 * whose keys on cognito-idp.
 */
let issuerServer: Server;
let issuer: string;
const TOKEN_ENDPOINT = 'https://roomcast-1a2b3c4d.auth.eu-west-1.amazoncognito.com/oauth2/token';
const JWKS_URI = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X/.well-known/jwks.json';

beforeAll(async () => {
  issuerServer = createServer((req, res) => {
    // A second issuer whose document names no jwks_uri.
    const noKeys = req.url === '/eu-west-1_Y/.well-known/openid-configuration';
    if (req.url !== '/eu-west-1_X/.well-known/openid-configuration' && !noKeys)
      return void res.writeHead(404).end();
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token_endpoint: TOKEN_ENDPOINT, ...(!noKeys && { jwks_uri: JWKS_URI }) }));
  });
  await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}/eu-west-1_X`;
});

afterAll(() => new Promise<void>((resolve) => issuerServer.close(() => resolve())));

async function dryRun(list: unknown): Promise<{ folder: string; commands: string[] }> {
  const file = join(mkdtempSync(join(tmpdir(), 'outputs-')), 'outputs.json');
  writeFileSync(file, JSON.stringify(list));
  const { stdout } = await run(process.execPath, [script, '--outputs-file', file, '--dry-run'], {
    encoding: 'utf8',
  });
  const [first, ...commands] = stdout.trim().split('\n');
  return { folder: String(first).replace('would upload ', ''), commands };
}

/** The `connect-src` sources of a page's CSP meta tag. */
function connectSrc(html: string): string[] {
  const policy = /http-equiv="Content-Security-Policy"\s+content="([^"]*)"/.exec(html)?.[1] ?? '';
  const directive = policy.split(';').find((d) => d.trim().startsWith('connect-src ')) ?? '';
  return directive.trim().split(/\s+/).slice(1);
}

it('writes the stack URLs, the sign-in issuer and the admin group into config.json, then syncs and invalidates', async () => {
  const { folder, commands } = await dryRun(
    outputs({
      SignInIssuer: issuer,
      SignInClientId: 'cid',
      AdminGroupName: 'admins',
      AdminBroadcastUrl: 'https://def.execute-api.eu-west-1.amazonaws.com/prod/admin/broadcast',
    }),
  );
  expect(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'))).toEqual({
    wsUrl: 'wss://abc.execute-api.eu-west-1.amazonaws.com/prod',
    broadcastUrl: 'https://def.execute-api.eu-west-1.amazonaws.com/prod/broadcast',
    // adminGroup: the page shows members of this group the link to the broadcast page.
    auth: { mode: 'cognito', issuer, clientId: 'cid', adminGroup: 'admins' },
    // The broadcast page posts here with the signed-in admin's token.
    adminBroadcastUrl: 'https://def.execute-api.eu-west-1.amazonaws.com/prod/admin/broadcast',
  });
  expect(readFileSync(join(folder, 'index.html'), 'utf8')).toContain('<html');
  expect(commands).toEqual([
    `aws s3 sync ${folder} s3://roomcast-webbucket-1/ --delete`,
    'aws cloudfront create-invalidation --distribution-id E123 --paths /*',
  ]);
});

it("names exactly the stack's endpoints in both pages' connect-src: stage, admin route, discovery, token endpoint, JWKS", async () => {
  const { folder } = await dryRun(
    outputs({
      SignInIssuer: issuer,
      SignInClientId: 'cid',
      AdminBroadcastUrl: 'https://def.execute-api.eu-west-1.amazonaws.com/prod/admin/broadcast',
    }),
  );
  for (const page of ['index.html', 'broadcast.html'])
    expect(connectSrc(readFileSync(join(folder, page), 'utf8'))).toEqual([
      "'self'",
      'wss://abc.execute-api.eu-west-1.amazonaws.com/prod',
      'https://def.execute-api.eu-west-1.amazonaws.com/prod/admin/broadcast',
      `${issuer}/.well-known/openid-configuration`,
      TOKEN_ENDPOINT,
      JWKS_URI,
    ]);
});

it('without a sign-in, lets the pages reach this origin and the stage only', async () => {
  const { folder } = await dryRun(outputs({ AuthMode: 'none' }));
  expect(connectSrc(readFileSync(join(folder, 'index.html'), 'utf8'))).toEqual([
    "'self'",
    'wss://abc.execute-api.eu-west-1.amazonaws.com/prod',
  ]);
});

it('refuses to publish when the issuer names no token endpoint it could allow', async () => {
  const list = outputs({
    SignInIssuer: `${issuer}-missing`,
    SignInClientId: 'cid',
    AdminBroadcastUrl: 'https://x/y',
  });
  await expect(dryRun(list)).rejects.toThrow(
    /cannot read the sign-in issuer's discovery document .* answered 404/,
  );
});

it('refuses to publish when the issuer names no JWKS the page could check its token against', async () => {
  const list = outputs({
    SignInIssuer: issuer.replace(/_X$/, '_Y'),
    SignInClientId: 'cid',
    AdminBroadcastUrl: 'https://x/y',
  });
  await expect(dryRun(list)).rejects.toThrow(/names no usable jwks_uri/);
});

it('refuses a stack deployed without HostWebChat=true', async () => {
  const list = outputs().filter((o) => o.OutputKey !== 'WebBucketName');
  await expect(dryRun(list)).rejects.toThrow(/no WebBucketName output: deploy it with HostWebChat=true/);
});

it("gives the web chat the stack's typing heartbeat interval (TypingIntervalSeconds)", async () => {
  const { folder } = await dryRun(outputs({ AuthMode: 'none', TypingIntervalSeconds: '3' }));
  expect(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'))).toMatchObject({
    typingIntervalSeconds: 3,
  });
});
