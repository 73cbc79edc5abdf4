// artillery processor for the roomcast WebSocket scenarios (load/local.yml, load/deployed.yml). CommonJS, no
// dependencies: artillery loads it into each of its workers.
//
// Each virtual user (VU) connects with ?username=, joins a room (the first VU of each group creates it with
// `createroom`, the others `joinroom` its code), sends chat messages with a clientMsgId at a steady rate, waits for
// its own messages to come back through the fan-out, then leaves. The socket is artillery's (its ws engine opens
// it), so this file speaks the protocol on it rather than through client/. Metrics it adds to artillery's report:
//
//   chat.latency_ms      histogram  send -> the sender receives its own `message` frame (matched by clientMsgId)
//   chat.fanout_ms       histogram  send -> another member receives it (send time travels in the text)
//   chat.ack_ms          histogram  send -> `ack` frame (matched by clientMsgId)
//   chat.join_ms         histogram  createroom/joinroom -> `joined`
//   chat.sent, chat.acked, chat.received_own, chat.received_others           counters
//   chat.own_missing     counter    own messages not back within drainMs (lost, or slower than drainMs)
//   chat.seq_missing     counter    seqs of the room never received while a member (checked at the end)
//   chat.duplicates      counter    the same seq received twice by one member
//   chat.error.<CODE>    counter    error frames by code (BAD_REQUEST, RATE_LIMITED, ...)
//
// Tunables (config.variables in the scenario file): roomSize (VUs per room), messageBytes (text length),
// drainMs (how long to wait for the last messages), replyTimeoutMs (join/leave answers).

const { randomUUID } = require('node:crypto');
// The delivery audit shared with the tests and the benchmark (client/deliveryAudit.ts, built by `npm run load`).
const { auditDelivery } = require('../dist/client/roomcast.cjs');

/** Per worker: the rooms being filled, as promises of their codes; VUs are grouped in arrival order. */
const rooms = new Map();
let vuCounter = 0;

const TAG = 'lt';

function setting(context, name, fallback) {
  const raw = context.vars[name];
  const value = Number(raw);
  return raw === undefined || raw === '' || !Number.isFinite(value) ? fallback : value;
}

/** `connect.function`: the target is the stage URL; the username goes in the query string. */
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
  wsArgs.target = url.toString();
  return done();
}

/** Routes every frame of this VU's socket; installed once, survives artillery's own `onmessage` resets. */
function attach(context, events) {
  if (context.chat) return context.chat;
  const chat = {
    pending: new Map(), // clientMsgId -> sent at (ms), until the sender sees its own message
    unacked: new Map(), // clientMsgId -> sent at (ms), until the ack
    waiters: [], // { type, resolve }
    arrived: [], // seqs of the room's message frames, in arrival order
    baseSeq: 0,
    maxSeq: 0,
    roomId: undefined,
  };
  context.chat = chat;
  context.ws.on('message', (data) => {
    let frame;
    try {
      frame = JSON.parse(String(data));
    } catch {
      events.emit('counter', 'chat.bad_frames', 1);
      return;
    }
    const now = Date.now();
    switch (frame.type) {
      case 'ack': {
        const sentAt = chat.unacked.get(frame.clientMsgId);
        chat.unacked.delete(frame.clientMsgId);
        events.emit('counter', 'chat.acked', 1);
        if (sentAt !== undefined) events.emit('histogram', 'chat.ack_ms', now - sentAt);
        break;
      }
      case 'message': {
        if (frame.roomId !== chat.roomId) break;
        chat.arrived.push(frame.seq);
        if (frame.seq > chat.maxSeq) chat.maxSeq = frame.seq;
        const [tag, clientMsgId, sentRaw] = String(frame.text).split(' ');
        if (tag !== TAG) break;
        const mine = chat.pending.get(clientMsgId);
        if (mine !== undefined && frame.username === context.vars.username) {
          chat.pending.delete(clientMsgId);
          events.emit('histogram', 'chat.latency_ms', now - mine);
          events.emit('counter', 'chat.received_own', 1);
        } else {
          const sentAt = Number(sentRaw);
          if (Number.isFinite(sentAt)) events.emit('histogram', 'chat.fanout_ms', now - sentAt);
          events.emit('counter', 'chat.received_others', 1);
        }
        break;
      }
      case 'error':
        events.emit('counter', `chat.error.${frame.code || 'UNKNOWN'}`, 1);
        break;
      default:
        break;
    }
    const answers = (w) => w.type === frame.type || (frame.type === 'error' && frame.action === w.action);
    for (const waiter of chat.waiters.filter(answers)) {
      chat.waiters.splice(chat.waiters.indexOf(waiter), 1);
      waiter.resolve(frame);
    }
  });
  return chat;
}

