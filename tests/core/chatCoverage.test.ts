import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { parse } from 'yaml';
import { CHANGE_ACTIONS } from '#protocol';
import { loadTemplate } from '../../tools/infra/template';
import { type Frame, isMessage, isPresence } from '../helpers/chatClient';
import {
  connect,
  connectionItem,
  createRoom,
  joinRoom,
  membersSeenBy,
  ROOM_CODE,
  roomOf,
  say,
  subscriptionItem,
  useChatCloud,
  waitUntil,
} from '../helpers/chatWorld';
import { eventsDir, frameOf, readEvent, sampleEvent } from '../helpers/events';
import { templatePath } from '../helpers/localCloud';
import { ACTION_FACTS, isTwoWay } from '../helpers/routeFacts';

/**
 * The chat when things go wrong, and what the other end-to-end tests must cover (tests/helpers/chatWorld.ts starts the
 * cloud): stale connections, failures, every route of template.yaml and every sample event in events/.
 */
jest.setTimeout(240_000);

const world = useChatCloud();

describe('stale connections', () => {
  it('a member whose socket closed without $disconnect is pruned after one fan-out; the others still get the message', async () => {
    const alice = await connect('alice-stale');
    const bob = await connect('bob-stale');
    const ghost = await connect('ghost-stale');
    const roomId = await roomOf(alice, bob, ghost);
    const ghostId = await ghost.connectionId();
    // The joins' presence fan-outs end first: one still posting when the ghost's socket closes would meet it too.
    await world.test.settle();
    const goneBefore = world.cloud.gateway.stats().gone;

    world.cloud.gateway.setFaults({ faultSkipDisconnect: 1 });
    const live = world.cloud.gateway.connectionCount();
    await ghost.close();
    await waitUntil(
      () => world.cloud.gateway.connectionCount() === live - 1,
      'the gateway to drop the ghost',
    );
    // The gateway forgot the socket, but the lost $disconnect left the member in the room.
    expect(await membersSeenBy(alice)).toEqual(['alice-stale', 'bob-stale', 'ghost-stale']);
    expect(await connectionItem(ghostId)).toBeDefined();

    const ack = await say(alice, 'anyone still here?');
    expect((await bob.next(isMessage(roomId, 'anyone still here?'))).seq).toBe(ack.seq);
    await alice.next(isMessage(roomId, 'anyone still here?'));
    await world.test.settle();

    expect(world.cloud.gateway.stats().gone).toBe(goneBefore + 1);
    // Out of the room index, so no fan-out posts to it again; its subscription waits for $disconnect or its ttl.
    expect(await subscriptionItem(ghostId, roomId)).toBeDefined();
    expect((await subscriptionItem(ghostId, roomId))?.roomKey).toBeUndefined();
    expect(await membersSeenBy(alice)).toEqual(['alice-stale', 'bob-stale']);
    expect(world.cloud.executions().failed).toBe(0);
  });
});

describe('failures', () => {
  it('when publishing fails the sender alone gets INTERNAL (the log has the stack), and a retry publishes once with the first seq', async () => {
    const alice = await connect('alice-fail');
    const bob = await connect('bob-fail');
    const carol = await connect('carol-fail');
    const roomId = await roomOf(alice, bob);
    const bobMark = bob.mark();
    const logMark = world.test.logs.length;

    world.cloud.eventBridge.setFaultPutEvents(1);
    const failed = await alice.ask({
      action: 'sendmessage',
      message: 'stored, not sent',
      clientMsgId: 'pf-1',
    });
    expect(failed).toMatchObject({ type: 'error', code: 'INTERNAL', action: 'sendmessage' });
    expect(failed.message).not.toMatch(/\n\s+at |PublishFailed|\.js:\d+/);

    const logged = world.test.logs.slice(logMark).join('\n');
    expect(logged).toMatch(/MessagesFunction: publishing to the chat bus failed/);
    expect(logged).toMatch(/PublishFailed: PutEvents failed[^\n]*\n\s+at /);

    // Everyone else is served as usual meanwhile.
    expect(await membersSeenBy(bob)).toEqual(['alice-fail', 'bob-fail']);
    expect((await carol.expectReply({ action: 'help' })).type).toBe('info');
    await world.test.settle();
    expect(bob.since(bobMark).filter((f) => f.type !== 'members')).toEqual([]);

    world.cloud.eventBridge.setFaultPutEvents(0);
    const ack = await say(alice, 'stored, not sent', 'pf-1');
    expect(ack).toMatchObject({ roomId, seq: 1, clientMsgId: 'pf-1' });
    expect((await bob.next(isMessage(roomId, 'stored, not sent'))).seq).toBe(1);
    const again = await say(alice, 'stored, not sent', 'pf-1');
    expect(again).toMatchObject({ seq: 1, messageId: ack.messageId });
    expect((await say(alice, 'and then the next')).seq).toBe(2);
    await bob.next(isMessage(roomId, 'and then the next'));
    await world.test.settle();
    expect(bob.seqs(roomId)).toEqual([1, 2]);
  });
});

