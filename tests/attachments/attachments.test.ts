import { ATTACHMENT_LIMITS } from '#protocol';
import type { ChatClient, Frame } from '../helpers/chatClient';
import { postUpload, roomCloud } from '../helpers/roomCloud';

/**
 * Image attachments through the local cloud and its S3 (docs/PROTOCOL.md, "Attachments"): a member asks for an
 * upload, posts the image to the bucket with the presigned POST, sends a message carrying it, and another member
 * reads it by a presigned GET. Every refusal stores nothing and never lets anyone read another room's images.
 */
jest.setTimeout(240_000);

/** Uploads a source may ask for per day in this file's cloud (every client here is 127.0.0.1). */
const PER_DAY = 9;
let granted = 0;
const stage = roomCloud({
  settings: { AttachmentsPerDay: PER_DAY, FrameRateLimit: '100000', StrikeLimit: '100000' },
});
const { connect } = stage;

const roomOf = async (owner: ChatClient, ...others: ChatClient[]) =>
  (await stage.roomOf(owner, ...others)).roomId;

const PNG = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(200, 7)]);

async function askUpload(client: ChatClient, size = PNG.length, contentType = 'image/png'): Promise<Frame> {
  const reply = await client.ask({ action: 'attach', contentType, size });
  if (reply.type === 'upload') granted++;
  return reply;
}

const post = (upload: Frame, body: Buffer = PNG, origin?: string) => postUpload(upload, body, { origin });

