import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Frame } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';
import { localDocumentClient } from '../helpers/templateTables';

/**
 * Push notifications through the local cloud with sign-in, received by its push service stand-in, which checks each
 * push's VAPID signature and decrypts it as a browser would (tools/local/pushService.ts): alice, with no live
 * connection, hears of bob's mention and of bob's direct message by one push each, as her notices in the room allow;
 * a burst is one push; a push service's 410 removes the subscription; an endpoint that is not https, or points inside
 * the network, is refused.
 */
jest.setTimeout(240_000);

const chat = signedInCloud({ FrameRateLimit: '100000', StrikeLimit: '100000' });
const { device, ask } = chat;

/** The stand-in's pushes to `endpoint`, as its browser would hand them to the service worker. */
const pushesTo = (endpoint: string) =>
  chat.cloud.pushService.received.filter((p) => p.endpoint === endpoint).map((p) => p.payload);

/** The endpoints of every stored push subscription, read as the local admin. */
async function storedEndpoints(): Promise<string[]> {
  const db = localDocumentClient(chat.cloud.dynamoEndpoint);
  const { Items = [] } = await db.send(
    new ScanCommand({ TableName: String(chat.cloud.template.physicalId('PushSubscriptionsTable')) }),
  );
  return Items.map((item) => String(item.endpoint));
}

/**
 * Waits until the cloud is idle: every invocation the sends started has ended, the push function's (invoked through
 * the bus after PutEvents) and a closed tab's $disconnect included.
 */
const settle = () => chat.settle();

/**
 * Waits until `check` holds: the push function runs after the send's ack (through the bus), so the cloud is let
 * settle (every invocation ended, its posts arrived) and `check` asked again; a few idle rounds without it fail.
 * Waiting on the cloud's work, not a wall-clock deadline, holds on a loaded machine.
 */
async function eventually(check: () => boolean, idleRounds = 5): Promise<void> {
  for (let round = 0; !check(); round++) {
    if (round === idleRounds) throw new Error(`not seen after ${idleRounds} idle rounds of the cloud`);
    await settle();
  }
}

/** `name` signs in on a device, subscribes a stand-in browser to push, and closes its tab: it is not connected. */
async function subscribedAndGone(name: string, roomId?: string, key?: string) {
  const tab = await device(name);
  if (roomId) await tab.expectReply({ action: 'joinroom', roomId, key });
  const { publicKey } = await ask(tab, { action: 'pushsubscribe' });
  const subscription = chat.cloud.pushService.subscribe(String(publicKey));
  expect(await ask(tab, { action: 'pushsubscribe', subscription })).toMatchObject({
    type: 'pushsubscription',
    stored: true,
  });
  await tab.close();
  return subscription;
}

it('pushes one mention to alice, who has no live connection, naming the room and bob; a burst of 10 is one push', async () => {
  const bob = await device('bob');
  const created = await bob.expectReply({ action: 'createroom' });
  const roomId = String(created.roomId);
  const alice = await subscribedAndGone('alice', roomId, String(created.inviteKey));
  await settle();

  const ack = await ask(bob, { action: 'sendmessage', message: 'hey @alice, the deploy is done' });
  await eventually(() => pushesTo(alice.endpoint).length > 0);
  expect(pushesTo(alice.endpoint)).toEqual([
    {
      type: 'push',
      reason: 'mention',
      roomId,
      seq: ack.seq,
      username: 'bob',
      text: 'hey @alice, the deploy is done',
    },
  ]);
  const [push] = chat.cloud.pushService.received.filter((p) => p.endpoint === alice.endpoint);
  expect(push?.claims.aud).toBe(chat.cloud.pushService.origin);

  // A burst of ten more mentions within PushCoalesceSeconds: no further push.
  for (let i = 0; i < 10; i++) await ask(bob, { action: 'sendmessage', message: `@alice ping ${i}` });
  await settle();
  expect(pushesTo(alice.endpoint)).toHaveLength(1);
});