/**
 * A request for `action`: its required fields as protocol/asyncapi.yaml's request message lists them, each given a
 * value by its name (`given`, the session's own: the message, the member; then FIELD_VALUES) or else by its schema
 * there (its example, const, first enum value or minimum, `true` for a flag, `[]` for a list that may be empty), so
 * a new route is asked with no line of its own here; a required field no value is found for fails, naming it.
 */
const asyncapi = parse(readFileSync(join(__dirname, '..', '..', 'protocol', 'asyncapi.yaml'), 'utf8')) as {
  components: {
    messages: Record<string, { payload: { required?: string[]; properties?: Record<string, Schema> } }>;
    schemas: Record<string, Schema>;
  };
};
interface Schema {
  $ref?: string;
  type?: string;
  examples?: unknown[];
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  minItems?: number;
}
// A role of `member`: the walk's setrole leaves bob one, as a moderator cannot be muted or banned.
const FIELD_VALUES: Record<string, unknown> = { message: 'every route', reaction: '👍', role: 'member' };
function schemaValue(property: Schema | undefined): unknown {
  const ref = property?.$ref?.replace('#/components/schemas/', '');
  const schema = { ...(ref ? asyncapi.components.schemas[ref] : {}), ...property };
  if (schema.examples?.length) return schema.examples[0];
  if ('const' in schema) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  if ((schema.type === 'integer' || schema.type === 'number') && schema.minimum !== undefined)
    return schema.minimum;
  if (schema.type === 'boolean') return true;
  if (schema.type === 'array' && !schema.minItems) return [];
  return undefined;
}
function request(action: string, given: Record<string, unknown>): Record<string, unknown> {
  const payload = asyncapi.components.messages[`${action}Request`]?.payload;
  if (!payload?.required) throw new Error(`protocol/asyncapi.yaml has no ${action}Request message`);
  const fields = payload.required.filter((field) => field !== 'action');
  const value = (field: string) =>
    field in given
      ? given[field]
      : field in FIELD_VALUES
        ? FIELD_VALUES[field]
        : schemaValue(payload.properties?.[field]);
  const unknown = fields.filter((field) => value(field) === undefined);
  if (unknown.length > 0)
    throw new Error(
      `${action}: no value in FIELD_VALUES or AsyncAPI for its required field(s) ${unknown.join(', ')}`,
    );
  return { action, ...Object.fromEntries(fields.map((field) => [field, value(field)])) };
}

/** The room routes a client is answered on, as their declarations say (tests/helpers/routeFacts.ts). */
const ROOM_ROUTES = ACTION_FACTS.filter((fact) => fact.scope === 'room' && isTwoWay(fact));

