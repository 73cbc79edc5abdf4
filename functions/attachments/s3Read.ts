import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { S3AttachmentHeads } from './s3Head';

/**
 * Presigned GETs of attachment versions only (profiles' avatars, core/profiles.ts): without the POST presigner, so a
 * function that shows avatars but never signs uploads (messages, rooms, people) does not carry it.
 */
export class S3AttachmentReads extends S3AttachmentHeads {
  presignRead(key: string, versionId: string, seconds: number): Promise<string> {
    return getSignedUrl(
      this.s3,
      new GetObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }),
      { expiresIn: seconds },
    );
  }
}
