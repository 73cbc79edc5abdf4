import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WebSocketServer } from 'ws';
import type { LocalCloud } from '../../tools/local/cloud';
import type { DevIssuer } from '../../tools/local/oidc';
import { launchChromium } from '../helpers/browser';
import { ChatClient } from '../helpers/chatClient';
import { startTestCloud } from '../helpers/localCloud';

/**
 * In Chromium against the local cloud with AuthMode=cognito, a tab that holds a sign-in: a link's `?api=` or `?ws=`
 * naming another host sends that host nothing (no request, no token, no invite key) and the page keeps working with
 * the stack; the CSP refuses any other connection the page might try. And display names are isolated: a name with
 * a right-to-left override cannot reorder the text around it.
 */
jest.setTimeout(240_000);

const UI_TIMEOUT_MS = 15_000;

/** Every HTTP request and WebSocket handshake the foreign listener saw, with its Authorization header, and frames. */
interface Arrival {
  kind: 'http' | 'websocket' | 'frame';
  url: string;
  authorization?: string;
  body: string;
}

/** In-page state the tests read (tsconfig has no "dom" lib: these tests run in Node). */
type Recorded = { __csp?: Array<{ blockedURI: string; directive: string }> };

let cloud: LocalCloud;
let issuer: DevIssuer;
let browser: Browser;
let host: ChatClient;
let foreignServer: Server;
let foreignUrl: string;
const arrivals: Arrival[] = [];
const contexts: BrowserContext[] = [];

/**
 * A host that is not the stack, on 127.0.0.1: it answers every request 202 with CORS open and accepts every
 * WebSocket, as a collector would, and records what reached it.
 */
async function startForeign(): Promise<void> {
  foreignServer = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      arrivals.push({ kind: 'http', url: req.url ?? '', authorization: req.headers.authorization, body });
      res
        .writeHead(202, {
          'content-type': 'application/json',
          'access-control-allow-origin': '*',
          'access-control-allow-headers': '*',
        })
        .end('{"messageId":"collected"}');
    });
  });
  const sockets = new WebSocketServer({ server: foreignServer });
  sockets.on('connection', (socket, req) => {
    arrivals.push({ kind: 'websocket', url: req.url ?? '', body: '' });
    socket.on('message', (data) => arrivals.push({ kind: 'frame', url: req.url ?? '', body: String(data) }));
  });
  await new Promise<void>((resolve) => foreignServer.listen(0, '127.0.0.1', resolve));
  foreignUrl = `127.0.0.1:${(foreignServer.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  await startForeign();
  cloud = (await startTestCloud({ parameters: { AuthMode: 'cognito' } })).cloud;
  issuer = cloud.devIssuer as DevIssuer;
  const { idToken } = await issuer.mint('host');
  host = await ChatClient.connect(`${cloud.wsUrl}?token=${encodeURIComponent(idToken)}`);
  browser = await launchChromium();
});

afterAll(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close()));
  await browser?.close();
  await host?.close();
  await cloud?.close();
  await new Promise<void>((resolve) => (foreignServer ? foreignServer.close(() => resolve()) : resolve()));
});

/** A tab whose CSP violations and WebSocket URLs are recorded. */
async function tab(): Promise<{ page: Page; sockets: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  const sockets: string[] = [];
  page.on('websocket', (socket) => sockets.push(socket.url()));
  await page.addInitScript(() => {
    const g = globalThis as unknown as Recorded & {
      addEventListener(
        type: string,
        listener: (event: { blockedURI: string; effectiveDirective: string }) => void,
      ): void;
    };
    g.__csp = [];
    g.addEventListener('securitypolicyviolation', (event) =>
      g.__csp?.push({ blockedURI: event.blockedURI, directive: event.effectiveDirective }),
    );
  });
  return { page, sockets };
}

/** Signs in at the development issuer from `path` and waits until the page is back on `path`. */
async function signIn(page: Page, path: string, username: string, groups = ''): Promise<void> {
  await page.goto(`${cloud.httpUrl}${path}`);
  await page.waitForURL(/\/dev-oidc\/authorize\?/);
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="groups"]').fill(groups);
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((url) => url.pathname === path && !url.search.includes('code='));
}

const violations = (page: Page) => page.evaluate(() => (globalThis as Recorded).__csp ?? []);

it('the admin broadcast page with a foreign ?api= posts the token only to the stack', async () => {
  const { page } = await tab();
  await signIn(page, '/broadcast.html', 'root', cloud.template.parameter('AdminGroupName') as string);
  await page.locator('form[data-ready="true"]').waitFor();
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));

  // The same tab, holding the sign-in, opens a link that names another host.
  await page.goto(`${cloud.httpUrl}/broadcast.html?api=http://${foreignUrl}/collect`);
  await page.locator('form[data-ready="true"]').waitFor();
  expect(await page.locator('#endpoint').textContent()).toBe(`${cloud.httpUrl}/admin/broadcast`);
  // The signed-in name is isolated here too.
  expect(await page.locator('#who > bdi').textContent()).toBe('root');
  await page.getByTestId('broadcast-message').fill('Maintenance at 22:00 UTC');
  await page.getByTestId('broadcast-send').click();
  const statusLine = page.getByTestId('broadcast-status');
  await statusLine.locator('xpath=self::*[@data-kind="ok" or @data-kind="error"]').waitFor();
  expect(arrivals).toEqual([]);
  expect(await statusLine.textContent()).toMatch(/^Queued for everyone/);
  // The stack got it, under the admin's token: a connected user sees the broadcast.
  const frame = await host.next((f) => f.type === 'broadcast', undefined, 'the broadcast');
  expect(frame.text).toBe('Maintenance at 22:00 UTC');

  expect(requests.filter((url) => !url.startsWith(`${cloud.httpUrl}/`))).toEqual([]);
  expect(await violations(page)).toEqual([]);
});