it("names a named room in the push: by the name the send's event carries, and read when an event carries none", async () => {
  const bob = await device('bob');
  const created = await bob.expectReply({ action: 'createroom', name: 'Ops desk' });
  const [roomId, key] = [String(created.roomId), String(created.inviteKey)];
  const nora = await subscribedAndGone('nora', roomId, key);
  const olga = await subscribedAndGone('olga', roomId, key);
  await settle();

  // The events the bus hands the functions, kept as they go by: the send's MessageSent carries the room's name.
  const { lambda } = chat.cloud;
  const invoke = lambda.invoke;
  const handed: { 'detail-type'?: string; detail?: Record<string, unknown> }[] = [];
  lambda.invoke = (fn, event, ...rest) => {
    handed.push(event as (typeof handed)[number]);
    return invoke.call(lambda, fn, event, ...rest);
  };
  try {
    await ask(bob, { action: 'sendmessage', message: '@nora the pager is yours' });
    await eventually(() => pushesTo(nora.endpoint).length > 0);
  } finally {
    lambda.invoke = invoke;
  }
  expect(pushesTo(nora.endpoint)).toEqual([
    expect.objectContaining({ reason: 'mention', roomId, roomName: 'Ops desk', username: 'bob' }),
  ]);
  expect(pushesTo(nora.endpoint)[0]).not.toHaveProperty('direct');
  // Named by the event the send published, not by a read of the room in the push function.
  expect(handed.filter((e) => e['detail-type'] === 'MessageSent' && e.detail?.roomId === roomId)).toEqual([
    expect.objectContaining({ detail: expect.objectContaining({ mayPush: true, roomName: 'Ops desk' }) }),
  ]);

  // A retried send's publish took no seq and carries no name: the push function reads the room's.
  const [bus] = chat.cloud.template.eventBuses();
  const events = new EventBridgeClient({
    endpoint: chat.cloud.eventsEndpoint,
    region: chat.cloud.template.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const frame = {
    type: 'message',
    roomId,
    seq: 90,
    messageId: 'retried-1',
    username: 'bob',
    text: '@olga and you',
  };
  const put = await events.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: bus?.name,
          Source: 'roomcast.chat',
          DetailType: 'MessageSent',
          Detail: JSON.stringify({
            messageId: 'retried-1',
            roomId,
            seq: 90,
            payload: JSON.stringify(frame),
            mayPush: true,
          }),
        },
      ],
    }),
  );
  expect(put.FailedEntryCount).toBe(0);
  events.destroy();
  await eventually(() => pushesTo(olga.endpoint).length > 0);
  expect(pushesTo(olga.endpoint)).toEqual([
    expect.objectContaining({
      reason: 'mention',
      roomId,
      roomName: 'Ops desk',
      seq: 90,
      text: '@olga and you',
    }),
  ]);
});

it('sends a burst of 10 mentions in a new room as exactly one push', async () => {
  const bob = await device('bob');
  const created = await bob.expectReply({ action: 'createroom' });
  const carol = await subscribedAndGone('carol', String(created.roomId), String(created.inviteKey));
  await settle();
  await Promise.all(
    Array.from({ length: 10 }, (_, i) => ask(bob, { action: 'sendmessage', message: `@carol burst ${i}` })),
  );
  await eventually(() => pushesTo(carol.endpoint).length > 0);
  await settle();
  expect(pushesTo(carol.endpoint)).toHaveLength(1);
  expect(pushesTo(carol.endpoint)[0]).toMatchObject({
    roomId: created.roomId,
    username: 'bob',
    reason: 'mention',
  });
});

it('pushes nothing to a member who is connected, or to one the message does not name', async () => {
  const bob = await device('bob');
  const created = await bob.expectReply({ action: 'createroom' });
  const roomId = String(created.roomId);
  const dave = await subscribedAndGone('dave', roomId, String(created.inviteKey));
  const erin = await subscribedAndGone('erin', roomId, String(created.inviteKey));
  // Dave is back on another device: he has the message live, so no push.
  const davePhone = await device('dave');
  await ask(bob, { action: 'sendmessage', message: '@dave are you there? (erin is not named)' });
  await settle();
  expect(pushesTo(dave.endpoint)).toEqual([]);
  expect(pushesTo(erin.endpoint)).toEqual([]);
  await davePhone.close();
});

