#!/usr/bin/env node
// Checks a deployed roomcast as a user meets it: connects, creates a room, sends a message, receives it back through
// the fan-out, reads it from history, pings, and closes the room. One line per step; exit code 1 when a step fails.
//   npm run check -- --stack roomcast [--region eu-west-1] [--token <ID token>]
//   npm run check -- --url wss://abc123.execute-api.eu-west-1.amazonaws.com/prod [--token <ID token>]
// --stack reads the WebSocketUrl output with the AWS CLI. A signed-in stack (AuthMode cognito, oidc, token) needs
// --token: an ID token of a user of the stack (docs/SECURITY.md).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const HELP =
  'Usage: npm run check -- (--stack NAME [--region R] | --url WSS_URL) [--token JWT] [--username NAME] [--timeout SECONDS]';

function usage(message) {
  process.stderr.write(`check: ${message}\n${HELP}\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      stack: { type: 'string' },
      region: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      username: { type: 'string' },
      timeout: { type: 'string', default: '15' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  usage(error.message);
}
if (values.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
if ((values.stack === undefined) === (values.url === undefined)) usage('give either --stack or --url');
const timeoutMs = Number(values.timeout) * 1000;
if (!(timeoutMs > 0)) usage('--timeout must be a number of seconds above 0');

const results = [];
/** Prints one step's line as it ends. */
function report(ok, step, detail) {
  results.push(ok);
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'}  ${step.padEnd(14)} ${detail}\n`);
}

function stackUrl(stack, region) {
  const args = ['cloudformation', 'describe-stacks', '--stack-name', stack, '--output', 'text'];
  args.push('--query', "Stacks[0].Outputs[?OutputKey=='WebSocketUrl'].OutputValue");
  if (region) args.push('--region', region);
  try {
    const url = execFileSync('aws', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    if (!url || url === 'None') throw new Error(`stack ${stack} has no WebSocketUrl output`);
    return url;
  } catch (error) {
    const why = error.code === 'ENOENT' ? 'the AWS CLI is not installed' : error.stderr || error.message;
    throw new Error(String(why).trim().split('\n')[0]);
  }
}

/** A socket whose frames are awaited by predicate, each frame handed out once. */
function chat(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs });
    const frames = [];
    const waiters = new Set();
    ws.on('message', (data) => {
      let frame;
      try {
        frame = JSON.parse(String(data));
      } catch {
        frame = { raw: String(data) };
      }
      for (const waiter of waiters) {
        if (waiter.match(frame)) {
          waiters.delete(waiter);
          waiter.resolve(frame);
          return;
        }
      }
      frames.push(frame);
    });
    ws.on('close', (code) => {
      for (const waiter of waiters) waiter.reject(new Error(`the connection closed (${code})`));
      waiters.clear();
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => {
        const hint = res.statusCode === 401 ? ' (a signed-in stack needs --token)' : '';
        reject(new Error(`handshake refused: ${res.statusCode} ${body.trim()}${hint}`));
      });
    });
    ws.once('error', (error) => reject(error));
    ws.once('open', () =>
      resolve({
        ws,
        /** Sends `frame` and waits for the first frame (already here or to come) that `match` accepts. */
        ask(frame, match, what) {
          if (frame) ws.send(JSON.stringify(frame));
          const index = frames.findIndex(match);
          if (index !== -1) return Promise.resolve(frames.splice(index, 1)[0]);
          return new Promise((done, fail) => {
            const waiter = { match, resolve: done, reject: fail };
            waiters.add(waiter);
            setTimeout(() => {
              if (waiters.delete(waiter)) fail(new Error(`no ${what} within ${timeoutMs / 1000} s`));
            }, timeoutMs).unref();
          });
        },
      }),
    );
  });
}

/** The reply to a request: its frame type or an error naming it; an error frame fails the step with its message. */
async function request(socket, frame, type, what) {
  const requestId = `check-${randomBytes(4).toString('hex')}`;
  const reply = await socket.ask(
    { ...frame, requestId },
    (f) => f.requestId === requestId || (typeof f.message === 'string' && f.connectionId !== undefined),
    what,
  );
  if (reply.type === type) return reply;
  throw new Error(
    reply.type === 'error' ? `${reply.code}: ${reply.message}` : `answered ${JSON.stringify(reply)}`,
  );
}

const since = (started) => `${Date.now() - started} ms`;

async function main() {
  let url = values.url;
  if (values.stack !== undefined) {
    try {
      url = stackUrl(values.stack, values.region);
      report(true, 'stack', `${values.stack}: ${url}`);
    } catch (error) {
      report(false, 'stack', error.message);
      return;
    }
  }
  const username = values.username ?? `check-${randomBytes(2).toString('hex')}`;
  const query = new URLSearchParams({ username, ...(values.token !== undefined && { token: values.token }) });
  let socket;
  let started = Date.now();
  try {
    socket = await chat(`${url}?${query}`);
    report(true, 'connect', `${url} (${since(started)})`);
  } catch (error) {
    report(false, 'connect', `${url}: ${error.message}`);
    return;
  }
  try {
    started = Date.now();
    const joined = await request(socket, { action: 'createroom' }, 'joined', 'joined reply');
    const roomId = joined.roomId;
    report(true, 'create room', `${roomId} (${since(started)})`);

    const text = `stack check ${new Date().toISOString()}`;
    const clientMsgId = `check-${randomBytes(6).toString('hex')}`;
    started = Date.now();
    const live = socket.ask(
      undefined,
      (f) =>
        (f.type === 'message' && f.text === text) ||
        (f.type === 'batch' && f.messages?.some((m) => m.text === text)),
      'message back from the fan-out',
    );
    live.catch(() => undefined);
    let ack;
    try {
      ack = await request(socket, { action: 'sendmessage', message: text, clientMsgId }, 'ack', 'ack');
      report(true, 'send', `seq ${ack.seq} acknowledged (${since(started)})`);
    } catch (error) {
      report(false, 'send', error.message);
    }
    if (ack) {
      try {
        await live;
        report(true, 'receive', `the message came back through the fan-out (${since(started)})`);
      } catch (error) {
        report(false, 'receive', `${error.message} (EventBridge -> Step Functions -> Deliver)`);
      }
      started = Date.now();
      try {
        const page = await request(socket, { action: 'history', afterSeq: 0 }, 'history', 'history reply');
        const found = page.messages?.some((m) => m.seq === ack.seq && m.text === text);
        report(
          found,
          'history',
          found ? `seq ${ack.seq} read back (${since(started)})` : 'the message is missing',
        );
      } catch (error) {
        report(false, 'history', error.message);
      }
    }
    started = Date.now();
    try {
      await socket.ask({ action: 'ping' }, (f) => f.type === 'pong', 'pong');
      report(true, 'ping', `pong (${since(started)})`);
    } catch (error) {
      report(false, 'ping', error.message);
    }
    try {
      await request(socket, { action: 'closeroom' }, 'roomclosed', 'roomclosed reply');
      report(true, 'close room', roomId);
    } catch (error) {
      report(false, 'close room', error.message);
    }
  } catch (error) {
    report(false, 'create room', error.message);
  } finally {
    socket.ws.close();
  }
}

await main();
const failed = results.filter((ok) => !ok).length;
process.stdout.write(failed === 0 ? 'all steps passed\n' : `${failed} step(s) failed\n`);
process.exit(failed === 0 ? 0 : 1);
