/**
 * Image attachments: a member asks for an upload (`attach`), posts the file straight to the attachments bucket with
 * the presigned POST it is given, sends a message naming the uploaded key (`sendmessage` `attachments`), and each
 * member reads an attachment through a short-lived presigned GET (`getattachment`). docs/PROTOCOL.md ("Attachments")
 * explains each part; protocol/asyncapi.yaml describes the same frames.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

/** The image types a member may upload; anything else is refused before anything is signed. */
export const ATTACHMENT_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type AttachmentType = (typeof ATTACHMENT_TYPES)[number];

export const ATTACHMENT_LIMITS = {
  /** The largest upload, in bytes (5 MiB): bound into the presigned POST's policy as `content-length-range`. */
  maxBytes: 5 * 1024 * 1024,
  /** Attachments one message may carry. */
  perMessage: 4,
  /** How long an upload's presigned POST is good for, in seconds. */
  uploadSeconds: 300,
  /** How long a presigned GET is good for, in seconds: a thumbnail is asked for again after it. */
  readSeconds: 600,
  /** Largest width or height a message may state, in pixels. */
  maxDimension: 20_000,
} as const;

/** An attachment's key: `rooms/<roomId>/` and 22 base64url characters (128 random bits). */
export const ATTACHMENT_KEY = /^rooms\/([A-Z2-9]{6}|[A-Z2-9]{8}|[A-Z2-9]{12})\/[A-Za-z0-9_-]{22}$/;

/**
 * A version id as S3 gives it (opaque, URL-safe; at most 1,024 characters here), which `getattachment` passes back
 * to the bucket.
 */
export const ATTACHMENT_VERSION_ID = /^[A-Za-z0-9._-]{1,1024}$/;

export const ATTACHMENT_ACTIONS = ['attach', 'getattachment'] as const;
export type AttachmentAction = (typeof ATTACHMENT_ACTIONS)[number];

/**
 * Asks for an upload of one image of `contentType` and `size` bytes into the caller's room (`roomId`, if named,
 * must be it). Counts against the member's uploads per day.
 */
export interface AttachRequest {
  action: 'attach';
  contentType: string;
  size: number;
  roomId?: string;
  requestId?: string;
}

/** Asks for a presigned GET of an attachment of the caller's room: the version its message names. */
export interface GetAttachmentRequest {
  action: 'getattachment';
  key: string;
  versionId: string;
  roomId?: string;
  requestId?: string;
}
export type AttachmentRequest = AttachRequest | GetAttachmentRequest;

/** An attachment as a message carries it (`sendmessage`'s `attachments`, message frames, `history`). */
export interface Attachment {
  key: string;
  /**
   * The stored version the message shows: set by the server when the message is stored (the one its check read),
   * never taken from the sender. `getattachment` reads this version only.
   */
  versionId?: string;
  contentType: AttachmentType;
  size: number;
  width?: number;
  height?: number;
}

/**
 * The answer to `attach`: POST `fields` and then the file (as the form's last field, `file`) to `url` as
 * multipart/form-data before `expiresAt`; the bucket refuses another key, type or a larger file.
 */
export interface UploadFrame {
  type: 'upload';
  roomId: string;
  key: string;
  url: string;
  fields: Record<string, string>;
  maxBytes: number;
  expiresAt: string;
  requestId?: string;
}

/** The answer to `getattachment`: `url` serves the image until `expiresAt`. */
export interface AttachmentFrame {
  type: 'attachment';
  roomId: string;
  key: string;
  versionId: string;
  url: string;
  expiresAt: string;
  requestId?: string;
}
export type AttachmentFrameUnion = UploadFrame | AttachmentFrame;

export const ATTACHMENT_FRAME_TYPES = ['upload', 'attachment'] as const;
export const ATTACHMENT_REPLY_TYPE = { attach: 'upload', getattachment: 'attachment' } as const;

export const isAttachmentType = (value: unknown): value is AttachmentType =>
  typeof value === 'string' && (ATTACHMENT_TYPES as readonly string[]).includes(value);

/** The room an attachment key belongs to, or undefined when the key is not an attachment key. */
export function roomOfAttachmentKey(key: unknown): string | undefined {
  if (typeof key !== 'string') return undefined;
  return ATTACHMENT_KEY.exec(key)?.[1];
}
