import { createHash, randomBytes } from 'node:crypto';
import { BadRequest } from '#core/errors';
import {
  ATTACHMENT_LIMITS,
  ATTACHMENT_TYPES,
  isAttachmentType,
  ownerOfAvatarUpload,
  type ProfileAvatar,
  roomOfAttachmentKey,
} from '#protocol';

/**
 * Avatars (docs/DECISIONS.md, "An avatar is the person's own object"): an image the person uploads as an avatar
 * (`attach` with `purpose: "avatar"`) under a key of its own, `avatar-uploads/<owner>/<id>`, that no message can name
 * (a message's keys are of its room); setprofile takes an upload of the caller's own only, and copies it to the
 * person's one avatar object, `avatars/<owner>`, whose version the profile shows. The bucket's lifecycle reaps what
 * is not an avatar (template.yaml AttachmentsBucket): uploads a day after, a replaced or cleared avatar's version a
 * day after it stops being current; the current version of `avatars/<owner>` is never expired, and no room's
 * message expiry or moderator delete reaches it.
 */

/**
 * The owner part of a person's avatar keys: 128 bits of SHA-256 of the signed-in user id, so a key says whose it is
 * to the server and names no account to a reader (a profile frame gives the user id to its readers anyway).
 */
function avatarOwner(userId: string): string {
  return createHash('sha256').update(`avatar\n${userId}`).digest('base64url').slice(0, 22);
}

/** A new avatar upload's key for the user: its own prefix, 128 random bits. */
export const avatarUploadKey = (userId: string): string =>
  `avatar-uploads/${avatarOwner(userId)}/${randomBytes(16).toString('base64url')}`;

/** The user's one avatar object: each avatar set is a new version of it. */
export const avatarKey = (userId: string): string => `avatars/${avatarOwner(userId)}`;

/** What setprofile needs of the attachments bucket for an avatar. */
export interface AvatarBucket {
  /** The stored object's current version (attachments.ts AttachmentBucket.head). */
  head(key: string): Promise<{ versionId?: string; contentType?: string; size?: number } | undefined>;
  /** Copies one version of `from` to `to` (CopyObject); the version written. */
  copy(from: string, fromVersion: string, to: string): Promise<string>;
  /** Deletes `key`'s current version (DeleteObject: in the versioned bucket, a delete marker). */
  remove(key: string): Promise<void>;
}

/** setprofile's `avatar` as stated: `{key}` of an avatar upload, or null; its owner is checked by keptAvatar. */
export function parseAvatar(value: unknown): { key: string } | null {
  if (value === null) return null;
  const key = typeof value === 'object' ? (value as { key?: unknown }).key : undefined;
  if (roomOfAttachmentKey(key) !== undefined)
    throw new BadRequest(
      '"avatar" must be an avatar upload ("attach" with "purpose":"avatar"), not an image of a room\'s messages.',
    );
  if (ownerOfAvatarUpload(key) === undefined)
    throw new BadRequest(
      '"avatar" must be {"key"} of your avatar upload ("attach" with "purpose":"avatar").',
    );
  return { key: key as string };
}

/**
 * The avatar a profile keeps: the caller's own upload (its key's owner is the caller's, else refused), read back as
 * a message's images are (one HeadObject: an image type, at most ATTACHMENT_LIMITS.maxBytes), and the version read
 * copied to the caller's avatar object (one CopyObject). The copy, not the upload, is shown: the upload expires a day
 * after it was made, the copy stays while it is the avatar.
 */
export async function keptAvatar(
  bucket: AvatarBucket,
  userId: string,
  upload: { key: string },
): Promise<ProfileAvatar> {
  if (ownerOfAvatarUpload(upload.key) !== avatarOwner(userId))
    throw new BadRequest('"avatar" is not an upload of yours: an avatar is an image you uploaded as one.');
  const found = await bucket.head(upload.key);
  if (!found)
    throw new BadRequest(`Avatar ${upload.key} was not uploaded (or has expired): upload it again.`);
  if (!isAttachmentType(found.contentType) || (found.size ?? 0) > ATTACHMENT_LIMITS.maxBytes)
    throw new BadRequest(
      `An avatar must be an image (${ATTACHMENT_TYPES.join(', ')}) of at most ${ATTACHMENT_LIMITS.maxBytes} bytes.`,
    );
  if (found.versionId === undefined || found.versionId === 'null')
    throw new Error('The attachments bucket is not versioned: a profile cannot name what it shows.');
  const key = avatarKey(userId);
  const versionId = await bucket.copy(upload.key, found.versionId, key);
  return { key, versionId };
}
