import { GetObjectCommand, HeadObjectCommand, S3Client, type S3ServiceException } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { requireEnv } from '#platform/config';
import { onFirstCall } from '#platform/onFirstCall';
import { traced } from '#platform/powertools';
import type { AttachmentBucket } from './attachments';

/**
 * One S3 client per runtime. Its credentials are the function's role: a presigned POST or GET carries the role's
 * permissions (s3:PutObject, s3:GetObject on `rooms/*`), so the bucket refuses any other key whatever is signed.
 * Path-style only where an endpoint is set (the local cloud's S3, docs/PARITY.md "Local S3"); virtual-hosted on AWS.
 */
const client = onFirstCall(() =>
  traced(new S3Client({ forcePathStyle: process.env.AWS_ENDPOINT_URL_S3 !== undefined })),
);

/** The attachments bucket of the template (ATTACHMENTS_BUCKET), through S3. */
export class S3AttachmentBucket implements AttachmentBucket {
  constructor(
    private readonly s3: S3Client = client(),
    private readonly bucket: string = requireEnv('ATTACHMENTS_BUCKET'),
  ) {}

  async presignUpload(key: string, contentType: string, maxBytes: number, seconds: number) {
    return createPresignedPost(this.s3, {
      Bucket: this.bucket,
      Key: key,
      // The policy: this key exactly (createPresignedPost adds {key}), this type exactly, 1..maxBytes bytes.
      Conditions: [
        ['content-length-range', 1, maxBytes],
        ['eq', '$Content-Type', contentType],
      ],
      Fields: { 'Content-Type': contentType },
      Expires: seconds,
    });
  }

  presignRead(key: string, seconds: number): Promise<string> {
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: key }), {
      expiresIn: seconds,
    });
  }

  async head(key: string): Promise<{ contentType?: string; size?: number } | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { contentType: head.ContentType, size: head.ContentLength };
    } catch (error) {
      // Without s3:ListBucket, S3 answers a missing key 403, not 404 (HeadObject's permissions): both are "none".
      const status = (error as S3ServiceException).$metadata?.httpStatusCode;
      if (status === 404 || status === 403) return undefined;
      throw error;
    }
  }
}
