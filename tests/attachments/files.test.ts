import { ATTACHMENT_LIMITS, attachmentDisposition, FILE_TYPES } from '#protocol';
import type { ChatClient, Frame } from '../helpers/chatClient';
import { postUpload, roomCloud } from '../helpers/roomCloud';

/**
 * Files of the allowlist (protocol FILE_TYPES; docs/PROTOCOL.md, "Attachments") through the local cloud and its S3:
 * a member uploads a PDF under the presigned POST `attach` signs for its type, size and name, sends it, and another
 * member reads it as a download (`Content-Disposition: attachment`, its declared type). A type outside the list, a
 * bad name, a size over its type's limit, or an upload that is not what the message says is refused with its reason,
 * and nothing is stored or sent.
 */
jest.setTimeout(240_000);

const stage = roomCloud({
  settings: { AttachmentsPerDay: 100, FrameRateLimit: '100000', StrikeLimit: '100000' },
});
const { connect } = stage;
const roomOf = async (owner: ChatClient, ...others: ChatClient[]) =>
  (await stage.roomOf(owner, ...others)).roomId;

const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

const post = (
  upload: Frame,
  body: Buffer,
  fields: (f: Record<string, string>) => Record<string, string> = (f) => f,
) => postUpload(upload, body, { fields });

/** `client`'s upload of PDF under `name`, granted. */
const attachPdf = (client: ChatClient, name: string) =>
  client.expectReply({ action: 'attach', contentType: 'application/pdf', size: PDF.length, name });

const bucketName = () => {
  const bucket = stage.cloud.template.resourceIds('AWS::S3::Bucket')[0] as string;
  return String(stage.cloud.template.physicalId(bucket));
};