/** Sends a frame and resolves with the first frame of `type` (or an error frame), or rejects after the timeout. */
function request(context, body, type) {
  const chat = context.chat;
  const timeoutMs = setting(context, 'replyTimeoutMs', 10_000);
  return new Promise((resolve, reject) => {
    const waiter = { type, action: body.action, resolve: () => {} };
    const timer = setTimeout(() => {
      chat.waiters.splice(chat.waiters.indexOf(waiter), 1);
      reject(new Error(`no "${type}" answer to ${body.action} within ${timeoutMs} ms`));
    }, timeoutMs);
    waiter.resolve = (frame) => {
      clearTimeout(timer);
      if (frame.type === 'error') reject(new Error(`${body.action}: ${frame.code} ${frame.message}`));
      else resolve(frame);
    };
    chat.waiters.push(waiter);
    context.ws.send(JSON.stringify(body));
  });
}

function joined(context, frame) {
  context.chat.roomId = frame.roomId;
  context.chat.baseSeq = frame.lastSeq || 0;
  context.chat.maxSeq = context.chat.baseSeq;
  context.vars.roomId = frame.roomId;
}

/** Function step: the first VU of each group of `roomSize` creates the room, the rest join it. */
async function joinRoom(context, events) {
  attach(context, events);
  const roomSize = Math.max(1, setting(context, 'roomSize', 10));
  const slot = Math.floor((context.vars.vuIndex - 1) / roomSize);
  const started = Date.now();
  let created = rooms.get(slot);
  if (created === undefined) {
    created = request(context, { action: 'createroom' }, 'joined');
    rooms.set(slot, created);
    joined(context, { roomId: (await created).roomId, lastSeq: 0 });
    events.emit('counter', 'chat.rooms_created', 1);
  } else {
    // The invite key, as a shared link carries it: joins by code alone are limited per source address.
    const { roomId, inviteKey } = await created;
    const frame = await request(
      context,
      { action: 'joinroom', roomId, ...(inviteKey && { key: inviteKey }) },
      'joined',
    );
    joined(context, frame);
  }
  events.emit('histogram', 'chat.join_ms', Date.now() - started);
}

/** Function step: one chat message, tagged so every receiver can tell who sent it and when. */
async function sendChat(context, events) {
  const clientMsgId = randomUUID();
  const sentAt = Date.now();
  const head = `${TAG} ${clientMsgId} ${sentAt} `;
  const size = Math.max(head.length + 1, setting(context, 'messageBytes', 100));
  context.chat.pending.set(clientMsgId, sentAt);
  context.chat.unacked.set(clientMsgId, sentAt);
  context.ws.send(
    JSON.stringify({ action: 'sendmessage', clientMsgId, message: head + 'x'.repeat(size - head.length) }),
  );
  events.emit('counter', 'chat.sent', 1);
}

/** Function step: wait for this VU's own messages to come back, then count what never came. */
async function drain(context, events) {
  const chat = context.chat;
  const deadline = Date.now() + setting(context, 'drainMs', 5_000);
  while (chat.pending.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (chat.pending.size > 0) events.emit('counter', 'chat.own_missing', chat.pending.size);
  const owed = Array.from({ length: chat.maxSeq - chat.baseSeq }, (_, i) => chat.baseSeq + 1 + i);
  const { lost, extraCopies } = auditDelivery(owed, chat.arrived);
  if (lost.length > 0) events.emit('counter', 'chat.seq_missing', lost.length);
  if (extraCopies > 0) events.emit('counter', 'chat.duplicates', extraCopies);
}

/** Function step: back to the lobby before the socket closes. */
async function leaveRoom(context, events) {
  const started = Date.now();
  await request(context, { action: 'leaveroom' }, 'left');
  context.chat.roomId = undefined;
  events.emit('histogram', 'chat.leave_ms', Date.now() - started);
}

module.exports = { connectAs, joinRoom, sendChat, drain, leaveRoom };
