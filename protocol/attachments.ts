/**
 * Attachments, images and files of FILE_TYPES: a member asks for an upload (`attach`), posts the file straight to the attachments bucket with
 * the presigned POST it is given, sends a message naming the uploaded key (`sendmessage` `attachments`), and each
 * member reads an attachment through a short-lived presigned GET (`getattachment`). docs/PROTOCOL.md ("Attachments")
 * explains each part; protocol/asyncapi.yaml describes the same frames.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

/** The image types a member may upload; anything else is refused before anything is signed. */
export const ATTACHMENT_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type AttachmentType = (typeof ATTACHMENT_TYPES)[number];

/**
 * The file types (not images) a member may attach, each with its largest size in bytes and the name endings a file
 * of it must have. A file is stored with `Content-Disposition: attachment` and served with its declared type, so a
 * browser saves it and never renders it as a page. Left out on purpose: HTML, XHTML, SVG and XML (a browser runs
 * their scripts when it renders them), JavaScript and any executable or installer (they run on the reader's
 * machine), and office formats that may carry macros (.doc, .xls, .ppt, .docm, .xlsm, .pptm). A name must end in its
 * type's own ending, so a saved file never opens as something else (a PDF named `run.exe`).
 */
export const FILE_TYPES = {
  'application/pdf': { maxBytes: 20 * 1024 * 1024, extensions: ['.pdf'], label: 'PDF' },
  'text/plain': { maxBytes: 1024 * 1024, extensions: ['.txt', '.log', '.md'], label: 'text' },
  'text/csv': { maxBytes: 5 * 1024 * 1024, extensions: ['.csv'], label: 'CSV' },
  'application/zip': { maxBytes: 25 * 1024 * 1024, extensions: ['.zip'], label: 'ZIP' },
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': {
    maxBytes: 20 * 1024 * 1024,
    extensions: ['.docx'],
    label: 'Word',
  },
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
    maxBytes: 20 * 1024 * 1024,
    extensions: ['.xlsx'],
    label: 'Excel',
  },
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': {
    maxBytes: 20 * 1024 * 1024,
    extensions: ['.pptx'],
    label: 'PowerPoint',
  },
  'application/vnd.oasis.opendocument.text': {
    maxBytes: 20 * 1024 * 1024,
    extensions: ['.odt'],
    label: 'OpenDocument text',
  },
  'application/vnd.oasis.opendocument.spreadsheet': {
    maxBytes: 20 * 1024 * 1024,
    extensions: ['.ods'],
    label: 'OpenDocument spreadsheet',
  },
} as const satisfies Record<string, { maxBytes: number; extensions: readonly string[]; label: string }>;
export type FileType = keyof typeof FILE_TYPES;