describe('file attachments', () => {
  it('alice sends a PDF; bob sees its name, type and size, and reads it as a download of its type', async () => {
    const alice = await connect('alice');
    const bob = await connect('bob');
    const roomId = await roomOf(alice, bob);
    const name = 'Q3 report – draft (v2).pdf';

    const upload = await attachPdf(alice, name);
    expect(upload).toMatchObject({ type: 'upload', roomId, maxBytes: PDF.length });
    expect((upload.fields as Record<string, string>)['Content-Disposition']).toBe(
      attachmentDisposition(name),
    );
    expect((await post(upload, PDF)).status).toBe(204);

    const attachment = { key: upload.key, contentType: 'application/pdf', size: PDF.length, name };
    const ack = await alice.expectReply({
      action: 'sendmessage',
      message: 'the draft',
      attachments: [attachment],
    });
    const live = await bob.next((f) => f.type === 'message' && f.seq === ack.seq);
    const [shown] = live.attachments as Frame[];
    expect(shown).toMatchObject(attachment);
    const history = await bob.expectReply({ action: 'history' });
    expect((history.messages as Frame[]).find((m) => m.seq === ack.seq)?.attachments).toEqual([shown]);

    const read = await bob.expectReply({
      action: 'getattachment',
      key: upload.key,
      versionId: shown?.versionId,
    });
    const res = await fetch(read.url as string);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    // Saved, never shown as a page: the disposition names the file, the exact name in filename* (RFC 6266).
    const disposition = String(res.headers.get('content-disposition'));
    expect(disposition.startsWith('attachment;')).toBe(true);
    expect(decodeURIComponent(/filename\*=UTF-8''(.+)$/.exec(disposition)?.[1] ?? '')).toBe(name);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(PDF);
  });

  it('refuses a type outside the list, a bad name and a size over its type’s limit, signing nothing', async () => {
    const alice = await connect('alice-bad');
    await roomOf(alice);
    const ask = (contentType: string, size: number, name?: string) =>
      alice.ask({ action: 'attach', contentType, size, ...(name !== undefined && { name }) });
    const refusals: [string, number, string | undefined, string][] = [
      ['text/html', 10, 'page.html', '"contentType" must be one of'],
      ['image/svg+xml', 10, 'logo.svg', '"contentType" must be one of'],
      ['application/javascript', 10, 'app.js', '"contentType" must be one of'],
      ['application/x-msdownload', 10, 'setup.exe', '"contentType" must be one of'],
      ['application/pdf', 10, undefined, 'A file needs its name'],
      ['application/pdf', 10, '../../etc/passwd.pdf', 'may not contain "/"'],
      ['application/pdf', 10, 'C:\\temp\\x.pdf', 'may not contain "/"'],
      ['application/pdf', 10, 'bell\u0007.pdf', 'control or invisible formatting'],
      // A right-to-left override shows "invoice‮fdp.exe" as "invoiceexe.pdf".
      ['application/pdf', 10, 'invoice\u202egpj.pdf', 'control or invisible formatting'],
      ['application/pdf', 10, 'run.exe', 'ends in .pdf'],
      [
        'application/pdf',
        10,
        `${'x'.repeat(ATTACHMENT_LIMITS.nameMaxChars - 3)}.pdf`,
        `at most ${ATTACHMENT_LIMITS.nameMaxChars} characters`,
      ],
      ['application/pdf', FILE_TYPES['application/pdf'].maxBytes + 1, 'big.pdf', 'The PDF file is too large'],
      ['text/plain', FILE_TYPES['text/plain'].maxBytes + 1, 'big.txt', 'The text file is too large'],
    ];
    for (const [contentType, size, name, reason] of refusals) {
      const reply = await ask(contentType, size, name);
      expect([contentType, name, reply.type, reply.code]).toEqual([
        contentType,
        name,
        'error',
        'BAD_REQUEST',
      ]);
      expect(String(reply.message)).toContain(reason);
    }
    // Each type's own limit holds exactly: a text file of 1 MiB is signed, the PDF of 20 MiB too.
    expect((await ask('text/plain', FILE_TYPES['text/plain'].maxBytes, 'notes.txt')).type).toBe('upload');
    expect((await ask('application/pdf', FILE_TYPES['application/pdf'].maxBytes, 'a.pdf')).type).toBe(
      'upload',
    );
  });

  it('the bucket refuses an upload that is not what was signed, and a send that is not what was stored', async () => {
    const alice = await connect('alice-swap');
    const roomId = await roomOf(alice);
    const name = 'notes.pdf';
    const upload = await attachPdf(alice, name);
    const key = upload.key as string;
    const stored = () => stage.cloud.s3.object(bucketName(), key);

    // Another disposition (shown inline), another type, or more bytes than signed: S3 refuses, nothing is stored.
    const inline = await post(upload, PDF, (f) => ({ ...f, 'Content-Disposition': 'inline' }));
    expect([inline.status, inline.code]).toEqual([403, 'AccessDenied']);
    const html = await post(upload, PDF, (f) => ({ ...f, 'Content-Type': 'text/html' }));
    expect([html.status, html.code]).toEqual([403, 'AccessDenied']);
    const larger = await post(upload, Buffer.concat([PDF, PDF]));
    expect([larger.status, larger.code]).toEqual([400, 'EntityTooLarge']);
    expect(stored()).toBeUndefined();

    // Sent before it is uploaded: refused.
    const early = await alice.ask({
      action: 'sendmessage',
      message: 'x',
      attachments: [{ key, contentType: 'application/pdf', size: PDF.length, name }],
    });
    expect(early).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });

    // A smaller file than signed is stored (the policy's range is 1..size), but a message stating the signed size,
    // another name, or another type than stored is refused at send.
    expect((await post(upload, PDF.subarray(0, 20))).status).toBe(204);
    const sends = [
      { key, contentType: 'application/pdf', size: PDF.length, name },
      { key, contentType: 'application/pdf', size: 20, name: 'other.pdf' },
      { key, contentType: 'text/plain', size: 20, name: 'notes.txt' },
    ];
    for (const attachment of sends) {
      const reply = await alice.ask({ action: 'sendmessage', message: 'x', attachments: [attachment] });
      expect([attachment, reply.type, reply.code]).toEqual([attachment, 'error', 'BAD_REQUEST']);
    }
    // An image's upload (no disposition) is not a file: stated as one, refused.
    const image = await alice.expectReply({ action: 'attach', contentType: 'image/png', size: 8 });
    expect((await post(image, Buffer.from('89504e470d0a1a0a', 'hex'))).status).toBe(204);
    const asFile = await alice.ask({
      action: 'sendmessage',
      message: 'x',
      attachments: [{ key: image.key, contentType: 'image/png', size: 8, name: 'x.pdf' }],
    });
    // The name of an image is not kept; stated as a PDF it is refused.
    expect(asFile.type).toBe('ack');
    const imageAsPdf = await alice.ask({
      action: 'sendmessage',
      message: 'x',
      attachments: [{ key: image.key, contentType: 'application/pdf', size: 8, name: 'x.pdf' }],
    });
    expect(imageAsPdf).toMatchObject({ type: 'error', code: 'BAD_REQUEST' });
    const history = await alice.expectReply({ action: 'history', roomId });
    expect((history.messages as Frame[]).map((m) => m.attachments)).toEqual([
      [{ key: image.key, contentType: 'image/png', size: 8, versionId: expect.any(String) }],
    ]);
  });
});
