import { join } from 'node:path';
import { loadTemplate } from '../../tools/infra/template';
import type { ChatClient, Frame } from '../helpers/chatClient';
import { signedInCloud } from '../helpers/signedIn';

/**
 * Avatars on the local cloud with sign-in (functions/attachments/avatars.ts; docs/DECISIONS.md, "An avatar is the
 * person's own object"): an avatar is an image the person uploaded as one, copied to its own avatar object; a room's
 * image (another member's, or one a moderator deleted), someone else's upload or a key never uploaded is refused with
 * a clear error; only members of the person's rooms are handed the avatar's GET, and it serves the image after the
 * upload it came from is gone. Two people showing one name in a room are told apart by their member keys.
 */
jest.setTimeout(240_000);

const chat = signedInCloud({ FrameRateLimit: '1000', StrikeLimit: '0' });
const { device, deviceShowing, ask } = chat;

const image = (fill: number) =>
  Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(200, fill)]);

/** Uploads `bytes` as a PNG: into the client's room, or with `purpose: "avatar"` as its own avatar upload. */
async function upload(client: ChatClient, bytes: Buffer, where: { roomId: string } | { purpose: 'avatar' }) {
  const granted = await ask(client, {
    action: 'attach',
    ...where,
    contentType: 'image/png',
    size: bytes.length,
  });
  expect(granted).toMatchObject({ type: 'upload' });
  const form = new FormData();
  for (const [name, value] of Object.entries(granted.fields as Record<string, string>))
    form.append(name, value);
  form.append('file', new Blob([bytes]));
  const res = await fetch(granted.url as string, { method: 'POST', body: form });
  expect(res.status).toBeLessThan(300);
  return String(granted.key);
}

const refusal = async (client: ChatClient, avatar: unknown) => {
  const refused = await ask(client, { action: 'setprofile', avatar });
  expect(refused).toMatchObject({ type: 'error', code: 'BAD_REQUEST', action: 'setprofile' });
  return String(refused.message);
};

const bucket = () =>
  String(chat.cloud.template.physicalId(chat.cloud.template.resourceIds('AWS::S3::Bucket')[0] as string));

async function served(url: unknown): Promise<Buffer | number> {
  const res = await fetch(String(url));
  return res.status === 200 ? Buffer.from(await res.arrayBuffer()) : res.status;
}

type Shown = { username: string; authorKey?: string; avatar?: { key: string; url?: string } };