it('pushes nothing to alice of a person she blocked, while mentions by others still reach her', async () => {
  const bob = await device('bob-b');
  const carol = await device('carol-b');
  const created = await bob.expectReply({ action: 'createroom' });
  const [roomId, key] = [String(created.roomId), String(created.inviteKey)];
  await carol.expectReply({ action: 'joinroom', roomId, key });
  const tab = await device('alice-b');
  await tab.expectReply({ action: 'joinroom', roomId, key });
  const rude = await ask(bob, { action: 'sendmessage', message: 'rude' });
  expect(await ask(tab, { action: 'block', roomId, seq: rude.seq })).toMatchObject({ type: 'blocklist' });
  const { publicKey } = await ask(tab, { action: 'pushsubscribe' });
  const subscription = chat.cloud.pushService.subscribe(String(publicKey));
  await ask(tab, { action: 'pushsubscribe', subscription });
  await tab.close();
  await settle();

  // Bob's mention first, its push function run to its end; then Carol's: had Bob's been pushed, it would have taken
  // alice's turn in the room (PushCoalesceSeconds) and Carol's would not arrive.
  await ask(bob, { action: 'sendmessage', message: '@alice-b answer me' });
  await settle();
  await ask(carol, { action: 'sendmessage', message: '@alice-b lunch?' });
  await eventually(() => pushesTo(subscription.endpoint).length > 0);
  await settle();
  expect(pushesTo(subscription.endpoint)).toEqual([
    expect.objectContaining({ reason: 'mention', roomId, username: 'carol-b', text: '@alice-b lunch?' }),
  ]);
});

it("pushes bob's direct message to alice's peer while she is away", async () => {
  const {
    devices: [frank, gina],
  } = await chat.roomOf('frank', 'gina');
  const ginaId = (await ask(frank, { action: 'findpeople', prefix: 'gina' })).people as Frame[];
  const dm = await ask(frank, { action: 'opendm', userId: ginaId[0]?.userId });
  const { publicKey } = await ask(gina, { action: 'pushsubscribe' });
  const subscription = chat.cloud.pushService.subscribe(String(publicKey));
  await ask(gina, { action: 'pushsubscribe', subscription });
  await gina.close();
  await settle();
  await ask(frank, { action: 'sendmessage', roomId: dm.roomId, message: 'lunch?' });
  await eventually(() => pushesTo(subscription.endpoint).length > 0);
  expect(pushesTo(subscription.endpoint)).toEqual([
    expect.objectContaining({
      reason: 'dm',
      direct: true,
      roomId: dm.roomId,
      username: 'frank',
      text: 'lunch?',
    }),
  ]);
});

it("pushes a reply in alice's thread to alice while she is away, as a thread reply", async () => {
  const {
    roomId,
    devices: [henry, iris],
  } = await chat.roomOf('henry', 'iris');
  // iris writes the root (she follows her own thread), subscribes to push, and closes her tab.
  const root = await ask(iris, { action: 'sendmessage', message: 'who brings the cake?' });
  const { publicKey } = await ask(iris, { action: 'pushsubscribe' });
  const subscription = chat.cloud.pushService.subscribe(String(publicKey));
  await ask(iris, { action: 'pushsubscribe', subscription });
  await iris.close();
  await settle();
  await ask(henry, { action: 'sendmessage', message: 'I do', threadOf: root.seq });
  await eventually(() => pushesTo(subscription.endpoint).length > 0);
  expect(pushesTo(subscription.endpoint)).toEqual([
    expect.objectContaining({ reason: 'thread', roomId, username: 'henry', text: 'I do' }),
  ]);
});

