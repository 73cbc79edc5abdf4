import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import { parse } from 'yaml';
import {
  ACTIONS,
  ERROR_CODES,
  GATEWAY,
  LIMITS,
  ONE_WAY_ACTIONS,
  PATTERNS,
  PONG_BODY,
  REPLY_TYPE,
  SERVER_FRAME_TYPES,
} from '#protocol';

/**
 * protocol/asyncapi.yaml is what clients in other languages read; protocol/index.ts is what roomcast's own code
 * imports. This keeps them equal: a valid AsyncAPI 3 document with the same actions, frames, codes and limits.
 */
const path = join(__dirname, '..', '..', 'protocol', 'asyncapi.yaml');
const text = readFileSync(path, 'utf8');

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  const?: unknown;
  enum?: unknown[];
  $ref?: string;
  maxLength?: number;
  maximum?: number;
  default?: number;
  pattern?: string;
  maxItems?: number;
  'x-max-utf8-bytes'?: number;
  minItems?: number;
  items?: Schema;
};
interface Doc {
  components: {
    messages: Record<string, { payload: Schema; examples?: { payload: Record<string, unknown> }[] }>;
    schemas: Record<string, Schema>;
  };
  operations: Record<
    string,
    { action: string; messages: { $ref: string }[]; reply?: { messages: { $ref: string }[] } }
  >;
}
const doc = parse(text) as Doc;
const { messages, schemas } = doc.components;
const resolve = (schema: Schema): Schema =>
  schema.$ref ? resolve(schemas[schema.$ref.replace('#/components/schemas/', '')] ?? {}) : schema;
const messageName = (ref: { $ref: string }) => ref.$ref.split('/').pop() ?? '';

it('is a valid AsyncAPI 3 document', async () => {
  const { document, diagnostics } = await new Parser().parse(text);
  const errors = diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('.')}: ${d.message}`);
  expect(errors).toEqual([]);
  expect(document?.version()).toBe('3.0.0');
});

it('describes every action as a request whose reply is the frame protocol/ names', () => {
  const requests = Object.keys(messages).filter((name) => name.endsWith('Request'));
  expect(requests.map((name) => name.replace(/Request$/, '')).sort()).toEqual(
    [...ACTIONS, ...ONE_WAY_ACTIONS].sort(),
  );
  for (const action of ACTIONS) {
    expect(messages[`${action}Request`]?.payload.properties?.action?.const).toBe(action);
    const operation = doc.operations[action];
    expect(operation?.messages.map(messageName)).toEqual([`${action}Request`]);
    expect(operation?.reply?.messages.map(messageName)[0]).toBe(`${REPLY_TYPE[action]}Frame`);
  }
});

it('describes each one-way action as a request with no reply', () => {
  for (const action of ONE_WAY_ACTIONS) {
    expect(messages[`${action}Request`]?.payload.properties?.action?.const).toBe(action);
    expect(doc.operations[action]?.messages.map(messageName)).toEqual([`${action}Request`]);
    expect(doc.operations[action]?.reply).toBeUndefined();
  }
});

it('describes every server frame type, and no other', () => {
  const frames = Object.keys(messages).filter((name) => name.endsWith('Frame'));
  expect(frames.map((name) => name.replace(/Frame$/, '')).sort()).toEqual([...SERVER_FRAME_TYPES].sort());
  for (const type of SERVER_FRAME_TYPES) {
    expect(resolve(messages[`${type}Frame`]?.payload ?? {}).properties?.type?.const).toBe(type);
  }
  expect(JSON.parse(PONG_BODY)).toEqual({ type: 'pong' });
});

it('has the error codes, patterns and limits of protocol/index.ts', () => {
  expect(schemas.errorCode?.enum).toEqual([...ERROR_CODES]);
  expect(schemas.roomCode?.pattern).toBe(PATTERNS.roomCode);
  expect(schemas.inviteKey?.pattern).toBe(PATTERNS.inviteKey);
  expect(messages.joinroomRequest?.payload.properties?.key?.$ref).toBe('#/components/schemas/inviteKey');
  expect(messages.joinedFrame?.payload.properties?.inviteKey?.$ref).toBe('#/components/schemas/inviteKey');
  expect(schemas.requestToken?.pattern).toBe(PATTERNS.clientMsgId);
  expect(schemas.requestToken?.maxLength).toBe(LIMITS.clientMsgIdMaxChars);
  expect(schemas.requestToken?.maxLength).toBe(LIMITS.requestIdMaxChars);
  expect(schemas.text?.['x-max-utf8-bytes']).toBe(LIMITS.messageMaxBytes);
  expect(schemas.username?.maxLength).toBe(LIMITS.usernameMaxChars);
  expect(schemas.members?.maxItems).toBe(LIMITS.membersListed);
  const history = messages.historyRequest?.payload.properties?.limit;
  expect(history?.maximum).toBe(LIMITS.historyMax);
  expect(history?.default).toBe(LIMITS.historyDefault);
  expect(messages.historyFrame?.payload.properties?.messages?.maxItems).toBe(LIMITS.historyMax);
  expect(messages.joinedFrame?.payload.properties?.history?.maxItems).toBe(LIMITS.historyDefault);
  // Replies that carry messages come in pages within the reply budget, and say whether more follow.
  for (const frame of [messages.historyFrame, messages.joinedFrame]) {
    expect(frame?.payload['x-max-utf8-bytes']).toBe(LIMITS.replyMaxBytes);
    expect(frame?.payload.properties?.hasMore).toMatchObject({ type: 'boolean' });
  }
  // Every request may carry a requestId (ping aside: API Gateway answers it and echoes nothing).
  for (const action of ACTIONS.filter((a) => a !== 'ping')) {
    expect(messages[`${action}Request`]?.payload.properties?.requestId).toBeDefined();
  }
  expect(messages.errorFrame?.payload.properties?.requestId).toBeDefined();
  expect(messages.errorFrame?.payload.properties?.clientMsgId).toBeDefined();
});

it('describes the batch frame as protocol/ and the gateway limit it: message frames of one room within one frame', () => {
  const batch = messages.batchFrame;
  expect(batch?.payload['x-max-utf8-bytes']).toBe(GATEWAY.maxFrameBytes);
  expect(batch?.payload.properties?.messages?.minItems).toBe(2);
  // A message, or a change to one: every room event takes a seq and rides the same batches.
  expect(batch?.payload.properties?.messages?.items?.$ref).toBe('#/components/schemas/roomEvent');
  expect(messages.resyncFrame?.payload.properties?.afterSeq).toMatchObject({ type: 'integer', minimum: 0 });
  const receive = doc.operations.receive?.messages.map(messageName);
  expect(receive).toEqual(expect.arrayContaining(['messageFrame', 'batchFrame', 'resyncFrame']));
  for (const { payload } of batch?.examples ?? []) {
    const inside = payload.messages as Array<{ roomId: string; seq: number }>;
    expect(inside.every((m) => m.roomId === payload.roomId)).toBe(true);
    expect(inside.map((m) => m.seq)).toEqual([...new Set(inside.map((m) => m.seq))].sort((a, b) => a - b));
  }
});
