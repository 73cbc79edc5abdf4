import { randomBytes } from 'node:crypto';
import { BadRequest, Forbidden, NotSubscribed, RateLimited } from '#core/errors';
import type { QuotaStore } from '#core/limits/quotas';
import type { Connection } from '#core/ports';
import { LOBBY } from '#core/protocol';
import type { Clock } from '#platform/clock';
import {
  ATTACHMENT_LIMITS,
  ATTACHMENT_TYPES,
  ATTACHMENT_VERSION_ID,
  type Attachment,
  type AttachmentFrame,
  type AttachmentType,
  attachmentDisposition,
  attachmentNameProblem,
  FILE_TYPES,
  type FileType,
  isAttachmentType,
  isFileType,
  maxBytesOf,
  roomOfAttachmentKey,
  type UploadFrame,
} from '#protocol';
import { refuseListedWords } from '#safety/labels';
import { avatarUploadKey } from './avatars';

/**
 * Attachments, images and files of FILE_TYPES (docs/PROTOCOL.md, "Attachments"; docs/SECURITY.md, "Attachments"):
 * the bytes never pass through a function. A member of a room asks for an upload; the function checks the type,
 * the size (each type's limit), a file's name and the member's uploads per day, and signs a POST policy that binds
 * the key (`rooms/<roomId>/<128 random bits>`), the Content-Type, a file's `Content-Disposition: attachment` with
 * its name, and the size range, for minutes. A message names uploaded keys of its own room, each read back
 * (HeadObject) before the message is stored, and the message records the version read (`versionId`: the bucket is
 * versioned, and S3 never changes a version's bytes). Members read an attachment by a GET of that version, presigned
 * for minutes, so a second upload under the same policy changes nothing a message shows; the bucket has no public
 * access at all.
 */

/** The bucket, as the functions reach it (S3 on AWS). */
export interface AttachmentBucket {
  /**
   * A presigned POST for exactly this key and type, `1..maxBytes` bytes, good for `seconds`; with `disposition`,
   * the object must be stored with exactly that Content-Disposition.
   */
  presignUpload(
    key: string,
    contentType: string,
    maxBytes: number,
    seconds: number,
    disposition?: string,
  ): Promise<{ url: string; fields: Record<string, string> }>;
  /** A presigned GET of one version of the key, good for `seconds`. */
  presignRead(key: string, versionId: string, seconds: number): Promise<string>;
  /** The stored object's current version: its id, type, size and Content-Disposition; undefined when there is none (or the caller may not tell). */
  head(key: string): Promise<StoredHead | undefined>;
}

export interface StoredHead {
  versionId?: string;
  contentType?: string;
  size?: number;
  disposition?: string;
}

interface AttachDeps {
  bucket: AttachmentBucket;
  quota: QuotaStore;
  /** Uploads one owner may ask for per day; 0 = unlimited. */
  perDay: number;
  now: Clock;
}

const DAY_MS = 86_400_000;

/** The connection's room, refusing the lobby: an attachment belongs to a room's members. */
function roomOf(connection: Connection): string {
  if (connection.roomId === LOBBY)
    throw new BadRequest('Attachments are for rooms: create or join one first.');
  return connection.roomId;
}

/** A size in bytes as `attach` states it: a whole number from 1 to the limit of its type (an image's by default). */
function parseSize(value: unknown, type: AttachmentType | FileType = 'image/png'): number {
  const what = isFileType(type) ? `${FILE_TYPES[type].label} file` : 'image';
  if (!Number.isSafeInteger(value) || (value as number) < 1)
    throw new BadRequest(`"size" must be the ${what}'s size in bytes, a whole number of 1 or more.`);
  const max = maxBytesOf(type);
  if ((value as number) > max)
    throw new BadRequest(
      `The ${what} is too large: ${value} bytes, at most ${max} (${max / 1024 / 1024} MiB).`,
    );
  return value as number;
}

/** An image type (ATTACHMENT_TYPES) or a file type of the allowlist (FILE_TYPES); anything else is refused. */
function parseContentType(value: unknown): AttachmentType | FileType {
  if (!isAttachmentType(value) && !isFileType(value))
    throw new BadRequest(
      `"contentType" must be one of ${[...ATTACHMENT_TYPES, ...Object.keys(FILE_TYPES)].join(', ')}.`,
    );
  return value;
}

/** A file's name for its type (attachmentNameProblem), refused BAD_REQUEST. */
function parseName(value: unknown, type: FileType): string {
  const problem = attachmentNameProblem(value, type);
  if (problem !== undefined) throw new BadRequest(problem);
  // A file's name is shown to every member who sees the message, and is its download's name.
  refuseListedWords(value as string, 'file name');
  return value as string;
}