it("pushes by the room's notices: nothing of a room lena muted, then only mentions once she asks for mentions", async () => {
  const {
    roomId,
    devices: [kim, lena],
  } = await chat.roomOf('kim', 'lena');
  const root = await ask(lena, { action: 'sendmessage', message: 'plans for friday?' });
  await ask(lena, { action: 'setnotices', roomId, notices: 'mute' });
  const { publicKey } = await ask(lena, { action: 'pushsubscribe' });
  const subscription = chat.cloud.pushService.subscribe(String(publicKey));
  await ask(lena, { action: 'pushsubscribe', subscription });
  await lena.close();
  await settle();
  // Muted: neither a mention nor a reply in her thread pushes.
  await ask(kim, { action: 'sendmessage', message: '@lena the cinema?', threadOf: root.seq });
  await settle();
  expect(pushesTo(subscription.endpoint)).toEqual([]);
  // Mentions only (chosen on her phone, then closed): a reply in her thread pushes nothing, a mention does.
  const phone = await device('lena');
  await ask(phone, { action: 'setnotices', roomId, notices: 'mentions' });
  await phone.close();
  await settle();
  await ask(kim, { action: 'sendmessage', message: 'or the park', threadOf: root.seq });
  await settle();
  expect(pushesTo(subscription.endpoint)).toEqual([]);
  await ask(kim, { action: 'sendmessage', message: '@lena bring a blanket' });
  await eventually(() => pushesTo(subscription.endpoint).length > 0);
  expect(pushesTo(subscription.endpoint)).toEqual([
    expect.objectContaining({ reason: 'mention', roomId, username: 'kim', text: '@lena bring a blanket' }),
  ]);
});

it('removes a subscription its push service answers 410 Gone for', async () => {
  const bob = await device('bob');
  const created = await bob.expectReply({ action: 'createroom' });
  const roomId = String(created.roomId);
  const hank = await subscribedAndGone('hank', roomId, String(created.inviteKey));
  expect(await storedEndpoints()).toContain(hank.endpoint);
  chat.cloud.pushService.markGone(hank.endpoint);
  await settle();
  await ask(bob, { action: 'sendmessage', message: '@hank one' });
  await eventually(() => chat.cloud.pushService.refused.some((r) => r.endpoint === hank.endpoint));
  expect(chat.cloud.pushService.refused.filter((r) => r.endpoint === hank.endpoint)).toEqual([
    { endpoint: hank.endpoint, status: 410, reason: 'the subscription is gone' },
  ]);
  // Gone from the store: hank's tab finds nothing to remove.
  let stored = await storedEndpoints();
  for (let round = 0; round < 5 && stored.includes(hank.endpoint); round++) {
    await settle();
    stored = await storedEndpoints();
  }
  expect(stored).not.toContain(hank.endpoint);
  const tab = await device('hank');
  expect(await ask(tab, { action: 'pushunsubscribe', endpoint: hank.endpoint })).toMatchObject({
    type: 'pushsubscription',
    stored: false,
  });
  await tab.close();
});

it('refuses an http endpoint, a private or loopback address, and malformed keys, storing nothing', async () => {
  const ivan = await device('ivan');
  const { publicKey } = await ask(ivan, { action: 'pushsubscribe' });
  const good = chat.cloud.pushService.subscribe(String(publicKey));
  const before = await storedEndpoints();
  const refusals: [Record<string, unknown>, RegExp][] = [
    [{ ...good, endpoint: 'http://push.example.com/send/abc' }, /must be an https URL/],
    [{ ...good, endpoint: 'https://10.1.2.3/send/abc' }, /private, loopback or internal address/],
    [{ ...good, endpoint: 'https://127.0.0.1:8443/send/abc' }, /private, loopback or internal address/],
    [
      { ...good, endpoint: 'https://169.254.169.254/latest/meta-data' },
      /private, loopback or internal address/,
    ],
    [{ ...good, endpoint: 'https://[::1]/send' }, /private, loopback or internal address/],
    [{ ...good, endpoint: 'https://localhost/send' }, /private, loopback or internal address/],
    [{ ...good, keys: { p256dh: 'AAAA', auth: good.keys.auth } }, /p256dh/],
    [{ ...good, keys: { p256dh: good.keys.p256dh, auth: 'c2hvcnQ' } }, /auth/],
    [{ endpoint: good.endpoint }, /keys/],
  ];
  for (const [subscription, message] of refusals) {
    const reply = await ask(ivan, { action: 'pushsubscribe', subscription });
    expect(reply).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'pushsubscribe' });
    expect(String(reply.message)).toMatch(message);
  }
  // Nothing stored.
  expect(await storedEndpoints()).toEqual(before);
});
