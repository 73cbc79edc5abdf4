import fc from 'fast-check';
import type { LocalCloud } from '../../tools/local/cloud';
import { ChatClient, type Frame, HandshakeRefused, isGatewayError } from '../helpers/chatClient';
import { auditRoom, type CloudTables, cloudTables } from '../helpers/deliveryChecker';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';

/**
 * Hostile input, fuzzed with fast-check: every frame gets an error frame or its normal reply, never the gateway's
 * "Internal server error"; no seq is taken and no message stored for a rejected frame; a member of the same room
 * sees only real messages; a message over 128 KB closes only the sender's socket (1009), as on AWS. Frames are
 * sent as AWS requires of a client: a message over 32 KB in frames of at most 32 KB (a larger frame closes with 1009).
 * FUZZ_RUNS scales the number of cases (default 300 frames + 40 usernames).
 */
jest.setTimeout(240_000);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const ERROR_CODES = ['BAD_REQUEST', 'ROOM_NOT_FOUND', 'MESSAGE_TOO_LARGE', 'RATE_LIMITED'];
const REPLY_TYPES = ['joined', 'left', 'ack', 'history', 'members', 'info', 'error'];

let testCloud: TestCloud;
let cloud: LocalCloud;
let tables: CloudTables;
let attacker: ChatClient;
let victim: ChatClient;
let roomId: string;
/** Acked sends per room: the only writes the fuzz may cause. */
const acked = new Map<string, number>();
let cases = 0;
const counts: Record<string, number> = {};

beforeAll(async () => {
  // The rate and abuse limits have their own tests (guessing.test.ts); here they would only make the fuzz's
  // accepted frames depend on timing, and close the attacker's socket.
  testCloud = await startTestCloud({
    settings: {
      SendRateLimit: '1000',
      FrameRateLimit: '100000',
      JoinGuessLimit: '100000',
      StrikeLimit: '100000',
    },
  });
  cloud = testCloud.cloud;
  tables = cloudTables(cloud);
  victim = await ChatClient.connect(cloud.wsUrl, 'victim');
  roomId = String((await victim.expectReply({ action: 'createroom' })).roomId);
  attacker = await joinedAttacker();
});

afterAll(async () => {
  process.stdout.write(`[figures] ${JSON.stringify({ test: 'hostile input fuzz', cases, ...counts })}\n`);
  await Promise.all([attacker, victim].map((c) => c?.close().catch(() => undefined)));
  tables?.db.destroy();
  await cloud?.close();
});

async function joinedAttacker(): Promise<ChatClient> {
  const client = await ChatClient.connect(cloud.wsUrl, 'mallory');
  await client.expectReply({ action: 'joinroom', roomId });
  return client;
}

const ROUTES = ['sendmessage', 'history', 'joinroom', 'createroom', 'leaveroom', 'who'];
const hostileString = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 64 }),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\udfff',
    '\u202e\u0041',
    '\ufeff',
    '<script>alert(1)</script>',
    '{{7*7}}',
    'lobby',
    'ABCDEF',
    'abcdef',
    '../../etc/passwd',
    '__proto__',
    'constructor',
    '\u{1F600}'.repeat(2000),
    'é'.repeat(2049),
  ),
  fc.integer({ min: 0, max: 3 }).map((n) => 'x'.repeat([4096, 4097, 20_000, 100_000][n] as number)),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(null, true, -1, 0, 1e308, -0, 1.5, Number.MAX_SAFE_INTEGER + 2, [], {}),
  fc.integer({ min: 1, max: 3 }).map((n) => JSON.parse(`${'['.repeat(n * 300)}${']'.repeat(n * 300)}`)),
);
const field = fc.constantFrom(
  'message',
  'roomId',
  'clientMsgId',
  'afterSeq',
  'limit',
  'action',
  'username',
  'seq',
  'text',
);