/**
 * Where an upload goes: a new key of the caller's room, or with `purpose: "avatar"` a new avatar upload key of the
 * signed-in caller's own (avatars.ts), an image only, in no room.
 */
function uploadTarget(
  connection: Connection,
  purpose: unknown,
  contentType: AttachmentType | FileType,
): { key: string; roomId?: string } {
  if (purpose === undefined) {
    const roomId = roomOf(connection);
    return { roomId, key: `rooms/${roomId}/${randomBytes(16).toString('base64url')}` };
  }
  if (purpose !== 'avatar')
    throw new BadRequest('"purpose" is "avatar" or absent (an image or file of the room).');
  if (!connection.userId?.startsWith('user:'))
    throw new Forbidden('Avatars need sign-in: without it there is no person an avatar could belong to.');
  if (!isAttachmentType(contentType))
    throw new BadRequest(`An avatar must be an image: ${ATTACHMENT_TYPES.join(', ')}.`);
  return { key: avatarUploadKey(connection.userId) };
}

/**
 * `attach`: counts the upload against the owner's day (a token bucket of `perDay` refilled over a day, in the
 * Limits table), then signs a POST for a new key (uploadTarget).
 */
export async function requestUpload(
  deps: AttachDeps,
  connection: Connection,
  owner: string,
  request: { contentType: unknown; size: unknown; name?: unknown; purpose?: unknown },
): Promise<UploadFrame> {
  const contentType = parseContentType(request.contentType);
  const { key, roomId } = uploadTarget(connection, request.purpose, contentType);
  const size = parseSize(request.size, contentType);
  // An image is served inline (a thumbnail); a file is stored to be saved, never rendered (protocol FILE_TYPES).
  const name = isFileType(contentType) ? parseName(request.name, contentType) : undefined;
  const nowMs = deps.now().getTime();
  if (
    deps.perDay > 0 &&
    !(await deps.quota.take(`attach#${owner}`, nowMs, DAY_MS / deps.perDay, deps.perDay))
  )
    // No strike: a person who sent their day's images is not abusing anything (docs/PROTOCOL.md), and the quota
    // already bounds what the connection costs.
    throw new RateLimited(
      `You can upload ${deps.perDay} images or files a day; your next one is possible in ${Math.ceil(DAY_MS / deps.perDay / 60_000)} minutes.`,
      false,
    );
  // The policy binds the key, the type, a file's disposition and at most the stated size: S3 refuses a larger file
  // (EntityTooLarge), another type or another disposition (AccessDenied, Policy Condition failed).
  const { url, fields } = await deps.bucket.presignUpload(
    key,
    contentType,
    size,
    ATTACHMENT_LIMITS.uploadSeconds,
    ...(name !== undefined ? [attachmentDisposition(name)] : []),
  );
  return {
    type: 'upload',
    ...(roomId !== undefined && { roomId }),
    key,
    url,
    fields,
    maxBytes: size,
    expiresAt: new Date(nowMs + ATTACHMENT_LIMITS.uploadSeconds * 1000).toISOString(),
  };
}

/** A key of the caller's room, refused as malformed (BAD_REQUEST) or of another room (NOT_SUBSCRIBED). */
function keyOfRoom(key: unknown, roomId: string): string {
  const keyRoom = roomOfAttachmentKey(key);
  if (keyRoom === undefined)
    throw new BadRequest('"key" must be an attachment key as "attach" gave it (rooms/<room>/<id>).');
  if (keyRoom !== roomId) throw new NotSubscribed(keyRoom);
  return key as string;
}

/** The `versionId` of `getattachment`: the one the message names, as S3 gave it. */
function parseVersionId(value: unknown): string {
  if (typeof value !== 'string' || !ATTACHMENT_VERSION_ID.test(value))
    throw new BadRequest('"versionId" must be the versionId of the attachment as its message names it.');
  return value;
}

/**
 * `getattachment`: a GET of the version of an attachment its message names (`versionId`), of the caller's room,
 * presigned for minutes. The signer may read versions only (s3:GetObjectVersion), never whatever is current.
 */
