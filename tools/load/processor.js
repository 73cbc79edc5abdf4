// artillery processor for the roomcast WebSocket scenarios (tools/load/local.yml, tools/load/deployed.yml).
// CommonJS, no dependencies: artillery loads it into each of its workers.
//
// Each virtual user (VU) connects with ?username=, joins a room (the first VU of each group creates it with
// `createroom`, the others `joinroom` its code), sends chat messages at a steady rate, waits for its own messages to
// come back through the fan-out, then leaves. The socket is artillery's (its ws engine opens it); each VU speaks
// the protocol on it through the client library (client/, lean mode: no resume, no timers, no reconnect, every
// message as it arrives, a batch frame's one by one, so the audit sees losses and copies). A message of the room
// counts from the moment it arrives, even before the `joined` reply (the fan-out may be quicker than the reply).
// Metrics it adds to artillery's report:
//
//   chat.latency_ms      histogram  send -> the sender receives its own `message` frame (matched by a tag in the text)
//   chat.fanout_ms       histogram  send -> another member receives it (send time travels in the text)
//   chat.ack_ms          histogram  send -> `ack` frame (matched by clientMsgId)
//   chat.join_ms         histogram  createroom/joinroom -> `joined`
//   chat.sent, chat.acked, chat.received_own, chat.received_others           counters
//   chat.own_missing     counter    own messages not back within drainMs (lost, or slower than drainMs)
//   chat.seq_missing     counter    seqs of the room never received while a member (checked at the end)
//   chat.duplicates      counter    the same seq received twice by one member
//   chat.resyncs         counter    `resync` frames: the fan-out gave up posting live and told the member to read history
//   chat.error.<CODE>    counter    error frames by code (BAD_REQUEST, RATE_LIMITED, ...)
//   chat.bad_frames      counter    frames that are not JSON
//
// Tunables (config.variables in the scenario file): roomSize (VUs per room), messageBytes (text length),
// drainMs (how long to wait for the last messages), replyTimeoutMs (join/leave answers).

const { execFileSync } = require('node:child_process');
const { createHmac, randomUUID } = require('node:crypto');
// The client library and the delivery audit shared with the tests and the benchmark (built by `npm run load`).
const { auditDelivery, createRoomcastClient, ERROR_CODES } = require('@roomcast/client');

/** Per worker: the rooms being filled, as promises of their codes; VUs are grouped in arrival order. */
const rooms = new Map();
let vuCounter = 0;

const TAG = 'lt';
const SERVER_CODES = new Set(ERROR_CODES);
const OPEN = 1;

function setting(context, name, fallback) {
  const raw = context.vars[name];
  const value = Number(raw);
  return raw === undefined || raw === '' || !Number.isFinite(value) ? fallback : value;
}

/** `connect.function`: the target is the stage URL; the username goes in the query string. */
/** An HS256 connection token { sub, username, iat, exp } for AuthMode=token, as `npm run token` mints it. */
function hs256Token(username, secret) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: username, username, iat: now, exp: now + 3600 })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/**
 * The token a VU connects with, if the stack needs one: ROOMCAST_TOKEN_SECRET mints an AuthMode=token token here;
 * ROOMCAST_TOKEN_COMMAND runs a command (through the shell, with ROOMCAST_USERNAME set) whose output is the token,
 * for any AuthMode (a Cognito or OIDC sign-in, a script). Neither: no token.
 */
function tokenFor(username) {
  if (process.env.ROOMCAST_TOKEN_SECRET) return hs256Token(username, process.env.ROOMCAST_TOKEN_SECRET);
  const command = process.env.ROOMCAST_TOKEN_COMMAND;
  if (!command) return undefined;
  const out = execFileSync('/bin/sh', ['-c', command], {
    env: { ...process.env, ROOMCAST_USERNAME: username },
    encoding: 'utf8',
    timeout: 30_000,
  }).trim();
  if (!out) throw new Error(`ROOMCAST_TOKEN_COMMAND printed no token for ${username}`);
  return out;
}

