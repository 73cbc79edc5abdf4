/**
 * Safety tools every member has (docs/PROTOCOL.md, "Blocking and reporting"): blocking a person, reporting a message
 * to the room's owner and the operators, and the word filter's refusal (`FILTERED`). protocol/asyncapi.yaml describes
 * the same frames.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

export const SAFETY_LIMITS = {
  /** People one member may block at once: the list is one Query and one frame. */
  blockedMax: 100,
  /** A report's reason, in characters (code points). */
  reasonMaxChars: 500,
  /** Reports one `reports` reply lists, newest first. */
  reportsListed: 50,
} as const;

export const SAFETY_PATTERNS = {
  /** A blocked person as the block list names it: 16 base64url characters, opaque, the blocker's own. */
  blockId: '^[A-Za-z0-9_-]{16}$',
} as const;

export const SAFETY_ACTIONS = ['block', 'unblock', 'blocklist', 'report', 'reports'] as const;
export type SafetyAction = (typeof SAFETY_ACTIONS)[number];

/**
 * Blocks the author of message `seq` of a room you follow (`roomId`, absent: the room you show), in every room: the
 * reply gives the keys to hide in that room. Their direct messages to you are refused, and they are not told why.
 */
export interface BlockRequest {
  action: 'block';
  roomId?: string;
  seq: number;
  requestId?: string;
}
/** Unblocks a person of your block list. */
export interface UnblockRequest {
  action: 'unblock';
  blockId: string;
  requestId?: string;
}
/** Your block list, and the `authorKey`s of blocked people in a room you follow (`roomId`, absent: the room you show). */
export interface BlockListRequest {
  action: 'blocklist';
  roomId?: string;
  requestId?: string;
}
/** Reports message `seq` of a room you follow to its owner and the operators, with why (1–500 characters). */
export interface ReportRequest {
  action: 'report';
  roomId?: string;
  seq: number;
  reason: string;
  requestId?: string;
}
/** Owner only: the reports of your room, newest first. */
export interface ReportsRequest {
  action: 'reports';
  roomId?: string;
  requestId?: string;
}
export type SafetyRequest = BlockRequest | UnblockRequest | BlockListRequest | ReportRequest | ReportsRequest;

/** A person you blocked: an opaque id (to unblock), the name they showed when blocked, and when. */
export interface BlockedPerson {
  blockId: string;
  username: string;
  blockedAt: string;
}

/** The reply to `block`, `unblock` and `blocklist`: the whole list, and what to hide in the room asked about. */
export interface BlockListFrame {
  type: 'blocklist';
  people: BlockedPerson[];
  /** The room `hiddenKeys` is about (absent after `unblock`). */
  roomId?: string;
  /** The `authorKey`s of blocked people in `roomId`: hide their messages there. */
  hiddenKeys?: string[];
  requestId?: string;
}

/** A report as its room's owner sees it: the reported message as it was when reported, kept if it is deleted later. */
export interface Report {
  reportId: string;
  roomId: string;
  seq: number;
  reason: string;
  reportedAt: string;
  /** The reporter's name in the room. */
  reportedBy: string;
  /** The message as reported: its author's name and key in the room, its text and when it was sent. */
  message: { username: string; text: string; sentAt: string; authorKey?: string };
}

/** The reply to `report` (to the reporter), and pushed to the connections of the room's owner. */
export interface ReportedFrame {
  type: 'reported';
  report: Report;
  requestId?: string;
}
/** The reply to `reports`. */
export interface ReportsFrame {
  type: 'reports';
  roomId: string;
  reports: Report[];
  requestId?: string;
}
export type SafetyFrame = BlockListFrame | ReportedFrame | ReportsFrame;

export const SAFETY_FRAME_TYPES = ['blocklist', 'reported', 'reports'] as const;

/** The frame type that answers each action (errors aside). */
export const SAFETY_REPLY_TYPE = {
  block: 'blocklist',
  unblock: 'blocklist',
  blocklist: 'blocklist',
  report: 'reported',
  reports: 'reports',
} as const;
