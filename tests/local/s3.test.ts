// The local S3 subset against the AWS SDK's own signers (@aws-sdk/s3-presigned-post, @aws-sdk/s3-request-presigner):
// what S3 accepts goes through, what it refuses is refused with its status and error code (docs/PARITY.md, "Local
// S3"). Each refusal here would be an upload or a read that S3 does not allow.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createLocalS3, type LocalS3 } from '../../tools/local/s3';

const region = 'us-east-1';
const bucket = 'attachments';
const origin = 'http://127.0.0.1:3000';
// writer may put under rooms/ and read; reader may only read; nobody may list.
const keys: Record<string, { secret: string; allow: [string, RegExp][] }> = {
  writer: {
    secret: 'writer-secret',
    allow: [
      ['s3:PutObject', /^arn:aws:s3:::(attachments|versioned)\/rooms\/.*/],
      ['s3:GetObject', /^arn:aws:s3:::(attachments|versioned)\/rooms\/.*/],
    ],
  },
  reader: { secret: 'reader-secret', allow: [['s3:GetObject', /^arn:aws:s3:::attachments\/rooms\/.*/]] },
  // Reads versions by id only, as the attachments function signs them.
  versionReader: {
    secret: 'version-secret',
    allow: [['s3:GetObjectVersion', /^arn:aws:s3:::versioned\/(rooms|avatars)\/.*/]],
  },
  // Copies versions of rooms/ keys to avatars/ and deletes avatars/ keys, as setprofile does (avatars.ts).
  copier: {
    secret: 'copier-secret',
    allow: [
      ['s3:GetObjectVersion', /^arn:aws:s3:::versioned\/rooms\/.*/],
      ['s3:PutObject', /^arn:aws:s3:::versioned\/avatars\/.*/],
      ['s3:DeleteObject', /^arn:aws:s3:::versioned\/avatars\/.*/],
    ],
  },
  // May write avatars/ but read nothing: a copy needs its source's read too.
  putter: { secret: 'putter-secret', allow: [['s3:PutObject', /^arn:aws:s3:::versioned\/avatars\/.*/]] },
};

let server: Server;
let s3: LocalS3;
let endpoint: string;
let clock = Date.now();

const clientOf = (who: string, secret = keys[who]?.secret ?? 'x') =>
  new S3Client({
    region,
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: who, secretAccessKey: secret },
  });

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

async function presign(
  options: {
    bucket?: string;
    key?: string;
    type?: string;
    max?: number;
    expires?: number;
    who?: string;
    secret?: string;
  } = {},
) {
  const key = options.key ?? 'rooms/ROOM1234/abc';
  return createPresignedPost(clientOf(options.who ?? 'writer', options.secret), {
    Bucket: options.bucket ?? bucket,
    Key: key,
    Conditions: [
      ['content-length-range', 1, options.max ?? 1024],
      ['eq', '$Content-Type', options.type ?? 'image/png'],
    ],
    Fields: { 'Content-Type': options.type ?? 'image/png' },
    Expires: options.expires ?? 300,
  });
}

async function upload(
  post: { url: string; fields: Record<string, string> },
  body: Buffer = PNG,
  change: (fields: Record<string, string>) => Record<string, string> = (f) => f,
): Promise<{ status: number; code?: string; text: string; headers: Headers }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(change({ ...post.fields }))) form.append(name, value);
  form.append('file', new Blob([body]));
  const res = await fetch(post.url, { method: 'POST', body: form, headers: { origin } });
  const text = await res.text();
  return { status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1], text, headers: res.headers };
}

/** A POST of PNG on `post` (a presigned form), `fields` put over the form's own: S3's answer. */
const forged = (post: { url: string; fields: Record<string, string> }, fields: Record<string, string>) =>
  upload(post, PNG, (f) => ({ ...f, ...fields }));