function connectAs(wsArgs, context, done) {
  const base = process.env.ROOMCAST_WS_URL || wsArgs.target;
  if (!base || base.includes('{{')) {
    return done(new Error('no WebSocket URL: set ROOMCAST_WS_URL or pass --target'));
  }
  vuCounter += 1;
  context.vars.vuIndex = vuCounter;
  context.vars.username = `load-${process.pid}-${vuCounter}`;
  const url = new URL(base);
  url.searchParams.set('username', context.vars.username);
  let token;
  try {
    token = tokenFor(context.vars.username);
  } catch (error) {
    return done(error);
  }
  if (token) url.searchParams.set('token', token);
  wsArgs.target = url.toString();
  context.vars.wsUrl = wsArgs.target;
  return done();
}

/**
 * artillery's open `ws` socket as the client's WebSocket class: the client takes it over instead of opening one.
 * Listeners go through `on`, so artillery's own `onmessage` resets between steps do not cut the client off.
 */
function artillerySocket(ws) {
  return class ArtillerySocket {
    constructor() {
      this.onopen = null;
      this.onmessage = null;
      this.onclose = null;
      this.onerror = null;
      ws.on('message', (data) => this.onmessage?.({ data: String(data) }));
      ws.on('close', (code, reason) => this.onclose?.({ code, reason: String(reason) }));
      ws.on('error', (error) => this.onerror?.(error));
    }
    get readyState() {
      return ws.readyState;
    }
    send(data) {
      ws.send(data);
    }
    close(code, reason) {
      if (ws.readyState === OPEN) ws.close(code, reason);
    }
  };
}

/** An error frame from the server is counted by its code; the client's own (a timeout, a close) are not frames. */
function countError(events, error) {
  if (error && SERVER_CODES.has(error.code)) events.emit('counter', `chat.error.${error.code}`, 1);
}

/** This VU's client on artillery's socket, made once; its messages feed the metrics and the audit. */
async function attach(context, events) {
  if (context.chat) return context.chat;
  const client = createRoomcastClient({
    url: context.vars.wsUrl || 'ws://artillery/',
    WebSocket: artillerySocket(context.ws),
    lean: true,
    requestTimeoutMs: setting(context, 'replyTimeoutMs', 10_000),
    maxSendAttempts: 1,
  });
  const chat = {
    client,
    pending: new Map(), // tag id -> sent at (ms), until the sender sees its own message
    // roomId -> seqs of its messages, in arrival order. Kept for every room: the fan-out may post a message of the
    // room being joined before the `joined` reply arrives, while the VU does not know the room's code yet.
    arrived: new Map(),
    baseSeq: 0,
    roomId: undefined,
    left: false,
  };
  context.chat = chat;
  client.on('error', (error) => countError(events, error));
  client.on('resync', () => {
    events.emit('counter', 'chat.resyncs', 1);
  });
  client.on('unknown', ({ frame }) => {
    if (frame === undefined) events.emit('counter', 'chat.bad_frames', 1);
  });
  client.on('message', (message) => {
    if (chat.left) return;
    const now = Date.now();
    const seqs = chat.arrived.get(message.roomId) ?? [];
    chat.arrived.set(message.roomId, seqs);
    seqs.push(message.seq);
    const [tag, id, sentRaw] = String(message.text).split(' ');
    if (tag !== TAG) return;
    const mine = chat.pending.get(id);
    if (mine !== undefined && message.username === context.vars.username) {
      chat.pending.delete(id);
      events.emit('histogram', 'chat.latency_ms', now - mine);
      events.emit('counter', 'chat.received_own', 1);
    } else {
      const sentAt = Number(sentRaw);
      if (Number.isFinite(sentAt)) events.emit('histogram', 'chat.fanout_ms', now - sentAt);
      events.emit('counter', 'chat.received_others', 1);
    }
  });
  await client.ready();
  return chat;
}

/** Runs a request of the client; an error frame is counted by its code and fails the step (and so the VU). */
async function counted(events, request) {
  try {
    return await request;
  } catch (error) {
    countError(events, error);
    throw new Error(`${error.details?.action ?? 'request'}: ${error.code} ${error.message}`);
  }
}

