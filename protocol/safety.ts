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
  /** Open reports one `reports` page lists at most (and by default), newest first; `next` asks for the page after. */
  reportsListed: 50,
} as const;

export const SAFETY_PATTERNS = {
  /** A blocked person as the block list names it: 16 base64url characters, opaque, the blocker's own. */
  blockId: '^[A-Za-z0-9_-]{16}$',
  /** A report's id (a UUID, lower case). */
  reportId: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  /** A `reports` page's `next` (and a later request's `before`): the last listed report's time and id. */
  reportsCursor:
    '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z~[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
} as const;

/** How `resolvereport` closes a report: left as it is, or the message deleted first (`deletemessage`). */
export const REPORT_OUTCOMES = ['dismissed', 'deleted'] as const;
export type ReportOutcome = (typeof REPORT_OUTCOMES)[number];

export const SAFETY_ACTIONS = [
  'block',
  'unblock',
  'blocklist',
  'report',
  'reports',
  'resolvereport',
] as const;
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
/** Reports message `seq` of a room you follow to its owner, its moderators and the operators, with why (1–500 characters). */
export interface ReportRequest {
  action: 'report';
  roomId?: string;
  seq: number;
  reason: string;
  requestId?: string;
}
/**
 * Owner and moderators only: the open reports of a room you follow, newest first, `limit` (1–50, absent: 50) a page;
 * `before` is the `next` of the page before.
 */
export interface ReportsRequest {
  action: 'reports';
  roomId?: string;
  limit?: number;
  before?: string;
  requestId?: string;
}
/**
 * Owner and moderators only: closes an open report of a room you follow, for everyone who lists them. `deleted` once
 * the message is deleted (`deletemessage`, refused while it stands); `dismissed` leaves it as it is.
 */
export interface ResolveReportRequest {
  action: 'resolvereport';
  roomId?: string;
  reportId: string;
  outcome: ReportOutcome;
  requestId?: string;
}
export type SafetyRequest =
  | BlockRequest
  | UnblockRequest
  | BlockListRequest
  | ReportRequest
  | ReportsRequest
  | ResolveReportRequest;

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

/**
 * The reply to `report` (to the reporter), and pushed to the room owner's connections and to its moderators'
 * connections in the room.
 */
export interface ReportedFrame {
  type: 'reported';
  report: Report;
  requestId?: string;
}
/** The reply to `reports`: a page of open reports, newest first; `next` while older ones remain. */
export interface ReportsFrame {
  type: 'reports';
  roomId: string;
  reports: Report[];
  next?: string;
  requestId?: string;
}
/**
 * The reply to `resolvereport`, and pushed to the room owner's connections and its moderators' connections in the
 * room: the report is closed (take it off the list).
 */
export interface ReportResolvedFrame {
  type: 'reportresolved';
  roomId: string;
  reportId: string;
  outcome: ReportOutcome;
  /** The name of who closed it, in the room. */
  resolvedBy: string;
  resolvedAt: string;
  requestId?: string;
}
export type SafetyFrame = BlockListFrame | ReportedFrame | ReportsFrame | ReportResolvedFrame;

export const SAFETY_FRAME_TYPES = ['blocklist', 'reported', 'reports', 'reportresolved'] as const;

/** The frame type that answers each action (errors aside). */
export const SAFETY_REPLY_TYPE = {
  block: 'blocklist',
  unblock: 'blocklist',
  blocklist: 'blocklist',
  report: 'reported',
  reports: 'reports',
  resolvereport: 'reportresolved',
} as const;
