import { execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { browserStage, roomOfTwo, send, signInByName, UI_TIMEOUT_MS } from '../helpers/browserStage';

/**
 * The web chat as `npm run publish-web` would upload it, hosted the way a bucket behind a CDN hosts it: a plain
 * static file server that knows nothing of roomcast (not the local cloud's), with the pages talking to a local
 * cloud's WebSocket stage through the config.json publish-web wrote. Two people chat through it in Chromium.
 */
jest.setTimeout(240_000);

const root = join(__dirname, '..', '..');
const run = promisify(execFile);
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.map': 'application/json',
};

const stage = browserStage();
let folder: string;
let site: Server;
let siteUrl: string;

/** Serves `dir` as S3 behind CloudFront would: files by path, `/` is index.html, 404 otherwise, no extra headers. */
function staticServer(dir: string): Server {
  return createServer((req, res) => {
    const path =
      normalize(new URL(req.url ?? '/', 'http://site').pathname).replace(/^\/+/, '') || 'index.html';
    const file = join(dir, path);
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile())
      return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
}

beforeAll(async () => {
  const outputs = join(mkdtempSync(join(tmpdir(), 'published-site-')), 'outputs.json');
  writeFileSync(
    outputs,
    JSON.stringify(
      Object.entries({
        WebSocketUrl: stage.cloud.wsUrl,
        BroadcastUrl: `${stage.cloud.httpUrl}/broadcast`,
        WebBucketName: 'roomcast-webbucket-1',
        WebDistributionId: 'E123',
        WebUrl: 'https://d111.cloudfront.net/',
      }).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
    ),
  );
  const { stdout } = await run(
    process.execPath,
    [join(root, 'scripts', 'publish-web.mjs'), '--outputs-file', outputs, '--dry-run'],
    { encoding: 'utf8' },
  );
  folder = (stdout.split('\n')[0] ?? '').replace('would upload ', '');
  site = staticServer(folder);
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
});

afterAll(() => new Promise<void>((resolve) => (site ? site.close(() => resolve()) : resolve())));

function waitForText(page: Page, text: string): Promise<unknown> {
  return page
    .locator('[data-testid="message"][data-seq] .msg-text')
    .filter({ hasText: text })
    .waitFor({ timeout: UI_TIMEOUT_MS });
}

it('holds every page, style and script of web/, the bundles, the emoji data and config.json, and nothing else', () => {
  const web = readdirSync(join(root, 'web'), { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name);
  // web/bundle/'s entries, each bundled with its packages beside the pages, with its source map.
  const bundled = readdirSync(join(root, 'web', 'bundle')).flatMap((name) => [name, `${name}.map`]);
  expect(readdirSync(folder).sort()).toEqual(
    [...web, ...bundled, 'roomcast.js', 'roomcast.js.map', 'emoji-data.json', 'config.json'].sort(),
  );
});

it('two people chat through the published folder served by a plain static server', async () => {
  const pageErrors: string[] = [];
  const person = async (name: string): Promise<Page> => {
    const page = await stage.newPage({ width: 1000, height: 700 });
    page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
    page.on('requestfailed', (request) => pageErrors.push(`${name}: ${request.url()} failed`));
    page.on('response', (response) => {
      if (response.status() >= 400)
        pageErrors.push(`${name}: ${response.url()} answered ${response.status()}`);
    });
    await signInByName(page, siteUrl, name);
    return page;
  };
  const alice = await person('alice');
  const bob = await person('bob');

  await roomOfTwo(alice, bob);

  await send(alice, 'hello from the published site');
  await waitForText(bob, 'hello from the published site');
  await send(bob, 'and back');
  await waitForText(alice, 'and back');
  expect(pageErrors).toEqual([]);
});