/** A frame's raw text: a JSON object for a route with hostile fields, or not an object at all. */
const frameText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.oneof(fc.constantFrom(...ROUTES), hostileValue),
        fc.array(fc.tuple(field, hostileValue), { maxLength: 4 }),
      )
      .map(([action, fields]) => JSON.stringify(Object.fromEntries([['action', action], ...fields]))),
  },
  // Prototype pollution: own "__proto__" / "constructor" keys in the text, where JSON.parse makes them plain data.
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...ROUTES),
        fc.constantFrom('__proto__', 'constructor', 'prototype'),
        hostileValue,
      )
      .map(
        ([action, key, value]) =>
          `{"action":${JSON.stringify(action)},"${key}":{"roomId":"ZZZZZZ","message":"polluted","isAdmin":true,"toString":${JSON.stringify(value) ?? 'null'}},"message":"x"}`,
      ),
  },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.constantFrom(
        'null',
        '1',
        '"sendmessage"',
        '[]',
        '[{"action":"sendmessage"}]',
        '{',
        '{"action":',
        '\u0000',
        '{"action":"sendmessage","message":"a","message":"b"}',
      ),
      fc
        .integer({ min: 1, max: 3 })
        .map((n) => `{"action":"history","afterSeq":${'['.repeat(n * 2000)}${']'.repeat(n * 2000)}}`),
    ),
  },
);

const FRAME_BYTES = 32 * 1024;

/** Sends a message as API Gateway requires: over 32 KB, in text frames of at most 32 KB. */
function sendInFrames(client: ChatClient, text: string): void {
  client.send(text, { maxFrameBytes: FRAME_BYTES });
}

/** Sends one raw frame and checks the answer; returns the reply. */
async function fire(text: string): Promise<Frame> {
  cases++;
  const start = attacker.mark();
  sendInFrames(attacker, text);
  const reply = await attacker.next(
    (f) => REPLY_TYPES.includes(String(f.type)) || isGatewayError(f) || 'raw' in f,
    10_000,
    `a reply to ${text.slice(0, 120)}`,
  );
  expect(isGatewayError(reply)).toBe(false);
  expect(REPLY_TYPES).toContain(reply.type);
  counts[String(reply.type === 'error' ? reply.code : reply.type)] =
    (counts[String(reply.type === 'error' ? reply.code : reply.type)] ?? 0) + 1;
  if (reply.type === 'error') {
    expect(ERROR_CODES).toContain(reply.code);
    expect(String(reply.message)).not.toMatch(/\bat \w+.*\(|Error:|\.ts:\d+/); // no stack trace
  }
  if (reply.type === 'ack') acked.set(String(reply.roomId), (acked.get(String(reply.roomId)) ?? 0) + 1);
  // Frames the reply does not account for (e.g. presence from moves) are fine; a second reply is not.
  expect(attacker.since(start).filter(isGatewayError)).toEqual([]);
  // Whatever happened, the attacker goes back to the victim's room for the next case.
  if (reply.type === 'joined' && reply.roomId !== roomId)
    await attacker.expectReply({ action: 'joinroom', roomId });
  if (reply.type === 'left') await attacker.expectReply({ action: 'joinroom', roomId });
  return reply;
}

test('every hostile frame on every route gets an error frame or its reply, and writes only when acked', async () => {
  await fc.assert(
    fc.asyncProperty(frameText, async (text) => {
      await fire(text);
    }),
    { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 20261122) },
  );
  await testCloud.settle();
  // No write for a rejected frame: the room's counter and its messages equal the sends that were acked.
  const audit = await auditRoom(tables, roomId);
  expect(audit).toEqual({
    roomId,
    seq: acked.get(roomId) ?? 0,
    missing: [],
    gaps: [],
    stored: acked.get(roomId) ?? 0,
  });
  // The victim saw exactly the acked messages and nothing else from the attacker; it still chats normally.
  expect(victim.messages(roomId)).toHaveLength(acked.get(roomId) ?? 0);
  expect(victim.frames.filter(isGatewayError)).toEqual([]);
  const ack = await attacker.expectReply({
    action: 'sendmessage',
    message: 'still fine',
    clientMsgId: 'after-fuzz',
  });
  await victim.next((f) => f.type === 'message' && f.seq === ack.seq && f.text === 'still fine');
});

