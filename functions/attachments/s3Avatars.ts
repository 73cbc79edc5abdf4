import { CopyObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { AvatarBucket } from './avatars';
import { S3AttachmentReads } from './s3Read';

/**
 * setprofile's reach into the attachments bucket (avatars.ts): an avatar upload read back (HeadObject), copied to the
 * person's avatar object (CopyObject of the version read), the avatar cleared (DeleteObject), and avatars' GETs
 * signed (a version only). The role allows each on its own prefix only (template.yaml SetProfileFunction).
 */
export class S3Avatars extends S3AttachmentReads implements AvatarBucket {
  async copy(from: string, fromVersion: string, to: string): Promise<string> {
    const copied = await this.s3.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: to,
        CopySource: `${this.bucket}/${from}?versionId=${encodeURIComponent(fromVersion)}`,
      }),
    );
    if (copied.VersionId === undefined || copied.VersionId === 'null')
      throw new Error('The attachments bucket is not versioned: a profile cannot name what it shows.');
    return copied.VersionId;
  }

  async remove(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