describe('coverage of the template and of events/', () => {
  const template = loadTemplate(templatePath);
  const [api] = template.webSocketApis();
  // Routes with a function; the MOCK ping route is answered by the gateway itself.
  const functionOfRoute = new Map(
    (api?.routes ?? []).flatMap((r) =>
      r.functionLogicalId ? [[r.routeKey, r.functionLogicalId] as const] : [],
    ),
  );

  it('every route of template.yaml is invoked through the gateway by a real client session', async () => {
    const from = world.test.invocations.length;
    const alice = await connect('alice-routes');
    const bob = await connect('bob-routes');
    const roomId = await createRoom(alice);
    await joinRoom(bob, roomId, [alice]);
    // Following rooms in one frame: bob follows the room already, so it is answered as it stands.
    await bob.expectReply({ action: 'subscribe', rooms: [{ roomId }] });
    const { seq } = (await say(bob, 'all routes')) as { seq: number };
    // Message changes: every change action, each on a message of its own that alice (its author, and the room's
    // owner, so allowed every kind) has just sent, answered with the message as changed.
    for (const action of CHANGE_ACTIONS) {
      const mine = (await say(alice, `to change by ${action}`)) as { seq: number };
      expect(await alice.expectReply(request(action, { seq: mine.seq }))).toMatchObject({
        type: 'changed',
        seq: expect.any(Number),
      });
    }
    // Safety: alice blocks and unblocks bob by his message, reads her list, reports the message and, as owner, lists
    // and dismisses its reports.
    const { people } = (await alice.expectReply({ action: 'block', seq })) as {
      people: { blockId: string }[];
    };
    await alice.expectReply({ action: 'unblock', blockId: people[0]?.blockId });
    await alice.expectReply({ action: 'blocklist' });
    const { report } = (await alice.expectReply({ action: 'report', seq, reason: 'coverage' })) as {
      report: { reportId: string };
    };
    await alice.expectReply({ action: 'reports' });
    await alice.expectReply({ action: 'resolvereport', reportId: report.reportId, outcome: 'dismissed' });
    // Typing (one-way: only bob hears of it), bob's threads, rooms list and a room's notices.
    alice.send({ action: 'typing' });
    await bob.next((f) => f.type === 'typing' && f.roomId === roomId);
    await bob.expectReply({ action: 'mythreads' });
    await bob.expectReply({ action: 'myrooms' });
    await bob.expectReply({ action: 'setnotices', roomId, notices: 'mute' });
    // Search: bob's rooms, by a word no message has.
    expect(await bob.expectReply({ action: 'search', query: 'nowhere' })).toMatchObject({
      type: 'found',
      results: [],
    });
    // A direct message needs sign-in: refused here, by the route's own function.
    expect(await alice.ask({ action: 'opendm', username: 'bob-routes' })).toMatchObject({
      code: 'FORBIDDEN',
    });
    // So does finding people, and the refusal says why.
    expect(await alice.ask({ action: 'findpeople', prefix: 'bob' })).toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/need sign-in/),
    });
    // Attachments: an upload form for an image of the room, and a short-lived link to read one.
    const upload = await alice.expectReply({ action: 'attach', contentType: 'image/png', size: 100 });
    expect(upload).toMatchObject({ type: 'upload', roomId });
    // Signing reads nothing: a version id of the form S3 gives is enough to get a link (which S3 may refuse).
    expect(
      await alice.expectReply({ action: 'getattachment', key: upload.key, versionId: 'v1' }),
    ).toMatchObject({ type: 'attachment', key: upload.key, versionId: 'v1' });
    // Push notifications need sign-in too: a subscription belongs to a person.
    for (const action of ['pushsubscribe', 'pushunsubscribe'])
      expect(await alice.ask({ action, endpoint: 'https://push.example.com/x' })).toMatchObject({
        code: 'FORBIDDEN',
      });
    // Named rooms and the directory: the owner names the room and makes it public; anyone lists it. Profiles need
    // sign-in: refused here, by the route's own function.
    await alice.expectReply({ action: 'setroom', name: 'routes', public: true });
    await bob.expectReply({ action: 'listrooms', prefix: 'rou' });
    expect(await alice.ask({ action: 'setprofile', displayName: 'Alice' })).toMatchObject({
      code: 'FORBIDDEN',
    });
    await alice.expectReply({ action: 'help' });
    alice.send({ action: 'ping' });
    await alice.next((f) => f.type === 'pong');
    // The owner's closing actions, last and in this order: bob banned (moved out) and unbanned, a new key, bob
    // removed, the room closed (which moves alice to the lobby too).
    const closing = [
      { action: 'ban', username: 'bob-routes' },
      { action: 'unban', username: 'bob-routes' },
      { action: 'rotatekey' },
      { action: 'removemember', username: 'bob-routes' },
      { action: 'closeroom' },
      { action: 'leaveroom' },
    ];
    // Every other room route as its declaration and AsyncAPI give it (a new one needs no line here), in its route
    // table's order (a route that undoes another, unmute, is listed after it): asked by alice, the room's owner, of
    // bob's message and bob, and answered with its reply, not refused.
    const asked = new Set([
      ...world.test.invocations.slice(from).map((i) => i.routeKey),
      ...closing.map((f) => f.action),
    ]);
    const rest = ROOM_ROUTES.filter((fact) => !asked.has(fact.key));
    for (const { key } of rest) await alice.expectReply(request(key, { seq, username: 'bob-routes' }));
    for (const frame of closing) await alice.expectReply(frame);
    await bob.close();
    await waitUntil(
      () => world.test.invocations.slice(from).some((i) => i.routeKey === '$disconnect'),
      '$disconnect to run',
    );
    await world.test.settle();

    const seen = world.test.invocations.slice(from);
    const routeKeys = [...functionOfRoute.keys()];
    expect(routeKeys.length).toBeGreaterThanOrEqual(9);
    for (const routeKey of routeKeys) {
      // A client waits for every route's function: it is served as a request (before background work).
      expect(seen).toContainEqual(
        expect.objectContaining({ routeKey, logicalId: functionOfRoute.get(routeKey), kind: 'request' }),
      );
    }
    expect(seen.filter((i) => i.routeKey === 'ping')).toEqual([]);
    // The fan-out state machine ran the Deliver function for each event of the session, as background work.
    expect(seen).toContainEqual({
      logicalId: 'DeliverFunction',
      routeKey: undefined,
      kind: 'background',
      op: 'post',
    });
    // Every route's function starts cold in this session (23 of them): a loaded machine needs more than 30 s.
  }, 240_000);

  it('every sample event in events/ runs through the local cloud with the result it documents', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob-events');
    const aliceId = await alice.connectionId();
    const bobId = await bob.connectionId();
    /**
     * The route's function invoked with the sample event. A BUSY answer (the route's deadline on a loaded machine;
     * nothing was done) is asked again after a pause, up to five times, as the client library does.
     */
    const invokeRoute = async (name: string, connectionId: string, body?: unknown) => {
      const event = sampleEvent(name, { connectionId, ...(body === undefined ? {} : { body }) });
      const fn = functionOfRoute.get(event.requestContext.routeKey);
      if (!fn)
        throw new Error(`events/${name}.json: no route ${event.requestContext.routeKey} in template.yaml`);
      for (let attempt = 1; ; attempt++) {
        const result = await world.cloud.lambda.invoke(fn, event);
        const answer = (result as { body?: unknown } | undefined)?.body;
        if (attempt === 5 || typeof answer !== 'string' || !answer.includes('"code":"BUSY"')) return result;
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    };
    let roomId = '';
    // In order: each step needs what the one before did. The sample's own connection id is swapped for a real one.
    const steps: [string, () => Promise<void>][] = [
      [
        'connect',
        async () => {
          const id = 'E2eSampleConn0=';
          expect(await invokeRoute('connect', `${id}`)).toEqual({ statusCode: 200 });
          expect((await connectionItem(id))?.username?.S).toBe('alice');
        },
      ],
      [
        'disconnect',
        async () => {
          const id = 'E2eSampleConn0=';
          expect(await invokeRoute('disconnect', id)).toEqual({ statusCode: 200 });
          expect(await connectionItem(id)).toBeUndefined();
        },
      ],
      [
        'createroom',
        async () => {
          const joined = frameOf(await invokeRoute('createroom', aliceId));
          expect(joined).toMatchObject({ type: 'joined', members: ['alice'], lastSeq: 0 });
          roomId = joined.roomId as string;
          expect(roomId).toMatch(ROOM_CODE);
        },
      ],
      [
        'joinroom',
        async () => {
          const body = { ...JSON.parse(sampleEvent('joinroom').body ?? '{}'), roomId };
          const joined = frameOf(await invokeRoute('joinroom', bobId, body));
          expect(joined).toMatchObject({ type: 'joined', roomId });
          expect([...(joined.members as string[])].sort()).toEqual(['alice', 'bob-events']);
          await alice.next(isPresence(roomId, 'join', 'bob-events'));
        },
      ],
      [
        'sendmessage',
        async () => {
          const ack = frameOf(await invokeRoute('sendmessage', aliceId));
          expect(ack).toMatchObject({ type: 'ack', clientMsgId: 'c0ffee-0001', roomId, seq: 1 });
          await bob.next(isMessage(roomId, 'hello, everyone!'));
        },
      ],
      [
        'history',
        async () => {
          const history = frameOf(await invokeRoute('history', bobId));
          expect((history.messages as Frame[]).map((m) => m.text)).toEqual(['hello, everyone!']);
        },
      ],
      [
        'who',
        async () => {
          const who = frameOf(await invokeRoute('who', bobId));
          expect([...(who.members as string[])].sort()).toEqual(['alice', 'bob-events']);
        },
      ],
      [
        'typing',
        async () => {
          // One-way: bob is shown alice typing; alice is sent nothing.
          await invokeRoute('typing', aliceId);
          const shown = await bob.next((f) => f.type === 'typing' && f.roomId === roomId);
          expect(shown).toMatchObject({ username: 'alice', typing: true });
        },
      ],
      [
        'default',
        async () => {
          const info = frameOf(await invokeRoute('default', bobId));
          expect(info).toMatchObject({ type: 'info', connectionId: bobId, usage: expect.any(String) });
        },
      ],
      [
        'rotatekey',
        async () => {
          // The owner (alice created the room) replaces its invite key; every other member is told the new one.
          const rotated = frameOf(await invokeRoute('rotatekey', aliceId));
          expect(rotated).toMatchObject({ type: 'keyrotated', roomId, inviteKey: expect.any(String) });
          const told = await bob.next((f) => f.type === 'keyrotated' && f.roomId === roomId);
          expect(told.inviteKey).toBe(rotated.inviteKey);
        },
      ],
      [
        'leaveroom',
        async () => {
          expect(frameOf(await invokeRoute('leaveroom', bobId))).toEqual({ type: 'left', roomId });
          await alice.next(isPresence(roomId, 'leave', 'bob-events'));
        },
      ],
      [
        'removemember',
        async () => {
          // bob has left: removing him moves no connection out, and the key is replaced all the same.
          const body = { ...JSON.parse(sampleEvent('removemember').body ?? '{}'), username: 'bob-events' };
          const removed = frameOf(await invokeRoute('removemember', aliceId, body));
          expect(removed).toMatchObject({
            type: 'memberremoved',
            roomId,
            username: 'bob-events',
            removed: 0,
          });
          expect(removed.inviteKey).toEqual(expect.any(String));
        },
      ],
      [
        'deliver',
        async () => {
          // A chunk of a broadcast to everyone, as the state machine's PostChunk hands it over.
          const sample = readEvent<{ connectionIds: string[]; frames: { payload: string }[] }>('deliver');
          const [, unknownId] = sample.connectionIds;
          const report = await world.cloud.lambda.invoke('DeliverFunction', {
            ...sample,
            connectionIds: [aliceId, unknownId],
          });
          expect(report).toEqual({ retrying: false, waitSeconds: 2, goneIds: [unknownId] });
          const payload = sample.frames[0]?.payload ?? '{}';
          const { messageId } = JSON.parse(payload) as { messageId: string };
          const delivered = await alice.next((f) => f.messageId === messageId);
          expect(delivered).toEqual(JSON.parse(payload));
        },
      ],
      [
        'fanout',
        async () => {
          // The sample is an event of the chat bus that the rule queues for the fan-out with its frame (a room's
          // broadcast: an event without a seq; a message reaches the fan-out through the room's log); publish it.
          const sample = readEvent<{
            source: string;
            'detail-type': string;
            detail: { messageId: string; roomId: string; payload: string };
          }>('fanout');
          const [bus] = world.cloud.template.eventBuses();
          const events = new EventBridgeClient({
            endpoint: world.cloud.eventsEndpoint,
            region: world.cloud.template.region,
            credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
          });
          const publish = async (detail: typeof sample.detail) => {
            const result = await events.send(
              new PutEventsCommand({
                Entries: [
                  {
                    EventBusName: bus?.name,
                    Source: sample.source,
                    DetailType: sample['detail-type'],
                    Detail: JSON.stringify(detail),
                  },
                ],
              }),
            );
            expect(result.FailedEntryCount).toBe(0);
          };
          const isSample = (f: Frame) => f.messageId === sample.detail.messageId;
          await publish(sample.detail);
          // The sample is an announcement to the lobby; bob is back in the lobby.
          const delivered = await bob.next(isSample);
          expect(delivered).toMatchObject({ type: 'broadcast', roomId: 'lobby', text: 'hello, everyone!' });
          // The same event published again (a publisher's retry cannot know whether its first PutEvents went
          // through): a new event on the bus with the same detail, which the queue drops (RoomEventsRule's InputPath,
          // content-based deduplication). The lobby's next event comes after it in the room's message group, so once
          // that arrives the repeat would have too.
          await publish(sample.detail);
          const nextId = '0b7e3c55-2f3a-4d7e-8c1a-5e9d2b6f4a30';
          const next = { type: 'broadcast', roomId: 'lobby', messageId: nextId, text: 'and again' };
          await publish({ messageId: nextId, roomId: 'lobby', payload: JSON.stringify(next) });
          await bob.next((f) => f.messageId === nextId);
          expect(bob.frames.filter(isSample)).toHaveLength(1);
          events.destroy();
        },
      ],
      [
        'broadcast',
        async () => {
          // The REST sample: an announcement to everyone (alice is in the room, bob in the lobby).
          const sample = readEvent<{ body: string }>('broadcast');
          const { message } = JSON.parse(sample.body) as { message: string };
          const result = (await world.cloud.lambda.invoke('BroadcastFunction', sample)) as {
            statusCode: number;
          };
          expect(result.statusCode).toBe(202);
          for (const client of [alice, bob]) {
            await client.next((f) => f.type === 'broadcast' && f.text === message);
          }
        },
      ],
      [
        'authorizer',
        async () => {
          // The $connect authorizer exists only with AuthMode=token (it needs the token secret in Parameter Store).
          const withTokens = loadTemplate(templatePath, { parameters: { AuthMode: 'token' } });
          const connectRoute = withTokens.webSocketApis()[0]?.routes.find((r) => r.routeKey === '$connect');
          expect(connectRoute?.authorizer?.functionLogicalId).toBe('AuthorizerFunction');
          const sample = readEvent<{ queryStringParameters: { token?: string } }>('authorizer');
          expect(sample.queryStringParameters.token).toEqual(expect.any(String));
          if (world.cloud.lambda.has('AuthorizerFunction')) {
            // Allowed or denied by policy, or refused as Unauthorized (401) when the local secret differs.
            const result = await world.cloud.lambda
              .invoke('AuthorizerFunction', sample)
              .catch((e: Error) => e);
            if (result instanceof Error) expect(result.message).toBe('Unauthorized');
            else
              expect(result).toMatchObject({
                policyDocument: { Statement: [{ Action: 'execute-api:Invoke' }] },
              });
          }
        },
      ],
      [
        'broadcastauthorizer',
        async () => {
          // The TOKEN authorizer of POST /admin/broadcast. The sample's token is signed by no key (replace it with
          // a sign-in ID token of your stack), and this cloud runs AuthMode=none, where nobody signs in: refused.
          const sample = readEvent<{ type: string; authorizationToken: string; methodArn: string }>(
            'broadcastauthorizer',
          );
          expect(sample.type).toBe('TOKEN');
          expect(sample.authorizationToken).toMatch(/^Bearer [-_.A-Za-z0-9]+$/);
          expect(sample.methodArn).toMatch(/\/POST\/admin\/broadcast$/);
          const result = await world.cloud.lambda
            .invoke('BroadcastAuthorizerFunction', sample)
            .catch((e: Error) => e);
          expect(result).toBeInstanceOf(Error);
          expect((result as Error).message).toBe('Unauthorized');
        },
      ],
      [
        'closeroom',
        async () => {
          // Last: the owner closes the room and is moved to the lobby.
          const closed = frameOf(await invokeRoute('closeroom', aliceId));
          expect(closed).toMatchObject({ type: 'roomclosed', roomId });
          const who = frameOf(await invokeRoute('who', aliceId));
          expect(who.roomId).toBe('lobby');
        },
      ],
    ];

    const files = readdirSync(eventsDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.replace(/\.json$/, ''));
    expect(steps.map(([name]) => name).sort()).toEqual(files.sort());
    for (const [name, step] of steps) {
      await step().catch((error: Error) => {
        error.message = `events/${name}.json: ${error.message}`;
        throw error;
      });
    }
  });
});