test('a 128 KB message (in 32 KB frames) is answered on every route; one byte more closes only that socket (1009)', async () => {
  const fill = (route: string, bytes: number) => {
    const head = JSON.stringify({ action: route, roomId, afterSeq: 0, clientMsgId: 'big', message: '' });
    return head.replace('"message":""', `"message":"${'y'.repeat(bytes - head.length)}"`);
  };
  const before = await auditRoom(tables, roomId);
  for (const route of [...ROUTES, 'nosuchroute']) {
    const text = fill(route, 128 * 1024);
    expect(Buffer.byteLength(text)).toBe(128 * 1024);
    const reply = await fire(text);
    if (route === 'sendmessage') expect(reply).toMatchObject({ type: 'error', code: 'MESSAGE_TOO_LARGE' });
  }
  const closing = attacker;
  sendInFrames(closing, fill('sendmessage', 128 * 1024 + 1));
  expect((await closing.closed).code).toBe(1009);
  expect(victim.isOpen).toBe(true);
  attacker = await joinedAttacker();
  expect((await auditRoom(tables, roomId)).seq).toBe(before.seq);
});

/**
 * The username rules of docs/PROTOCOL.md ("Connecting"): NFKC, runs of spaces made one and the ends trimmed, then
 * 1–32 characters, each a letter, a combining mark on a letter or digit (at most 4 on one), a digit, a space or one
 * of ' - _ . @, and no Default_Ignorable code point; at least one letter or digit. Returns the name as the others
 * see it, or undefined when refused.
 */
const ALLOWED = /^[\p{L}\p{Mn}\p{Mc}\p{Nd} '\-_.@]+$/u;
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;
const LOOSE_MARK = /(^|[^\p{L}\p{Nd}\p{Mn}\p{Mc}])[\p{Mn}\p{Mc}]|[\p{Mn}\p{Mc}]{5}/u;
function underTheUsernameRules(name: string): string | undefined {
  const normal = name.normalize('NFKC').replace(/ {2,}/g, ' ').replace(/^ | $/g, '');
  const chars = [...normal].length;
  const keeps =
    chars >= 1 &&
    chars <= 32 &&
    ALLOWED.test(normal) &&
    !INVISIBLE.test(normal) &&
    !LOOSE_MARK.test(normal) &&
    /[\p{L}\p{Nd}]/u.test(normal);
  return keeps ? normal : undefined;
}

test('hostile usernames are refused with 400 or accepted, never an internal error', async () => {
  const names = fc.oneof(hostileString, fc.string({ unit: 'binary', minLength: 30, maxLength: 40 }));
  await fc.assert(
    fc.asyncProperty(names, async (name) => {
      cases++;
      try {
        const client = await ChatClient.connect(cloud.wsUrl, name);
        const info = await client.expectReply({ action: 'who' });
        expect(info.type).toBe('members');
        // Accepted: the name keeps the rules, and it is the name the others see (NFKC, spaces tidied, nothing else).
        expect(underTheUsernameRules(name)).toBeDefined();
        expect((await client.expectReply({ action: 'help' })).username).toBe(underTheUsernameRules(name));
        await client.close();
      } catch (error) {
        if (!(error instanceof HandshakeRefused)) throw error;
        // 400 from $connect; 431 when the URL is over the HTTP server's header limit (AWS refuses those too).
        expect([400, 414, 431]).toContain(error.status);
        expect(error.body).not.toMatch(/Internal/);
        // Refused with 400: the name breaks a rule.
        if (error.status === 400) expect(underTheUsernameRules(name)).toBeUndefined();
      }
    }),
    { numRuns: Math.round(RUNS / 7.5), seed: 7 },
  );
});