function joined(context, frame) {
  context.chat.roomId = frame.roomId;
  context.chat.baseSeq = frame.lastSeq || 0;
  context.vars.roomId = frame.roomId;
}

/** Function step: the first VU of each group of `roomSize` creates the room, the rest join it. */
async function joinRoom(context, events) {
  const { client } = await attach(context, events);
  const roomSize = Math.max(1, setting(context, 'roomSize', 10));
  const slot = Math.floor((context.vars.vuIndex - 1) / roomSize);
  const started = Date.now();
  let created = rooms.get(slot);
  if (created === undefined) {
    created = counted(events, client.createRoom());
    rooms.set(slot, created);
    joined(context, await created);
    events.emit('counter', 'chat.rooms_created', 1);
  } else {
    // The invite key, as a shared link carries it: joins by code alone are limited per source address.
    const { roomId, inviteKey } = await created;
    joined(context, await counted(events, client.join(roomId, inviteKey)));
  }
  events.emit('histogram', 'chat.join_ms', Date.now() - started);
}

/** Function step: one chat message, tagged so every receiver can tell who sent it and when. */
async function sendChat(context, events) {
  const chat = context.chat;
  const id = randomUUID();
  const sentAt = Date.now();
  const head = `${TAG} ${id} ${sentAt} `;
  const size = Math.max(head.length + 1, setting(context, 'messageBytes', 100));
  chat.pending.set(id, sentAt);
  // The step does not wait for the ack: messages go out at the scenario's rate, acks are counted as they come.
  chat.client.send(head + 'x'.repeat(size - head.length)).then(
    () => {
      events.emit('counter', 'chat.acked', 1);
      events.emit('histogram', 'chat.ack_ms', Date.now() - sentAt);
    },
    (error) => countError(events, error),
  );
  events.emit('counter', 'chat.sent', 1);
}

/** Seqs of the VU's room that arrived, and the highest seq it is owed (the highest it saw, or its join's). */
function roomArrivals(chat) {
  const arrived = chat.arrived.get(chat.roomId) ?? [];
  return { arrived, maxSeq: arrived.reduce((max, seq) => Math.max(max, seq), chat.baseSeq) };
}

/** True while a seq below the highest one seen has not arrived: fan-outs run concurrently, so it may be in flight. */
function hasGap(chat) {
  const { arrived, maxSeq } = roomArrivals(chat);
  const seen = new Set(arrived);
  for (let seq = chat.baseSeq + 1; seq <= maxSeq; seq++) if (!seen.has(seq)) return true;
  return false;
}

/**
 * Function step: wait, up to drainMs, for this VU's own messages to come back and for every seq below the highest it
 * saw, then count what never came.
 */
async function drain(context, events) {
  const chat = context.chat;
  const deadline = Date.now() + setting(context, 'drainMs', 5_000);
  while ((chat.pending.size > 0 || hasGap(chat)) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  // Emitted even at 0, so artillery's `ensure` conditions always find these counters.
  events.emit('counter', 'chat.own_missing', chat.pending.size);
  const { arrived, maxSeq } = roomArrivals(chat);
  const owed = Array.from({ length: maxSeq - chat.baseSeq }, (_, i) => chat.baseSeq + 1 + i);
  const { lost, extraCopies } = auditDelivery(owed, arrived);
  events.emit('counter', 'chat.seq_missing', lost.length);
  // LOAD_DEBUG=1 names the seqs each member missed, to tell a fan-out's loss from a join's race.
  if (process.env.LOAD_DEBUG && lost.length)
    console.error(
      `missing ${context.vars.username} joined at ${chat.baseSeq} saw up to ${maxSeq}: ${lost.join(' ')}`,
    );
  events.emit('counter', 'chat.duplicates', extraCopies);
}

/** Function step: back to the lobby before the socket closes. */
async function leaveRoom(context, events) {
  const started = Date.now();
  context.chat.left = true;
  await counted(events, context.chat.client.leave());
  events.emit('histogram', 'chat.leave_ms', Date.now() - started);
  context.chat.client.close();
}

module.exports = { connectAs, joinRoom, sendChat, drain, leaveRoom, tokenFor };