it("refuses another member's image, a moderator-deleted one and a key never uploaded as an avatar", async () => {
  const [olga, pete] = await Promise.all([device('olga'), device('pete')]);
  const room = await ask(olga, { action: 'createroom', name: 'studio' });
  await ask(pete, { action: 'joinroom', roomId: room.roomId, key: room.inviteKey });

  // Olga's photo in the room, and her avatar: neither is Pete's to show in his other rooms.
  const photo = await upload(olga, image(1), { roomId: String(room.roomId) });
  const sent = await ask(olga, {
    action: 'sendmessage',
    message: 'my photo',
    attachments: [{ key: photo, contentType: 'image/png', size: image(1).length }],
  });
  expect(sent).not.toMatchObject({ type: 'error' });
  expect(await refusal(pete, { key: photo })).toMatch(/not an image of a room's messages/);
  const olgasUpload = await upload(olga, image(2), { purpose: 'avatar' });
  const set = await ask(olga, { action: 'setprofile', avatar: { key: olgasUpload } });
  expect(set).toMatchObject({ type: 'profile', avatar: { key: expect.stringMatching(/^avatars\//) } });
  expect(await refusal(pete, { key: olgasUpload })).toMatch(/not an upload of yours/);
  expect(await refusal(pete, { key: (set.avatar as { key: string }).key })).toMatch(/your avatar upload/);

  // A photo the owner deleted as a moderator: its author cannot bring it back as an avatar.
  const doomed = await upload(pete, image(3), { roomId: String(room.roomId) });
  const posted = await ask(pete, {
    action: 'sendmessage',
    message: 'oops',
    attachments: [{ key: doomed, contentType: 'image/png', size: image(3).length }],
  });
  expect((await ask(olga, { action: 'deletemessage', seq: posted.seq })).type).not.toBe('error');
  expect(await refusal(pete, { key: doomed })).toMatch(/not an image of a room's messages/);

  // A key of the right shape that was never uploaded, and a room key of another room.
  const ownPrefix = (await upload(pete, image(4), { purpose: 'avatar' })).split('/').slice(0, 2).join('/');
  expect(await refusal(pete, { key: `${ownPrefix}/${'A'.repeat(22)}` })).toMatch(/was not uploaded/);
  expect(await refusal(pete, { key: 'https://example.com/a.png' })).toMatch(/your avatar upload/);

  // Nothing was kept: Pete's profile shows no avatar.
  const profile = await ask(pete, { action: 'setprofile', status: 'here' });
  expect(profile.avatar).toBeUndefined();
  // An avatar upload needs sign-in's person and an image.
  const file = await ask(pete, {
    action: 'attach',
    purpose: 'avatar',
    contentType: 'application/pdf',
    size: 10,
  });
  expect(file).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
});

it('hands the avatar to members of the rooms that show it only, and keeps it after its upload is gone', async () => {
  const [quinn, rosa, sven] = await Promise.all([device('quinn'), device('rosa'), device('sven')]);
  const room = await ask(quinn, { action: 'createroom', name: 'porch' });
  await ask(rosa, { action: 'joinroom', roomId: room.roomId, key: room.inviteKey });
  // Sven shares no room with Quinn.
  await ask(sven, { action: 'createroom', name: 'attic' });

  const key = await upload(quinn, image(5), { purpose: 'avatar' });
  const set = await ask(quinn, { action: 'setprofile', avatar: { key } });
  const avatar = set.avatar as { key: string; versionId: string; url: string };
  const pushed = await rosa.next((f) => f.type === 'profile', 90_000, "rosa's profile push");
  expect(await served((pushed.avatar as { url: string }).url)).toEqual(image(5));

  // Sven: find people does not find Quinn, no route signs her avatar for him, and the bucket refuses an unsigned GET.
  const found = (await ask(sven, { action: 'findpeople', prefix: 'qui' })) as Frame & { people: unknown[] };
  expect(found.people).toEqual([]);
  const asked = await ask(sven, { action: 'getattachment', key: avatar.key, versionId: avatar.versionId });
  expect(asked).toMatchObject({ type: 'error' });
  const unsigned = new URL(avatar.url);
  unsigned.search = `versionId=${encodeURIComponent(avatar.versionId)}`;
  expect(await served(unsigned)).toBe(403);

  // The upload it came from expires a day after it was made (the bucket's lifecycle): the avatar stays.
  const uploads = chat.cloud.s3.versions(bucket(), key);
  expect(uploads).toHaveLength(1);
  chat.cloud.s3.remove(bucket(), key);
  expect(chat.cloud.s3.object(bucket(), key)).toBeUndefined();
  await ask(quinn, { action: 'sendmessage', roomId: room.roomId, message: 'still me', clientMsgId: 'q1' });
  const page = await ask(rosa, { action: 'history', roomId: room.roomId });
  const [shown] = page.profiles as Shown[];
  expect(await served(shown?.avatar?.url)).toEqual(image(5));

  // Cleared, it is gone from her profile and its object's current version is a delete marker.
  await ask(quinn, { action: 'setprofile', avatar: null });
  expect(chat.cloud.s3.object(bucket(), avatar.key)).toBeUndefined();
});

it("keeps the avatar object out of every expiry but its own: message expiry's rule covers rooms/ only", () => {
  const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'));
  const bucket = (template.raw.Resources as Record<string, { Properties?: Record<string, unknown> }>)
    .AttachmentsBucket;
  const lifecycle = bucket?.Properties?.LifecycleConfiguration as
    | { Rules: { Prefix?: string; ExpirationInDays?: unknown; NoncurrentVersionExpiration?: unknown }[] }
    | undefined;
  const reaching = (lifecycle?.Rules ?? []).filter(
    (r) => r.Prefix === undefined || 'avatars/'.startsWith(r.Prefix),
  );
  expect(reaching).toEqual([expect.objectContaining({ Prefix: 'avatars/' })]);
  expect(reaching[0]?.ExpirationInDays).toBeUndefined();
  expect(reaching[0]?.NoncurrentVersionExpiration).toBeDefined();
});

it('tells two members showing one name apart: each profile and push names its author by key', async () => {
  // Sam One wrote in the room as "sam" and went offline; Sam Two joined showing "sam" since.
  const [host, samOne] = await Promise.all([device('host'), deviceShowing('sam-one', 'sam')]);
  const room = await ask(host, { action: 'createroom', name: 'twins' });
  await ask(samOne, { action: 'joinroom', roomId: room.roomId, key: room.inviteKey });
  await ask(samOne, {
    action: 'setprofile',
    displayName: 'Sam One',
    avatar: { key: await upload(samOne, image(6), { purpose: 'avatar' }) },
  });
  await ask(samOne, { action: 'sendmessage', roomId: room.roomId, message: 'first sam', clientMsgId: 's1' });
  await samOne.close();
  const samTwo = await deviceShowing('sam-two', 'sam');
  await ask(samTwo, { action: 'joinroom', roomId: room.roomId, key: room.inviteKey });
  await ask(samTwo, {
    action: 'setprofile',
    displayName: 'Sam Two',
    avatar: { key: await upload(samTwo, image(7), { purpose: 'avatar' }) },
  });
  await ask(samTwo, { action: 'sendmessage', roomId: room.roomId, message: 'second sam', clientMsgId: 's2' });

  // A newcomer's backlog: two profiles both named "sam", each under the key its messages carry, each its own image.
  const watcher = await device('watcher');
  const joined = await ask(watcher, { action: 'joinroom', roomId: room.roomId, key: room.inviteKey });
  const messages = (await ask(watcher, { action: 'history', roomId: room.roomId })).messages as {
    text: string;
    username: string;
    authorKey: string;
  }[];
  expect(messages.filter((m) => m.text.endsWith(' sam')).map((m) => m.username)).toEqual(['sam', 'sam']);
  const keyOf = (text: string) => messages.find((m) => m.text === text)?.authorKey;
  const profiles = joined.profiles as (Shown & { displayName?: string })[];
  const byKey = new Map(profiles.map((p) => [p.authorKey, p]));
  expect(byKey.get(keyOf('first sam'))).toMatchObject({ username: 'sam', displayName: 'Sam One' });
  expect(byKey.get(keyOf('second sam'))).toMatchObject({ username: 'sam', displayName: 'Sam Two' });
  expect(await served(byKey.get(keyOf('first sam'))?.avatar?.url)).toEqual(image(6));
  expect(await served(byKey.get(keyOf('second sam'))?.avatar?.url)).toEqual(image(7));

  // Sam One, back under another name without entering the room, changes his profile: the push names his rows.
  const back = await deviceShowing('sam-one', 'samuel');
  await ask(back, { action: 'setprofile', status: 'back again' });
  const pushed = await watcher.next(
    (f) => f.type === 'profile' && f.roomId === room.roomId,
    20_000,
    'the push',
  );
  expect(pushed).toMatchObject({ username: 'sam', displayName: 'Sam One', status: 'back again' });
  expect(pushed.authorKey).toBe(keyOf('first sam'));
  expect(pushed.authorKey).not.toBe(keyOf('second sam'));
});
