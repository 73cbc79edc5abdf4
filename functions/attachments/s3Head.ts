import { HeadObjectCommand, S3Client, type S3ServiceException } from '@aws-sdk/client-s3';
import { requireEnv } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { traced } from '#platform/powertools';
import type { AttachmentBucket, StoredHead } from './attachments';

/**
 * One S3 client per runtime. Its credentials are the function's role: a presigned POST or GET carries the role's
 * permissions (s3:PutObject, s3:GetObjectVersion on `rooms/*`), so the bucket refuses any other key whatever is signed.
 * Path-style only where an endpoint is set (the local cloud's S3, docs/PARITY.md "Local S3"); virtual-hosted on AWS.
 */
const s3Client = onFirstCall(() =>
  traced(new S3Client({ forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined })),
);

/**
 * What a message's send needs of the attachments bucket: whether each stated object is there, its type, size and
 * Content-Disposition.
 * Apart from the signing (s3Bucket.ts) so the messages function's bundle carries the S3 client only, not the two
 * presigners (about 185 KB of its 1.4 MB, parsed at every cold start of a send).
 */
export class S3AttachmentHeads implements Pick<AttachmentBucket, 'head'> {
  constructor(
    protected readonly s3: S3Client = s3Client(),
    protected readonly bucket: string = requireEnv('ATTACHMENTS_BUCKET'),
  ) {}

  async head(key: string): Promise<StoredHead | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        versionId: head.VersionId,
        contentType: head.ContentType,
        size: head.ContentLength,
        disposition: head.ContentDisposition,
      };
    } catch (error) {
      // Without s3:ListBucket, S3 answers a missing key 403, not 404 (HeadObject's permissions): both are "none".
      const status = (error as S3ServiceException).$metadata?.httpStatusCode;
      if (status === 404 || status === 403) return undefined;
      throw error;
    }
  }
}
