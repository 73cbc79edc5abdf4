// What a person running `npm start` sees of the pushes the local cloud sends: the push service stand-in
// (pushService.ts) tells each push it accepted or refused; each is printed as one line and kept among the latest
// LATEST_PUSHES shown at GET /push (a page refreshing itself) and GET /push.json on the stand-in's own origin. An
// accepted push is shown as the web chat's service worker (dist/web/sw.js, run here in a node:vm context with the
// decrypted payload) would show it: its notification's title and body. Pushes to a browser's own push service (a
// desktop Chrome's subscription names FCM) leave this machine and are not seen here; the push function's log line
// "push notifications" counts them.
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Script } from 'node:vm';
import { sendJson } from './http';
import type { ObservedPush, StandInWatch } from './pushService';

/** How many pushes the page lists, newest first. */
export const LATEST_PUSHES = 50;

/** A push as the page and the JSON list it. */
export interface WatchedPush {
  at: string;
  /** The subscription's id: the last segment of its endpoint. */
  subscription: string;
  status: number;
  size: number;
  /** The notification the service worker shows, for an accepted push. */
  title?: string;
  body?: string;
  /** The decrypted payload (JSON when it is JSON), for an accepted push. */
  payload?: unknown;
  /** Why the stand-in refused it. */
  reason?: string;
}

type Shown = { title: string; body: string };

/** The service worker's `push` handler, run on `text` as a browser runs it; undefined without a built sw.js. */
function serviceWorker(swPath: string): (text: string) => Shown | undefined {
  if (!existsSync(swPath)) return () => undefined;
  const script = new Script(readFileSync(swPath, 'utf8'), { filename: swPath });
  return (text) => {
    let shown: Shown | undefined;
    let onPush: ((event: unknown) => void) | undefined;
    const self = {
      addEventListener: (type: string, listener: (event: unknown) => void) => {
        if (type === 'push') onPush = listener;
      },
      registration: {
        showNotification: (title: string, options?: { body?: string }) => {
          shown = { title: String(title), body: String(options?.body ?? '') };
          return Promise.resolve();
        },
      },
    };
    try {
      script.runInNewContext({ self });
      onPush?.({
        data: { json: () => JSON.parse(text), text: () => text },
        waitUntil: () => undefined,
      });
    } catch {
      return undefined;
    }
    return shown;
  };
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** One console line: when, the outcome, for whom, and what the notification says (or why it was refused). */
export function pushLine(push: WatchedPush): string {
  const head = `${push.at.slice(11, 23)} PUSH  ${push.status} to subscription ${push.subscription} (${push.size} bytes)`;
  if (push.reason !== undefined) return `${head} refused: ${push.reason}`;
  const payload = push.payload as { roomId?: unknown } | undefined;
  const room = typeof payload?.roomId === 'string' ? ` [room ${payload.roomId}]` : '';
  return push.title === undefined
    ? `${head}${room}: ${JSON.stringify(push.payload)}`
    : `${head}${room}: "${push.title}" ${JSON.stringify(push.body ?? '')}`;
}

function page(pushes: readonly WatchedPush[]): string {
  const rows = pushes
    .map((p) => {
      const payload = p.payload as { roomId?: unknown } | undefined;
      const cells = [
        p.at.slice(11, 19),
        p.subscription,
        String(p.status),
        typeof payload?.roomId === 'string' ? payload.roomId : '',
        p.reason ?? p.title ?? JSON.stringify(p.payload),
        p.body ?? '',
      ];
      return `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>roomcast local pushes</title></head><body>
<h1>Pushes the local cloud sent</h1>
<p>The latest ${LATEST_PUSHES}, newest first, as the push service received them and the web chat's service worker
would show them (refreshes every 2 s; <a href="/push.json">JSON</a>).</p>
${pushes.length === 0 ? '<p data-testid="no-pushes">No pushes yet.</p>' : ''}
<table><thead><tr><th>Time (UTC)</th><th>Subscription</th><th>Status</th><th>Room</th><th>Title or refusal</th><th>Body</th></tr></thead>
<tbody>
${rows}
</tbody></table></body></html>
`;
}

/** The watch the local cloud gives its push service stand-in: `print` each push, and serve the latest ones. */
export function pushWatch(print: (line: string) => void, swPath: string): StandInWatch {
  const show = serviceWorker(swPath);
  const latest: WatchedPush[] = [];
  return {
    observe(push: ObservedPush) {
      const watched: WatchedPush = {
        at: new Date().toISOString(),
        subscription: push.endpoint.slice(push.endpoint.lastIndexOf('/') + 1),
        status: push.status,
        size: push.size,
        ...(push.text !== undefined && { payload: parsed(push.text), ...show(push.text) }),
        ...(push.reason !== undefined && { reason: push.reason }),
      };
      latest.unshift(watched);
      latest.length = Math.min(latest.length, LATEST_PUSHES);
      print(pushLine(watched));
    },
    serve(req: IncomingMessage, res: ServerResponse) {
      const path = new URL(req.url ?? '/', 'http://local').pathname;
      if (path === '/push.json') {
        sendJson(res, 200, { pushes: latest });
        return true;
      }
      if (path !== '/push') return false;
      const html = page(latest);
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': Buffer.byteLength(html),
        'cache-control': 'no-store',
        'content-security-policy': "default-src 'none'",
        'x-content-type-options': 'nosniff',
      });
      res.end(html);
      return true;
    },
  };
}