export async function readAttachment(
  deps: Pick<AttachDeps, 'bucket' | 'now'>,
  connection: Connection,
  key: unknown,
  versionId: unknown,
): Promise<AttachmentFrame> {
  const roomId = roomOf(connection);
  const checked = keyOfRoom(key, roomId);
  const version = parseVersionId(versionId);
  const url = await deps.bucket.presignRead(checked, version, ATTACHMENT_LIMITS.readSeconds);
  return {
    type: 'attachment',
    roomId,
    key: checked,
    versionId: version,
    url,
    expiresAt: new Date(deps.now().getTime() + ATTACHMENT_LIMITS.readSeconds * 1000).toISOString(),
  };
}

const dimension = (value: unknown, name: string): number | undefined => {
  if (value === undefined) return undefined;
  if (
    !Number.isSafeInteger(value) ||
    (value as number) < 1 ||
    (value as number) > ATTACHMENT_LIMITS.maxDimension
  )
    throw new BadRequest(
      `"${name}" of an attachment must be a whole number from 1 to ${ATTACHMENT_LIMITS.maxDimension}.`,
    );
  return value as number;
};

/**
 * `sendmessage`'s `attachments` as stated: their shape only (checkAttachments reads them against the bucket). A
 * stated `versionId` is not taken: the version is the one the check reads.
 */
export function parseAttachments(value: unknown): Attachment[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > ATTACHMENT_LIMITS.perMessage)
    throw new BadRequest(
      `"attachments" must be a list of 1 to ${ATTACHMENT_LIMITS.perMessage} uploaded images or files.`,
    );
  const keys = new Set<string>();
  return value.map((raw) => {
    if (typeof raw !== 'object' || raw === null)
      throw new BadRequest('Each attachment must be an object: {key, contentType, size, name?}.');
    const { key, contentType, size, name, width, height } = raw as Record<string, unknown>;
    if (roomOfAttachmentKey(key) === undefined)
      throw new BadRequest('"key" must be an attachment key as "attach" gave it (rooms/<room>/<id>).');
    if (keys.has(key as string)) throw new BadRequest('An attachment is named twice.');
    keys.add(key as string);
    const type = parseContentType(contentType);
    // A file's name is bound to its stored object (checkAttachments); an image's, unbound, is not kept.
    const fileName = isFileType(type) ? parseName(name, type) : undefined;
    // Width and height are an image's; a file states none.
    const w = isFileType(type) ? undefined : dimension(width, 'width');
    const h = isFileType(type) ? undefined : dimension(height, 'height');
    return {
      key: key as string,
      contentType: type,
      size: parseSize(size, type),
      ...(fileName !== undefined && { name: fileName }),
      ...(w !== undefined && { width: w }),
      ...(h !== undefined && { height: h }),
    };
  });
}

/**
 * Before a message carrying attachments is stored: each key is of the sender's room, and is stored in the bucket
 * with the stated type and size, and a file with the Content-Disposition of its stated name (one HeadObject each,
 * in parallel, beside the send's other reads). Returns the
 * attachments as the message stores them: each with the version that was read (`versionId`), the only one members
 * will read. Nothing else is read for a message without attachments.
 */
export async function checkAttachments(
  bucket: Pick<AttachmentBucket, 'head'>,
  roomId: string,
  attachments: Attachment[],
): Promise<Attachment[]> {
  if (roomId === LOBBY) throw new BadRequest('Attachments are for rooms: create or join one first.');
  for (const attachment of attachments) keyOfRoom(attachment.key, roomId);
  const stored = await Promise.all(attachments.map((a) => bucket.head(a.key)));
  attachments.forEach((attachment, i) => {
    const found = stored[i];
    if (!found)
      throw new BadRequest(
        `Attachment ${attachment.key} was not uploaded (or has expired): upload it again.`,
      );
    if (found.contentType !== attachment.contentType || found.size !== attachment.size)
      throw new BadRequest(
        `Attachment ${attachment.key} is stored as ${found.contentType}, ${found.size} bytes, not as the message says.`,
      );
    // A file is stored to be saved under the name its upload was signed for; a message may not rename it, and an
    // object stored without the disposition (an image's upload) is not a file.
    if (
      isFileType(attachment.contentType) &&
      found.disposition !== attachmentDisposition(attachment.name ?? '')
    )
      throw new BadRequest(
        `Attachment ${attachment.key} is not stored as the file "${attachment.name}" to download: upload it again.`,
      );
  });
  return attachments.map((attachment, i) => {
    const versionId = stored[i]?.versionId;
    // A bucket without versioning gives no version: nothing would hold the bytes a message names (template.yaml).
    if (versionId === undefined || versionId === 'null')
      throw new Error('The attachments bucket is not versioned: a message cannot name what it shows.');
    return { ...attachment, versionId };
  });
}
