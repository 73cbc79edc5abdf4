import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** npm run publish-web: web/ plus a config.json with the stack's URLs, synced to the bucket, cache invalidated. */
const script = join(__dirname, '..', '..', 'scripts', 'publish-web.mjs');
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

function dryRun(list: unknown): { folder: string; commands: string[] } {
  const file = join(mkdtempSync(join(tmpdir(), 'outputs-')), 'outputs.json');
  writeFileSync(file, JSON.stringify(list));
  const out = execFileSync(process.execPath, [script, '--outputs-file', file, '--dry-run'], {
    encoding: 'utf8',
  });
  const [first, ...commands] = out.trim().split('\n');
  return { folder: String(first).replace('would upload ', ''), commands };
}

it('writes the stack URLs and the sign-in issuer into config.json, then syncs and invalidates', () => {
  const { folder, commands } = dryRun(
    outputs({
      SignInIssuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X',
      SignInClientId: 'cid',
      AdminBroadcastUrl: 'https://def.execute-api.eu-west-1.amazonaws.com/prod/admin/broadcast',
    }),
  );
  expect(JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8'))).toEqual({
    wsUrl: 'wss://abc.execute-api.eu-west-1.amazonaws.com/prod',
    broadcastUrl: 'https://def.execute-api.eu-west-1.amazonaws.com/prod/broadcast',
    auth: {
      mode: 'cognito',
      issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_X',
      clientId: 'cid',
    },
    // The broadcast page posts here with the signed-in admin's token.
    adminBroadcastUrl: 'https://def.execute-api.eu-west-1.amazonaws.com/prod/admin/broadcast',
  });
  expect(readFileSync(join(folder, 'index.html'), 'utf8')).toContain('<html');
  expect(commands).toEqual([
    `aws s3 sync ${folder} s3://roomcast-webbucket-1/ --delete`,
    'aws cloudfront create-invalidation --distribution-id E123 --paths /*',
  ]);
});

it('refuses a stack deployed without HostWebChat=true', () => {
  const list = outputs().filter((o) => o.OutputKey !== 'WebBucketName');
  expect(() => dryRun(list)).toThrow(/no WebBucketName output: deploy it with HostWebChat=true/);
});