export const ATTACHMENT_LIMITS = {
  /** The largest image, in bytes (5 MiB); a file's is its FILE_TYPES entry's. Bound into the presigned POST's policy as `content-length-range`. */
  maxBytes: 5 * 1024 * 1024,
  /** The longest file name a message carries, in characters. */
  nameMaxChars: 120,
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
 * An avatar upload's key (`attach` with `purpose: "avatar"`): `avatar-uploads/<owner>/<id>`, the owner a 22-character
 * hash of the signed-in user, the id 128 random bits. Of no room: `setprofile` takes its owner's own only.
 */
export const AVATAR_UPLOAD_KEY = /^avatar-uploads\/([A-Za-z0-9_-]{22})\/[A-Za-z0-9_-]{22}$/;

/** The owner of an avatar upload's key, or undefined when the key is not one. */
export function ownerOfAvatarUpload(key: unknown): string | undefined {
  if (typeof key !== 'string') return undefined;
  return AVATAR_UPLOAD_KEY.exec(key)?.[1];
}

/**
 * A version id as S3 gives it (opaque, URL-safe; at most 1,024 characters here), which `getattachment` passes back
 * to the bucket.
 */
export const ATTACHMENT_VERSION_ID = /^[A-Za-z0-9._-]{1,1024}$/;

export const ATTACHMENT_ACTIONS = ['attach', 'getattachment'] as const;
export type AttachmentAction = (typeof ATTACHMENT_ACTIONS)[number];

/**
 * Asks for an upload of one image or file of `contentType` and `size` bytes into the caller's room (`roomId`, if
 * named, must be it). A file (FILE_TYPES) names itself (`name`, checkAttachmentName): the bucket stores it with
 * `Content-Disposition: attachment` and that name. Counts against the member's uploads per day.
 * `purpose: "avatar"` (signed-in only, an image): an upload of the caller's own, in no room (AVATAR_UPLOAD_KEY),
 * which `setprofile` makes its avatar.
 */
export interface AttachRequest {
  action: 'attach';
  contentType: string;
  size: number;
  name?: string;
  purpose?: 'avatar';
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
  contentType: AttachmentType | FileType;
  size: number;
  /** A file's name (FILE_TYPES only, as `attach` was given it: the name it is stored to be saved under). */
  name?: string;
  width?: number;
  height?: number;
}

/**
 * The answer to `attach`: POST `fields` and then the file (as the form's last field, `file`) to `url` as
 * multipart/form-data before `expiresAt`; the bucket refuses another key, type, name or a larger file.
 */
export interface UploadFrame {
  type: 'upload';
  /** The room it is uploaded to; absent for an avatar upload (of no room). */
  roomId?: string;
  key: string;
  url: string;
  fields: Record<string, string>;
  maxBytes: number;
  expiresAt: string;
  requestId?: string;
}

/** The answer to `getattachment`: `url` serves the image (a file: as a download) until `expiresAt`. */
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

export const isFileType = (value: unknown): value is FileType =>
  typeof value === 'string' && Object.hasOwn(FILE_TYPES, value);

/** The largest upload of `type`, in bytes: an image's ATTACHMENT_LIMITS.maxBytes, a file's its FILE_TYPES entry's. */
export const maxBytesOf = (type: AttachmentType | FileType): number =>
  isFileType(type) ? FILE_TYPES[type].maxBytes : ATTACHMENT_LIMITS.maxBytes;

/** The allowed type of a file's name ending (FILE_TYPES), for a browser that gives a file no type or another one. */
export function fileTypeOfName(name: string): FileType | undefined {
  const lower = name.toLowerCase();
  return (Object.keys(FILE_TYPES) as FileType[]).find((type) =>
    (FILE_TYPES[type].extensions as readonly string[]).some((ending) => lower.endsWith(ending)),
  );
}

/**
 * Why a file's `name` is refused for `type`, or undefined when it is fine: 1 to ATTACHMENT_LIMITS.nameMaxChars
 * characters, no path separator (`/`, `\`), no control or invisible formatting character (a right-to-left override
 * makes `fdp.exe` read as `exe.pdf`), no leading dot or space, no trailing space, and ending in one of its type's
 * endings.
 */
export function attachmentNameProblem(name: unknown, type: FileType): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return 'A file needs its name ("name").';
  if ([...name].length > ATTACHMENT_LIMITS.nameMaxChars)
    return `A file name is at most ${ATTACHMENT_LIMITS.nameMaxChars} characters.`;
  if (/[/\\]/.test(name)) return 'A file name may not contain "/" or "\\".';
  if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cs}]/u.test(name))
    return 'A file name may not contain control or invisible formatting characters.';
  if (/^[.\s]|\s$/u.test(name))
    return 'A file name may not start with a dot or a space, nor end with a space.';
  const endings = FILE_TYPES[type].extensions as readonly string[];
  if (!endings.some((ending) => name.toLowerCase().endsWith(ending)))
    return `A ${FILE_TYPES[type].label} file's name ends in ${endings.join(' or ')}.`;
  return undefined;
}

/**
 * The `Content-Disposition` a file is stored with: `attachment`, an ASCII fallback name and the exact name in
 * RFC 6266's `filename*` (UTF-8, percent-encoded), so the header is ASCII whatever the name.
 */
export function attachmentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const exact = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${exact}`;
}

/** The room an attachment key belongs to, or undefined when the key is not an attachment key. */
export function roomOfAttachmentKey(key: unknown): string | undefined {
  if (typeof key !== 'string') return undefined;
  return ATTACHMENT_KEY.exec(key)?.[1];
}