it("the chat page with a foreign ?ws= and an invite link connects only to the stack's WebSocket", async () => {
  const joined = await host.expectReply({ action: 'createroom' });
  const roomId = String(joined.roomId);
  const inviteKey = String(joined.inviteKey);
  const { page, sockets } = await tab();
  await signIn(page, '/', 'dana');
  await page.locator('[data-testid="connection-status"][data-state="online"]').waitFor();

  // The same tab opens a link that names another server, carrying the room's invite key in the fragment.
  await page.goto(`${cloud.httpUrl}/?ws=ws://${foreignUrl}/prod#room=${roomId}&key=${inviteKey}`);
  await page.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  await page.locator(`[data-testid="room-code"][data-room-id="${roomId}"]`).waitFor();
  await page.getByTestId('composer-input').fill('joined through the link');
  await page.getByTestId('composer-input').press('Enter');
  const message = await host.next(
    (f) => f.type === 'message' && f.roomId === roomId && f.text === 'joined through the link',
    undefined,
    'her message in the room',
  );
  expect(message.username).toBe('dana');

  expect(arrivals).toEqual([]);
  expect(sockets.length).toBeGreaterThanOrEqual(2);
  expect(sockets.filter((url) => !url.startsWith(`${cloud.wsUrl}?`))).toEqual([]);
  expect(await violations(page)).toEqual([]);
});

it("the pages' CSP names exactly the stack's endpoints and refuses a connection anywhere else", async () => {
  const { page } = await tab();
  await signIn(page, '/', 'erin');
  await page.locator('[data-testid="connection-status"][data-state="online"]').waitFor();
  const response = await page.goto(`${cloud.httpUrl}/`);
  const expected = [
    "'self'",
    cloud.wsUrl,
    `${issuer.webConfig.issuer}/.well-known/openid-configuration`,
    `${issuer.url}/dev-oidc/token`,
    // The JWKS: whether the issuer still publishes the key of the page's token (web/signin.js).
    `${issuer.webConfig.issuer}/.well-known/jwks.json`,
    // The attachments bucket: image uploads are XHR POSTs to it.
    cloud.s3Endpoint,
  ];
  const connectSrc = (policy: string) =>
    (policy.split(';').find((d) => d.trim().startsWith('connect-src ')) ?? '').trim().split(/\s+/).slice(1);
  expect(connectSrc(response?.headers()['content-security-policy'] ?? '')).toEqual(expected);
  const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(connectSrc(meta ?? '')).toEqual(expected);
  await page.locator('[data-testid="connection-status"][data-state="online"]').waitFor();

  // Whatever script might try with the token: a POST and a WebSocket to the foreign host are both refused.
  const outcome = await page.evaluate(async (foreign) => {
    type Socket = { onerror: (() => void) | null; onopen: (() => void) | null; close(): void };
    const g = globalThis as unknown as {
      sessionStorage: { getItem(key: string): string | null };
      fetch(url: string, init: object): Promise<{ status: number }>;
      WebSocket: new (url: string) => Socket;
    };
    const token = g.sessionStorage.getItem('roomcast.signin.token') ?? '';
    const post = await g
      .fetch(`http://${foreign}/collect`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } })
      .then(
        (r) => `answered ${r.status}`,
        () => 'refused',
      );
    const socket = await new Promise<string>((resolve) => {
      try {
        const ws = new g.WebSocket(`ws://${foreign}/prod?token=${token}`);
        ws.onopen = () => {
          ws.close();
          resolve('opened');
        };
        ws.onerror = () => resolve('refused');
      } catch {
        resolve('refused');
      }
    });
    return { tokenHeld: token.length > 0, post, socket };
  }, foreignUrl);
  expect(outcome).toEqual({ tokenHeld: true, post: 'refused', socket: 'refused' });
  expect(arrivals).toEqual([]);
  // The browser reports each refusal as a violation event (Chromium sends some twice), maybe a task later.
  const refused = async () => [
    ...new Set((await violations(page)).map((v) => `${v.directive} ${v.blockedURI.split('?')[0]}`)),
  ];
  for (let i = 0; i < 20 && (await refused()).length < 2; i++) await page.waitForTimeout(100);
  expect((await refused()).sort()).toEqual([
    `connect-src http://${foreignUrl}/collect`,
    `connect-src ws://${foreignUrl}/prod`,
  ]);
});