beforeAll(async () => {
  s3 = createLocalS3({
    region,
    buckets: [
      {
        name: bucket,
        cors: [
          { allowedOrigins: [origin], allowedMethods: ['GET', 'POST'], allowedHeaders: ['*'], maxAge: 3000 },
        ],
      },
      { name: 'versioned', versioned: true },
    ],
    now: () => clock,
    secretOf: (key) => keys[key]?.secret,
    authorize: async (key, action, resource) =>
      keys[key]?.allow.some(([a, r]) => a === action && r.test(resource))
        ? undefined
        : `${key} may not ${action}`,
    // Header-signed calls: these tests check the query-signed ones; the IAM check of headers is tools/local/iam's.
    checkSigned: async (req, _body, action, resource) => {
      const m = /Credential=([^/]+)\//.exec(String(req.headers.authorization));
      const key = m?.[1] ?? '';
      if (!keys[key]) return { code: 'UnrecognizedClientException', message: 'unknown' };
      return keys[key].allow.some(([a, r]) => a === action && r.test(resource))
        ? { accessKeyId: key }
        : { code: 'AccessDeniedException', message: 'denied' };
    },
  });
  server = createServer((req, res) => s3.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  clock = Date.now();
});

describe('local S3: presigned POST', () => {
  test('an upload within the policy is stored with its type, 204 with the CORS origin', async () => {
    const answer = await upload(await presign());
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
    expect(s3.object(bucket, 'rooms/ROOM1234/abc')).toMatchObject({ contentType: 'image/png', body: PNG });
  });

  test('too large: 400 EntityTooLarge, nothing stored', async () => {
    const answer = await upload(await presign({ key: 'rooms/ROOM1234/big', max: 10 }), Buffer.alloc(11));
    expect([answer.status, answer.code]).toEqual([400, 'EntityTooLarge']);
    expect(answer.text).toContain('<MaxSizeAllowed>10</MaxSizeAllowed>');
    expect(s3.object(bucket, 'rooms/ROOM1234/big')).toBeUndefined();
  });

  test('another Content-Type than the policy binds: 403 AccessDenied, Policy Condition failed', async () => {
    const answer = await forged(await presign({ key: 'rooms/ROOM1234/t' }), { 'Content-Type': 'text/html' });
    expect([answer.status, answer.code]).toEqual([403, 'AccessDenied']);
    expect(answer.text).toContain(
      'Policy Condition failed: [&#34;eq&#34;, &#34;$Content-Type&#34;, &#34;image/png&#34;]',
    );
    expect(s3.object(bucket, 'rooms/ROOM1234/t')).toBeUndefined();
  });

  test('another key than the policy binds: 403 AccessDenied, nothing stored there', async () => {
    const answer = await forged(await presign({ key: 'rooms/ROOM1234/k' }), { key: 'rooms/OTHER999/k' });
    expect([answer.status, answer.code]).toEqual([403, 'AccessDenied']);
    expect(s3.object(bucket, 'rooms/OTHER999/k')).toBeUndefined();
  });

  test('a field the policy does not name: 403 Extra input fields', async () => {
    const answer = await forged(await presign({ key: 'rooms/ROOM1234/x' }), { acl: 'public-read' });
    expect([answer.status, answer.code]).toEqual([403, 'AccessDenied']);
    expect(answer.text).toContain('Extra input fields: acl');
  });

  test('expired: 403 Policy expired', async () => {
    const post = await presign({ key: 'rooms/ROOM1234/late', expires: 60 });
    clock += 61_000;
    const answer = await upload(post);
    expect([answer.status, answer.code]).toEqual([403, 'AccessDenied']);
    expect(answer.text).toContain('Policy expired');
    expect(s3.object(bucket, 'rooms/ROOM1234/late')).toBeUndefined();
  });

  test('a tampered policy or signature: 403 SignatureDoesNotMatch', async () => {
    const post = await presign({ key: 'rooms/ROOM1234/sig', max: 10 });
    // A policy rewritten to allow more, under the original signature.
    const policy = JSON.parse(Buffer.from(post.fields.Policy as string, 'base64').toString());
    policy.conditions = policy.conditions.map((c: unknown) =>
      Array.isArray(c) && c[0] === 'content-length-range' ? ['content-length-range', 1, 10_000] : c,
    );
    const rewritten = Buffer.from(JSON.stringify(policy)).toString('base64');
    const answer = await upload(post, Buffer.alloc(100), (f) => ({ ...f, Policy: rewritten }));
    expect([answer.status, answer.code]).toEqual([403, 'SignatureDoesNotMatch']);
    const flipped = await upload(post, PNG, (f) => ({
      ...f,
      'X-Amz-Signature': (f['X-Amz-Signature'] as string).replace(/^./, (c) => (c === '0' ? '1' : '0')),
    }));
    expect([flipped.status, flipped.code]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(s3.object(bucket, 'rooms/ROOM1234/sig')).toBeUndefined();
  });

  test('signed with an unknown key: 403 InvalidAccessKeyId; by a key without s3:PutObject there: 403 AccessDenied', async () => {
    const unknown = await upload(await presign({ key: 'rooms/ROOM1234/u', who: 'nobody' }));
    expect([unknown.status, unknown.code]).toEqual([403, 'InvalidAccessKeyId']);
    const reader = await upload(await presign({ key: 'rooms/ROOM1234/r', who: 'reader' }));
    expect([reader.status, reader.code]).toEqual([403, 'AccessDenied']);
    const outside = await upload(await presign({ key: 'elsewhere/x' }));
    expect([outside.status, outside.code]).toEqual([403, 'AccessDenied']);
    expect(s3.object(bucket, 'elsewhere/x')).toBeUndefined();
  });

  test('CORS preflight: the web origin may POST; another origin is refused 403', async () => {
    const ok = await fetch(`${endpoint}/${bucket}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST' },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
    const other = await fetch(`${endpoint}/${bucket}`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('local S3: presigned GET and HeadObject', () => {
  const key = 'rooms/ROOM1234/get';
  beforeAll(() => s3.put(bucket, key, { body: PNG, contentType: 'image/png' }));

  const getUrl = (who = 'writer', objectKey = key, expiresIn = 60) =>
    getSignedUrl(clientOf(who), new GetObjectCommand({ Bucket: bucket, Key: objectKey }), { expiresIn });

  test('a presigned GET serves the object with its type', async () => {
    const res = await fetch(await getUrl());
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(PNG);
  });

  test('expired: 403 Request has expired', async () => {
    const url = await getUrl('writer', key, 60);
    clock += 61_000;
    const res = await fetch(url);
    const text = await res.text();
    expect(res.status).toBe(403);
    expect(text).toContain('<Code>AccessDenied</Code><Message>Request has expired</Message>');
  });

  test('tampered (another key under the same signature): 403 SignatureDoesNotMatch', async () => {
    const url = new URL(await getUrl());
    url.pathname = `/${bucket}/rooms/OTHER999/get`;
    const res = await fetch(url);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  test('X-Amz-Expires over a week: 400 AuthorizationQueryParametersError', async () => {
    // The SDK will not sign one; S3 reads the parameter before the signature.
    const url = new URL(await getUrl());
    url.searchParams.set('X-Amz-Expires', '604801');
    const res = await fetch(url);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<Code>AuthorizationQueryParametersError</Code>');
  });

  test('a missing key is 403 to a caller without s3:ListBucket (no oracle), as S3 answers', async () => {
    const res = await fetch(await getUrl('writer', 'rooms/ROOM1234/none'));
    expect(res.status).toBe(403);
    const head = clientOf('writer').send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'rooms/ROOM1234/none' }),
    );
    await expect(head).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
  });

  test("HeadObject by the SDK reads the object's type and size", async () => {
    const head = await clientOf('reader').send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect([head.ContentType, head.ContentLength]).toEqual(['image/png', PNG.length]);
  });
});

describe('local S3: versioning', () => {
  const key = 'rooms/ROOM1234/versions';
  const versionUrl = (who: string, versionId?: string) =>
    getSignedUrl(
      clientOf(who),
      new GetObjectCommand({ Bucket: 'versioned', Key: key, VersionId: versionId }),
      { expiresIn: 60 },
    );

  test('each upload under one key is a new version; a GET by version id serves that version whatever came after', async () => {
    const post = await presign({ bucket: 'versioned', key });
    const first = await upload(post, PNG);
    const second = await upload(post, Buffer.alloc(40, 1));
    expect([first.status, second.status]).toEqual([204, 204]);
    const [v1, v2] = [first.headers.get('x-amz-version-id'), second.headers.get('x-amz-version-id')];
    expect(v1).toMatch(/^[A-Za-z0-9._-]{32}$/);
    expect(v2).not.toBe(v1);
    // HeadObject reads the current version and names it.
    const head = await clientOf('writer').send(new HeadObjectCommand({ Bucket: 'versioned', Key: key }));
    expect([head.VersionId, head.ContentLength]).toEqual([v2, 40]);

    const old = await fetch(await versionUrl('versionReader', v1 as string));
    expect(old.status).toBe(200);
    expect(old.headers.get('x-amz-version-id')).toBe(v1);
    expect(Buffer.from(await old.arrayBuffer())).toEqual(PNG);
    expect(s3.versions('versioned', key).map((v) => v.versionId)).toEqual([v1, v2]);
  });

  test("a version is s3:GetObjectVersion's: without a version id the same caller is refused, 403", async () => {
    const current = await fetch(await versionUrl('versionReader'));
    expect(current.status).toBe(403);
    // And s3:GetObject alone does not read a version by id.
    const { versionId } = s3.object('versioned', key) as { versionId: string };
    expect((await fetch(await versionUrl('writer', versionId))).status).toBe(403);
  });

  test('an unknown version id is 403 to a caller without s3:ListBucket, as a missing key is', async () => {
    const res = await fetch(await versionUrl('versionReader', 'A'.repeat(32)));
    expect(res.status).toBe(403);
  });

  test('a bucket without versioning replaces the object, whose version id is "null"', async () => {
    const post = await presign({ key: 'rooms/ROOM1234/plain' });
    const answer = await upload(post, PNG);
    expect(answer.headers.get('x-amz-version-id')).toBeNull();
    await upload(post, Buffer.alloc(3, 1));
    expect(s3.versions(bucket, 'rooms/ROOM1234/plain').map((v) => [v.versionId, v.body.length])).toEqual([
      ['null', 3],
    ]);
    const head = await clientOf('writer').send(
      new HeadObjectCommand({ Bucket: bucket, Key: 'rooms/ROOM1234/plain' }),
    );
    expect(head.VersionId).toBeUndefined();
  });
});

describe('local S3: content headers', () => {
  const disposition = `attachment; filename="notes.pdf"; filename*=UTF-8''notes.pdf`;
  const presignFile = (key: string) =>
    createPresignedPost(clientOf('writer'), {
      Bucket: bucket,
      Key: key,
      Conditions: [
        ['content-length-range', 1, 1024],
        ['eq', '$Content-Type', 'application/pdf'],
        ['eq', '$Content-Disposition', disposition],
      ],
      Fields: { 'Content-Type': 'application/pdf', 'Content-Disposition': disposition },
      Expires: 300,
    });

  /** A POST of `key` with the form's Content-Disposition `inline`: refused 403 AccessDenied saying `says`, nothing stored. */
  async function expectInlineRefused(key: string, form: Parameters<typeof upload>[0], says: string) {
    const answer = await forged(form, { 'Content-Disposition': 'inline' });
    expect([answer.status, answer.code]).toEqual([403, 'AccessDenied']);
    expect(answer.text).toContain(says);
    expect(s3.object(bucket, key)).toBeUndefined();
  }

  test("a POST's Content-Disposition is stored and sent with each GET and HeadObject", async () => {
    const key = 'rooms/ROOM1234/file';
    expect((await upload(await presignFile(key))).status).toBe(204);
    const res = await fetch(
      await getSignedUrl(clientOf('reader'), new GetObjectCommand({ Bucket: bucket, Key: key })),
    );
    expect(res.status).toBe(200);
    expect([res.headers.get('content-type'), res.headers.get('content-disposition')]).toEqual([
      'application/pdf',
      disposition,
    ]);
    const head = await clientOf('reader').send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect([head.ContentType, head.ContentDisposition]).toEqual(['application/pdf', disposition]);
  });

  test('another Content-Disposition than the policy pins: 403 Policy Condition failed, nothing stored', async () => {
    const key = 'rooms/ROOM1234/inline';
    await expectInlineRefused(key, await presignFile(key), 'Policy Condition failed');
  });

  test('a Content-Disposition the policy does not name: 403 Extra input fields, nothing stored', async () => {
    const key = 'rooms/ROOM1234/extra';
    await expectInlineRefused(key, await presign({ key }), 'Extra input fields: content-disposition');
  });

  test("a signed GET's response-* parameters replace the stored headers; changed after signing, refused", async () => {
    const key = 'rooms/ROOM1234/override';
    s3.put(bucket, key, { body: PNG, contentType: 'image/png' });
    const url = await getSignedUrl(
      clientOf('reader'),
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ResponseContentDisposition: 'attachment; filename="x.png"',
        ResponseContentType: 'application/octet-stream',
      }),
    );
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect([res.headers.get('content-type'), res.headers.get('content-disposition')]).toEqual([
      'application/octet-stream',
      'attachment; filename="x.png"',
    ]);
    const tampered = new URL(url);
    tampered.searchParams.set('response-content-type', 'text/html');
    const refused = await fetch(tampered);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });
});

describe('local S3: CopyObject and DeleteObject', () => {
  const from = 'rooms/ROOM1234/copied';
  const to = 'avatars/someone';
  const copy = (who: string, versionId: string, target = to) =>
    clientOf(who).send(
      new CopyObjectCommand({
        Bucket: 'versioned',
        Key: target,
        CopySource: `versioned/${from}?versionId=${versionId}`,
      }),
    );
  const DENIED = { $metadata: { httpStatusCode: 403 } };

  test('a copy of a version is a new version of the target, with its bytes and type, readable by its id', async () => {
    const answer = await upload(await presign({ bucket: 'versioned', key: from }), PNG);
    const source = answer.headers.get('x-amz-version-id') as string;
    const copied = await copy('copier', source);
    expect(copied.VersionId).toMatch(/^[A-Za-z0-9._-]{32}$/);
    expect(copied.CopySourceVersionId).toBe(source);
    const url = await getSignedUrl(
      clientOf('versionReader'),
      new GetObjectCommand({ Bucket: 'versioned', Key: to, VersionId: copied.VersionId }),
      { expiresIn: 60 },
    );
    const res = await fetch(url);
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'image/png']);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(PNG);
  });

  test('a copy needs s3:GetObjectVersion on the source and s3:PutObject on the target: else 403', async () => {
    const source = (s3.object('versioned', from) as { versionId: string }).versionId;
    // putter may put the target but not read the source's version; copier may not put under rooms/.
    await expect(copy('putter', source)).rejects.toMatchObject(DENIED);
    await expect(copy('copier', source, 'rooms/ROOM1234/elsewhere')).rejects.toMatchObject(DENIED);
    // A version that does not exist is 403 too to a caller without s3:ListBucket.
    await expect(copy('copier', 'B'.repeat(32))).rejects.toMatchObject(DENIED);
  });

  test('a delete leaves a delete marker: the key reads as gone, its versions stay readable by id', async () => {
    const kept = s3.versions('versioned', to).at(-1) as { versionId: string };
    await expect(
      clientOf('writer').send(new DeleteObjectCommand({ Bucket: 'versioned', Key: to })),
    ).rejects.toMatchObject(DENIED);
    const deleted = await clientOf('copier').send(new DeleteObjectCommand({ Bucket: 'versioned', Key: to }));
    expect(deleted.DeleteMarker).toBe(true);
    expect(s3.object('versioned', to)).toBeUndefined();
    const url = await getSignedUrl(
      clientOf('versionReader'),
      new GetObjectCommand({ Bucket: 'versioned', Key: to, VersionId: kept.versionId }),
      { expiresIn: 60 },
    );
    expect((await fetch(url)).status).toBe(200);
  });
});
