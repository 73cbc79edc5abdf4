/**
 * Named rooms, the directory of public rooms, and profiles. A room has a name and a topic its owner sets; a public
 * room is listed in the stack's directory (its name unique among public rooms) and joined by code alone; a private
 * room is never listed. A signed-in user's profile (display name, status, avatar) is shown beside its messages and
 * in find people. docs/PROTOCOL.md ("Named rooms, the directory and profiles") explains it; protocol/asyncapi.yaml
 * describes the same frames.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

export const DIRECTORY_LIMITS = {
  /** A room's name: 1–40 characters after NFKC, spaces collapsed and trimmed. */
  roomNameMaxChars: 40,
  /** A room's topic: up to 200 characters. */
  topicMaxChars: 200,
  /** Rooms one `listrooms` page gives at most (and the default `limit`). */
  listMax: 20,
  /** A profile's display name: 1–32 characters, as a username. */
  displayNameMaxChars: 32,
  /** A profile's status text: up to 80 characters. */
  statusMaxChars: 80,
  /** Rooms a profile change is told to at most: the user's first 100 memberships (the rooms followed at most). */
  profileRooms: 100,
  /** Bytes of a `history` reply its authors' profiles take at most: the rest of the 120 KB is the page's messages. */
  historyProfileBytes: 24 * 1024,
} as const;

export const DIRECTORY_ACTIONS = ['listrooms', 'setroom', 'setprofile'] as const;
export type DirectoryAction = (typeof DIRECTORY_ACTIONS)[number];

/** What a room is called and whether the directory lists it. Absent `name`: a room made before names (its code). */
export interface RoomInfo {
  name?: string;
  topic?: string;
  /** Listed in the directory and joined by code alone; absent or false: private (invite link only). */
  public?: boolean;
  /** Members may pin and unpin messages too; absent or false: the owner and moderators only. */
  membersPin?: boolean;
}

/** Public rooms whose name starts with `prefix` (folded as names are), in name order; `after` continues a page. */
export interface ListRoomsRequest {
  action: 'listrooms';
  prefix?: string;
  /** The `next` of the page before. */
  after?: string;
  limit?: number;
  requestId?: string;
}

/** Owner only: changes the room's name, topic, whether it is public or whether members pin; members get `roomchanged`. */
export interface SetRoomRequest extends RoomInfo {
  action: 'setroom';
  roomId?: string;
  requestId?: string;
}

/** Signed-in only: the caller's profile; each field given replaces the one kept ("" clears status or avatar). */
export interface SetProfileRequest {
  action: 'setprofile';
  displayName?: string;
  status?: string;
  /** The key of an avatar upload of the caller's (`attach` with `purpose: "avatar"`); null clears it. */
  avatar?: { key: string } | null;
  requestId?: string;
}
export type DirectoryRequest = ListRoomsRequest | SetRoomRequest | SetProfileRequest;

/** One public room of the directory. */
export interface ListedRoom {
  roomId: string;
  name: string;
  topic?: string;
}

export interface RoomsFrame {
  type: 'rooms';
  /** The prefix searched, folded. */
  prefix: string;
  rooms: ListedRoom[];
  /** More rooms follow: ask again with `after` set to this. */
  next?: string;
  requestId?: string;
}

/** A room's name, topic or visibility changed: pushed to every member, and the reply to `setroom`. */
export interface RoomChangedFrame extends RoomInfo {
  type: 'roomchanged';
  roomId: string;
  requestId?: string;
}

export interface ProfileAvatar {
  /**
   * The user's avatar object (`avatars/<owner>`), a copy setprofile made of an avatar upload of the user's own;
   * `versionId` is the copy's version (the only one shown). Of no room, and kept while it is the avatar.
   */
  key: string;
  versionId?: string;
  /**
   * Given with a profile, never taken: a presigned GET of that version, good for ATTACHMENT_LIMITS.readSeconds. Only
   * frames to members of the user's rooms carry it (pushes, `joined`, `history`, `findpeople`); nothing else signs it.
   */
  url?: string;
}

export interface Profile {
  userId: string;
  displayName?: string;
  status?: string;
  avatar?: ProfileAvatar;
}

/**
 * A signed-in member's profile: the reply to `setprofile` (no `roomId`), and pushed to each room the user belongs to
 * (its first DIRECTORY_LIMITS.profileRooms) with `roomId`, `authorKey` (the member's key there: its messages'
 * `authorKey`, the rows to update) and `username`, the name it last entered the room under (someone else may show
 * that name now: match by `authorKey`).
 */
export interface ProfileFrame extends Profile {
  type: 'profile';
  roomId?: string;
  authorKey?: string;
  username?: string;
  requestId?: string;
}

/**
 * A profile as `joined` and `history` give it beside their page: one per signed-in author of the page, by its
 * `authorKey` (its messages' there) and the name its latest message on the page shows.
 */
export interface AuthorProfile extends Profile {
  authorKey: string;
  username: string;
}

export type DirectoryFrame = RoomsFrame | RoomChangedFrame | ProfileFrame;
export const DIRECTORY_FRAME_TYPES = ['rooms', 'roomchanged', 'profile'] as const;

/** The frame type that answers each action (errors aside). */
export const DIRECTORY_REPLY_TYPE = {
  listrooms: 'rooms',
  setroom: 'roomchanged',
  setprofile: 'profile',
} as const;

const NOT_SHOWN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** A room's or display name as stored: NFKC, spaces collapsed and trimmed; undefined when it is not 1–max characters. */
export function normalizeTitle(value: unknown, maxChars: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const title = value.normalize('NFKC').replace(/\s+/g, ' ').trim();
  const chars = [...title].length;
  if (chars === 0 || chars > maxChars || NOT_SHOWN.test(title)) return undefined;
  return title;
}

/** A topic or status as stored: NFKC, trimmed; '' allowed (cleared); undefined when too long or holding controls. */
export function normalizeText(value: unknown, maxChars: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.normalize('NFKC').replace(/\s+/g, ' ').trim();
  if ([...text].length > maxChars || NOT_SHOWN.test(text)) return undefined;
  return text;
}