/** Two names that read as "dana" and "mallory" only because of a right-to-left override (U+202E). */
const OVERRIDE_DANA = '\u202Eanad';
const OVERRIDE_MALLORY = '\u202Eyrollam';

/** Where the text `after` sits relative to the name `name` inside the first element matching `selector`. */
function layoutOf(page: Page, selector: string, name: string, after: string) {
  return page.evaluate(
    ({ selector, name, after }) => {
      type Rect = { left: number; right: number };
      type TextNode = { data: string };
      const g = globalThis as unknown as {
        document: {
          querySelector(s: string): unknown;
          createTreeWalker(root: unknown, what: number): { nextNode(): TextNode | null };
          createRange(): {
            setStart(n: TextNode, o: number): void;
            setEnd(n: TextNode, o: number): void;
            getBoundingClientRect(): Rect;
          };
        };
      };
      const root = g.document.querySelector(selector);
      const rectOf = (text: string): Rect | undefined => {
        const walker = g.document.createTreeWalker(root, 4 /* NodeFilter.SHOW_TEXT */);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const at = node.data.indexOf(text);
          if (at === -1) continue;
          const range = g.document.createRange();
          range.setStart(node, at);
          range.setEnd(node, at + text.length);
          const { left, right } = range.getBoundingClientRect();
          return { left, right };
        }
        return undefined;
      };
      return { name: rectOf(name), after: rectOf(after) };
    },
    { selector, name, after },
  );
}

it('renders every name isolated: an override in a name cannot reorder the text around it', async () => {
  const joined = await host.expectReply({ action: 'createroom' });
  const roomId = String(joined.roomId);
  const { page } = await tab();
  // Whatever a server's name rules, the page must isolate what it is sent: the frames from the stack reach the
  // page with "dana" and "mallory" replaced by names with an override.
  const rename = (value: unknown): unknown => {
    if (value === 'dana') return OVERRIDE_DANA;
    if (value === 'mallory') return OVERRIDE_MALLORY;
    if (Array.isArray(value)) return value.map(rename);
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rename(v)]));
    return value;
  };
  await page.routeWebSocket(/.*/, (socket) => {
    const server = socket.connectToServer();
    server.onMessage((message) => {
      try {
        socket.send(JSON.stringify(rename(JSON.parse(String(message)))));
      } catch {
        socket.send(message);
      }
    });
  });
  await signIn(page, '/', 'dana');
  await page.locator('#status[data-state="online"]').waitFor();
  await page.goto(`${cloud.httpUrl}/#room=${roomId}&key=${String(joined.inviteKey)}`);
  await page.locator(`[data-testid="room-code"][data-room-id="${roomId}"]`).waitFor();
  await page.locator('#me-name bdi').filter({ hasText: OVERRIDE_DANA }).waitFor();

  const { idToken } = await issuer.mint('mallory');
  const mallory = await ChatClient.connect(`${cloud.wsUrl}?token=${encodeURIComponent(idToken)}`);
  try {
    await mallory.expectReply({ action: 'joinroom', roomId, inviteKey: String(joined.inviteKey) });
    await page.locator('[data-testid="system-line"]').filter({ hasText: 'joined' }).waitFor();
    await page.getByTestId('composer-input').fill('hello');
    await page.getByTestId('composer-input').press('Enter');
    await page.locator('[data-testid="message"][data-seq].is-own').waitFor();
    await page.locator('[data-testid="member-item"]').nth(2).waitFor();

    // What a reader sees: "joined" stays to the right of the name, not pulled into the name's reversed run.
    const line = await layoutOf(
      page,
      '[data-testid="system-line"] .sys-text',
      OVERRIDE_MALLORY.slice(1),
      'joined',
    );
    if (!line.name?.right || !line.after?.right) throw new Error('the presence line is not laid out');
    expect(line.after.left).toBeGreaterThanOrEqual(line.name.right - 0.5);

    // Each name sits in a <bdi> of its own, holding the name and nothing else.
    const names = await page.evaluate(() => {
      const g = globalThis as unknown as {
        document: { querySelectorAll(s: string): Iterable<{ textContent: string | null }> };
      };
      const texts = (s: string) => [...g.document.querySelectorAll(s)].map((n) => n.textContent);
      return {
        me: texts('#me-name bdi'),
        author: texts('[data-testid="message"][data-seq] .msg-author bdi'),
        members: texts('[data-testid="member-item"] .member-name bdi').sort(),
        presence: texts('[data-testid="system-line"] .sys-text bdi'),
      };
    });
    expect(names).toEqual({
      me: [OVERRIDE_DANA],
      author: [OVERRIDE_DANA],
      members: [OVERRIDE_DANA, OVERRIDE_MALLORY, 'host'].sort(),
      presence: [OVERRIDE_MALLORY],
    });
  } finally {
    await mallory.close();
  }
});
