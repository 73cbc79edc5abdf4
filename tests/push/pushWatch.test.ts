import type { Frame } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * What a person running the local cloud sees of its pushes (tools/local/pushWatch.ts): each push its push service
 * stand-in receives is one PUSH line in the cloud's output and a row of GET <push service>/push (and /push.json),
 * shown as the web chat's service worker shows it (its title and body), for the subscription it went to; a refused
 * push is listed with its status and reason; a message's text is shown as text, never as the page's markup.
 */
jest.setTimeout(240_000);

const lines: string[] = [];
const chat = signedInCloud(
  { FrameRateLimit: '100000', StrikeLimit: '100000' },
  {
    log: (line) => lines.push(line),
  },
);
const { device, ask } = chat;

interface Listed {
  subscription: string;
  status: number;
  title?: string;
  body?: string;
  reason?: string;
  payload?: { roomId?: string };
}

async function listed(): Promise<Listed[]> {
  const res = await fetch(`${chat.cloud.pushService.origin}/push.json`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { pushes: Listed[] }).pushes;
}

/** Waits until the cloud is idle until `check` holds (a few idle rounds without it fail). */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let round = 0; !(await check()); round++) {
    if (round === 5) throw new Error('not seen after 5 idle rounds of the cloud');
    await chat.settle();
  }
}

async function subscribedAndGone(name: string, roomId: string, key: string) {
  const tab = await device(name);
  await tab.expectReply({ action: 'joinroom', roomId, key });
  const { publicKey } = await ask(tab, { action: 'pushsubscribe' });
  const subscription = chat.cloud.pushService.subscribe(String(publicKey));
  await ask(tab, { action: 'pushsubscribe', subscription });
  await tab.close();
  return { subscription, id: subscription.endpoint.slice(subscription.endpoint.lastIndexOf('/') + 1) };
}

it("lists bob's mention of alice at /push as her notification shows it, naming the unnamed room by its code, and prints one PUSH line for it", async () => {
  const page = await fetch(`${chat.cloud.pushService.origin}/push`);
  expect(page.headers.get('content-type')).toContain('text/html');
  expect(await page.text()).toContain('No pushes yet.');

  const bob = await device('bob');
  const created: Frame = await bob.expectReply({ action: 'createroom' });
  const roomId = String(created.roomId);
  const alice = await subscribedAndGone('alice', roomId, String(created.inviteKey));
  await chat.settle();

  const text = 'hey @alice, <b>the deploy</b> is done';
  await ask(bob, { action: 'sendmessage', message: text });
  await eventually(async () => (await listed()).some((p) => p.subscription === alice.id));

  expect((await listed()).filter((p) => p.subscription === alice.id)).toEqual([
    expect.objectContaining({
      status: 201,
      title: `bob mentioned you in room ${roomId}`,
      body: text,
      payload: expect.objectContaining({ roomId }),
    }),
  ]);
  const html = await (await fetch(`${chat.cloud.pushService.origin}/push`)).text();
  expect(html).toContain(`bob mentioned you in room ${roomId}`);
  expect(html).toContain(alice.id);
  // The message's markup is text on the page.
  expect(html).toContain('&lt;b&gt;the deploy&lt;/b&gt;');
  expect(html).not.toContain('<b>the deploy</b>');
  expect(html).not.toContain('No pushes yet.');

  const printed = lines.filter((line) => line.includes(' PUSH ') && line.includes(alice.id));
  expect(printed).toHaveLength(1);
  expect(printed[0]).toContain(`201 to subscription ${alice.id}`);
  expect(printed[0]).toContain(`[room ${roomId}]: "bob mentioned you in room ${roomId}"`);
});

it("titles a named room's push by its name, and a direct message by its sender alone", async () => {
  const bob = await device('bob3');
  const created: Frame = await bob.expectReply({ action: 'createroom', name: 'Ops desk' });
  const roomId = String(created.roomId);
  const dana = await subscribedAndGone('dana', roomId, String(created.inviteKey));
  await chat.settle();
  await ask(bob, { action: 'sendmessage', message: '@dana the pager is yours' });
  await eventually(async () => (await listed()).some((p) => p.subscription === dana.id));
  expect((await listed()).filter((p) => p.subscription === dana.id)).toEqual([
    expect.objectContaining({
      title: 'bob3 mentioned you in #Ops desk',
      payload: expect.objectContaining({ roomId }),
    }),
  ]);

  // bob3 opens a direct-message room with dana, who is still away, and writes to her there.
  const [found] = (await ask(bob, { action: 'findpeople', prefix: 'dana' })).people as Frame[];
  const dm = await ask(bob, { action: 'opendm', userId: found?.userId });
  const inDm = async () => (await listed()).filter((p) => p.payload?.roomId === dm.roomId);
  await ask(bob, { action: 'sendmessage', roomId: dm.roomId, message: 'lunch?' });
  await eventually(async () => (await inDm()).length > 0);
  expect(await inDm()).toEqual([
    expect.objectContaining({ title: 'bob3 sent you a message', body: 'lunch?' }),
  ]);
});

it('lists a push the stand-in refused (410 Gone, a browser that unsubscribed) with its reason', async () => {
  const bob = await device('bob2');
  const created: Frame = await bob.expectReply({ action: 'createroom' });
  const carol = await subscribedAndGone('carol', String(created.roomId), String(created.inviteKey));
  chat.cloud.pushService.markGone(carol.subscription.endpoint);
  await chat.settle();

  await ask(bob, { action: 'sendmessage', message: 'are you there @carol?' });
  await eventually(async () => (await listed()).some((p) => p.subscription === carol.id));
  expect((await listed()).find((p) => p.subscription === carol.id)).toMatchObject({
    status: 410,
    reason: 'the subscription is gone',
  });
  expect(lines.some((line) => line.includes(`410 to subscription ${carol.id}`))).toBe(true);
});
