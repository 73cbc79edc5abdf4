import { GetObjectCommand } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AttachmentBucket } from './attachments';
import { S3AttachmentHeads } from './s3Head';

/** The attachments bucket of the template (ATTACHMENTS_BUCKET), through S3: its objects' heads, and signed POSTs and GETs. */
export class S3AttachmentBucket extends S3AttachmentHeads implements AttachmentBucket {
  async presignUpload(
    key: string,
    contentType: string,
    maxBytes: number,
    seconds: number,
    disposition?: string,
  ) {
    return createPresignedPost(this.s3, {
      Bucket: this.bucket,
      Key: key,
      // The policy: this key exactly (createPresignedPost adds {key}), this type exactly, 1..maxBytes bytes, and a
      // file's Content-Disposition exactly (S3 stores it and serves it with every GET of the object).
      Conditions: [
        ['content-length-range', 1, maxBytes],
        ['eq', '$Content-Type', contentType],
        ...(disposition !== undefined
          ? [['eq', '$Content-Disposition', disposition] as ['eq', string, string]]
          : []),
      ],
      Fields: {
        'Content-Type': contentType,
        ...(disposition !== undefined && { 'Content-Disposition': disposition }),
      },
      Expires: seconds,
    });
  }

  presignRead(key: string, versionId: string, seconds: number): Promise<string> {
    return getSignedUrl(
      this.s3,
      new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }),
      { expiresIn: seconds },
    );
  }
}
