/**
 * Finding people: a signed-in member looks up other signed-in users it shares a room with, by the start of their
 * display name, to open a direct message with one (`opendm` with the `userId` found). docs/PROTOCOL.md ("Read
 * positions, your rooms, direct messages") explains it; protocol/asyncapi.yaml describes the same frames.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

export const PEOPLE_LIMITS = {
  /** A prefix is 1–32 characters, as long as a display name may be. */
  prefixMaxChars: 32,
  /** People one answer lists at most (and the default `limit`). */
  maxResults: 20,
  /**
   * The caller's rooms searched at most: the first of its memberships (by room code). Each costs one Query of the
   * memberships' name index, so a call reads at most this many rooms' matches.
   */
  roomsSearched: 20,
} as const;

export const PEOPLE_ACTIONS = ['findpeople'] as const;
export type PeopleAction = (typeof PEOPLE_ACTIONS)[number];

/**
 * Signed-in users (other than the caller) who share at least one room with the caller and whose display name
 * starts with `prefix` (case-insensitive), sorted by name, at most `limit` (1–20, default 20). Signed-in only.
 */
export interface FindPeopleRequest {
  action: 'findpeople';
  prefix: string;
  limit?: number;
  requestId?: string;
}
export type PeopleRequest = FindPeopleRequest;

/** A signed-in user found: the id `opendm` takes, and its display name as it last entered a room. */
export interface Person {
  userId: string;
  username: string;
  /** The profile the user set (`setprofile`, protocol/directory.ts), when it has one. */
  displayName?: string;
  status?: string;
  /** Its avatar (protocol/directory.ts ProfileAvatar), with a presigned `url` to show it by. */
  avatar?: { key: string; versionId?: string; url?: string };
}

export interface PeopleFrame {
  type: 'people';
  /** The prefix searched, as the server folded it (NFKC, lower case). */
  prefix: string;
  people: Person[];
  requestId?: string;
}

export const PEOPLE_FRAME_TYPES = ['people'] as const;

/** The frame type that answers each action (errors aside). */
export const PEOPLE_REPLY_TYPE = { findpeople: 'people' } as const;

/** How names are compared by prefix: NFKC, lower case, spaces collapsed (the server and clients fold alike). */
export function foldName(name: string): string {
  return name.normalize('NFKC').replace(/\s+/g, ' ').trim().toLowerCase();
}