describe('attachments', () => {
  it('alice uploads an image and sends it; bob sees it in the message and in history, and reads it by a presigned GET', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const roomId = await roomOf(alice, bob);

    const upload = await askUpload(alice);
    expect(upload).toMatchObject({ type: 'upload', roomId, maxBytes: PNG.length });
    expect(upload.key).toMatch(new RegExp(`^rooms/${roomId}/[A-Za-z0-9_-]{22}$`));
    const expiresIn = Date.parse(upload.expiresAt as string) - Date.now();
    expect(expiresIn).toBeGreaterThan(0);
    expect(expiresIn).toBeLessThanOrEqual(ATTACHMENT_LIMITS.uploadSeconds * 1000);
    // The page's origin may post (CORS), and the bucket stores the image.
    const posted = await post(upload, PNG, stage.cloud.httpUrl);
    expect(posted.status).toBe(204);
    expect(posted.headers.get('access-control-allow-origin')).toBe(stage.cloud.httpUrl);

    const attachment = { key: upload.key, contentType: 'image/png', size: PNG.length, width: 1, height: 1 };
    const ack = await alice.expectReply({ action: 'sendmessage', message: '', attachments: [attachment] });
    const live = await bob.next((f) => f.type === 'message' && f.seq === ack.seq);
    // The message names the version its send read, as the bucket gave it.
    const { versionId } = stage.cloud.s3.object(bucketName(), upload.key as string) as {
      versionId: string;
    };
    expect(live).toMatchObject({ text: '', attachments: [{ ...attachment, versionId }] });
    const history = await bob.expectReply({ action: 'history' });
    expect((history.messages as Frame[]).find((m) => m.seq === ack.seq)?.attachments).toEqual([
      { ...attachment, versionId },
    ]);

    const read = await bob.expectReply({ action: 'getattachment', key: upload.key, versionId });
    expect(read).toMatchObject({ type: 'attachment', roomId, key: upload.key, versionId });
    expect(String(read.url)).not.toBe(`${stage.cloud.s3Endpoint}/${upload.key}`);
    const image = await fetch(read.url as string);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await image.arrayBuffer())).toEqual(PNG);
    // The object's plain URL (no signature) is refused: the bucket has no public access.
    const bare = await fetch(String(read.url).split('?')[0] as string);
    expect(bare.status).toBe(403);
  });

  it('a second upload with the same presigned POST after the send changes nothing bob reads', async () => {
    const alice = await connect('alice-swap');
    const bob = await connect('bob-swap');
    const roomId = await roomOf(alice, bob);
    const upload = await askUpload(alice);
    expect((await post(upload)).status).toBe(204);
    // A sender's own versionId is not taken: the message names the version the send read.
    const stated = { key: upload.key, contentType: 'image/png', size: PNG.length, versionId: 'mine' };
    const ack = await alice.expectReply({ action: 'sendmessage', message: 'look', attachments: [stated] });
    const live = await bob.next((f) => f.type === 'message' && f.seq === ack.seq);
    const [shown] = live.attachments as Frame[];
    expect(shown?.versionId).not.toBe('mine');

    // The policy is good for minutes: alice posts other bytes, of another size, under the same key.
    const other = Buffer.concat([PNG.subarray(0, 8), Buffer.alloc(PNG.length - 50, 9)]);
    expect((await post(upload, other)).status).toBe(204);
    expect(stage.cloud.s3.object(bucketName(), upload.key as string)?.body).toEqual(other);

    const read = await bob.expectReply({
      action: 'getattachment',
      roomId,
      key: upload.key,
      versionId: shown?.versionId,
    });
    const image = await fetch(read.url as string);
    expect(image.status).toBe(200);
    const bytes = Buffer.from(await image.arrayBuffer());
    expect([bytes.length, bytes.equals(PNG)]).toEqual([shown?.size, true]);
    // Without the message's version nothing is signed; the current object is not the signer's to read anyway.
    expect(await bob.ask({ action: 'getattachment', key: upload.key })).toMatchObject({
      type: 'error',
      code: 'BAD_REQUEST',
    });
    const current = new URL(read.url as string);
    current.searchParams.delete('versionId');
    expect((await fetch(current)).status).toBe(403);
  });

  it('refuses a type, a size or an upload the policy does not allow, storing nothing', async () => {
    const alice = await connect('alice-bad');
    const roomId = await roomOf(alice);
    const svg = await askUpload(alice, 100, 'image/svg+xml');
    expect(svg).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    const huge = await askUpload(alice, ATTACHMENT_LIMITS.maxBytes + 1);
    expect(huge).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    expect(String(huge.message)).toContain('too large');

    // Signed for 100 bytes: 101 are refused by the bucket itself, and nothing is stored.
    const small = await askUpload(alice, 100);
    const tooLarge = await post(small, Buffer.alloc(101));
    expect([tooLarge.status, tooLarge.code]).toEqual([400, 'EntityTooLarge']);
    // Another type than the one signed.
    const other = await askUpload(alice, PNG.length);
    const retyped = await post({
      ...other,
      fields: { ...(other.fields as object), 'Content-Type': 'text/html' },
    });
    expect([retyped.status, retyped.code]).toEqual([403, 'AccessDenied']);
    // Another room's key under this signature.
    const moved = await post({
      ...other,
      fields: { ...(other.fields as object), key: (other.key as string).replace(roomId, 'ZZZZZZZZ') },
    });
    expect([moved.status, moved.code]).toEqual([403, 'AccessDenied']);
    for (const key of [small.key, other.key])
      expect(stage.cloud.s3.object(bucketName(), key as string)).toBeUndefined();

    // A message naming an image never uploaded, or one of another type or size than stored, is refused.
    const never = { key: other.key, contentType: 'image/png', size: PNG.length };
    const unsent = await alice.ask({ action: 'sendmessage', message: 'x', attachments: [never] });
    expect(unsent).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    const traversal = await alice.ask({
      action: 'sendmessage',
      message: 'x',
      attachments: [{ key: `rooms/${roomId}/../../etc/passwd`, contentType: 'image/png', size: 10 }],
    });
    expect(traversal).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    const history = await alice.expectReply({ action: 'history' });
    expect(history.messages).toEqual([]);
  });

  it("a non-member can neither read nor attach another room's images", async () => {
    const alice = await connect('alice-own');
    const mallory = await connect('mallory');
    const roomId = await roomOf(alice);
    await roomOf(mallory);
    const upload = await askUpload(alice);
    expect((await post(upload)).status).toBe(204);

    const versionId = stage.cloud.s3.object(bucketName(), upload.key as string)?.versionId;
    const read = await mallory.ask({ action: 'getattachment', key: upload.key, versionId });
    expect(read).toMatchObject({ type: 'error', code: 'NOT_SUBSCRIBED' });
    const named = await mallory.ask({ action: 'attach', roomId, contentType: 'image/png', size: 10 });
    expect(named).toMatchObject({ type: 'error', code: 'NOT_SUBSCRIBED' });
    const sent = await mallory.ask({
      action: 'sendmessage',
      message: 'mine now',
      attachments: [{ key: upload.key, contentType: 'image/png', size: PNG.length }],
    });
    expect(sent).toMatchObject({ type: 'error', code: 'NOT_SUBSCRIBED' });
    // In the lobby, nothing is signed at all.
    const lobby = await connect('lurker');
    expect(await lobby.ask({ action: 'attach', contentType: 'image/png', size: 10 })).toMatchObject({
      type: 'error',
      code: 'BAD_REQUEST',
    });
  });

  it('a presigned GET is good for readSeconds, and a tampered one is refused', async () => {
    const alice = await connect('alice-exp');
    await roomOf(alice);
    const upload = await askUpload(alice);
    await post(upload);
    const versionId = stage.cloud.s3.object(bucketName(), upload.key as string)?.versionId;
    const read = await alice.expectReply({ action: 'getattachment', key: upload.key, versionId });
    const tampered = new URL(read.url as string);
    tampered.pathname = tampered.pathname.replace(/[^/]+$/, 'AAAAAAAAAAAAAAAAAAAAAA');
    const refused = await fetch(tampered);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
    const seconds = Number(new URL(read.url as string).searchParams.get('X-Amz-Expires'));
    expect(seconds).toBe(ATTACHMENT_LIMITS.readSeconds);
  });

  it('refuses uploads past the per-day quota, RATE_LIMITED, without closing the connection', async () => {
    const alice = await connect('alice-quota');
    await roomOf(alice);
    while (granted < PER_DAY) expect((await askUpload(alice)).type).toBe('upload');
    const over = await askUpload(alice);
    expect(over).toMatchObject({ type: 'error', code: 'RATE_LIMITED' });
    expect(String(over.message)).toContain(`${PER_DAY} images or files a day`);
    expect((await alice.expectReply({ action: 'who' })).type).toBe('members');
  });
});

function bucketName(): string {
  const id = stage.cloud.template.resourceIds('AWS::S3::Bucket')[0] as string;
  return String(stage.cloud.template.physicalId(id));
}
