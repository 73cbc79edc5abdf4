/**
 * Moderation: a room's roles (owner, moderator, member), muting and banning a member, slow mode, and the room's own
 * filtered words.
 * docs/PROTOCOL.md ("Moderation") explains each part; protocol/asyncapi.yaml describes the same frames.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

export const MODERATION_ACTIONS = [
  'setrole',
  'mute',
  'unmute',
  'ban',
  'unban',
  'slowmode',
  'roomwords',
  'modlog',
] as const;
export type ModerationAction = (typeof MODERATION_ACTIONS)[number];

/** A member's role in a room: its creator is its owner; the owner makes members moderators and back. */
export type Role = 'owner' | 'moderator' | 'member';

export const MODERATION_LIMITS = {
  /** The longest timed mute, in minutes (7 days); a mute without `minutes` lasts until `unmute`. */
  muteMaxMinutes: 7 * 24 * 60,
  /** The longest slow-mode interval, in seconds (6 hours); 0 turns slow mode off. */
  slowModeMaxSeconds: 6 * 3600,
  /** Moderators one room may have. */
  moderatorsPerRoom: 20,
  /** Members one room may have muted at once (each an entry on the room's item, which every send rewrites). */
  mutedPerRoom: 100,
  /** Members one room may ban: a ban is a removal (its name refused), and a room removes at most 300 names. */
  bannedPerRoom: 300,
  /** Words a room's owner adds to the deployment's filter for the room (`roomwords`), each 1-40 characters. */
  roomWordsMax: 50,
  roomWordMaxChars: 40,
  /** Rows one `modlog` page lists at most (and by default), newest first; `next` asks for the page after. */
  logListed: 50,
} as const;

export const MODERATION_PATTERNS = {
  /** A `modlog` page's `next` (and a later request's `before`): the last listed row's time and id. */
  logCursor:
    '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z~[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
} as const;

interface ModerationRequest {
  requestId?: string;
  roomId?: string;
}
/** Owner only: makes a member (`username` as the member list shows it) a moderator, or a moderator a member again. */
export interface SetRoleRequest extends ModerationRequest {
  action: 'setrole';
  username: string;
  role: 'moderator' | 'member';
}
/**
 * Owner or moderator: the member may still read, but its sends, edits and reactions in the room are refused MUTED
 * for `minutes` (1 to MODERATION_LIMITS.muteMaxMinutes), or until `unmute` when `minutes` is absent.
 */
export interface MuteRequest extends ModerationRequest {
  action: 'mute';
  username: string;
  minutes?: number;
}
export interface UnmuteRequest extends ModerationRequest {
  action: 'unmute';
  username: string;
}
/**
 * Owner or moderator, against a member: removed as `removemember` removes (the invite key rotated), and refused BANNED
 * on every join of the room from then on, by identity (docs/PROTOCOL.md, "Moderation"), until `unban`.
 */
export interface BanRequest extends ModerationRequest {
  action: 'ban';
  username: string;
}
/** Owner or moderator: the name a `ban` was given, as `banned` answered it. */
export interface UnbanRequest extends ModerationRequest {
  action: 'unban';
  username: string;
}
/** Owner only: one message per `seconds` per member (owner and moderators exempt); 0 turns it off. */
export interface SlowModeRequest extends ModerationRequest {
  action: 'slowmode';
  seconds: number;
}
/**
 * Owner only: the room's own filtered words, replacing the ones it had ([] clears them). A message or an edit in the
 * room holding one (in any spelling the filter folds) is refused FILTERED. Letters, digits, spaces, ' and -.
 */
export interface RoomWordsRequest extends ModerationRequest {
  action: 'roomwords';
  words: string[];
}
/**
 * Owner or moderator: the moderation log of a room you follow (`roomId`, absent: the room you show), newest first,
 * `limit` (1–50, absent: 50) a page; `before` is the `next` of the page before. The first page (no `before`) also
 * lists who is muted and who is banned now.
 */
export interface ModLogRequest extends ModerationRequest {
  action: 'modlog';
  limit?: number;
  before?: string;
}
export type ModerationRequestFrame =
  | RoomWordsRequest
  | SetRoleRequest
  | MuteRequest
  | UnmuteRequest
  | BanRequest
  | UnbanRequest
  | SlowModeRequest
  | ModLogRequest;

/** A member's role changed: the reply to `setrole`, and pushed to every member of the room. */
export interface RoleChangedFrame {
  type: 'rolechanged';
  roomId: string;
  username: string;
  role: 'moderator' | 'member';
  requestId?: string;
}
/** The reply to `mute`, and pushed to the muted member's connections: `until` (ISO 8601) absent: until unmuted. */
export interface MutedFrame {
  type: 'muted';
  roomId: string;
  username: string;
  until?: string;
  requestId?: string;
}
/** The reply to `unmute`, and pushed to the member's connections. */
export interface UnmutedFrame {
  type: 'unmuted';
  roomId: string;
  username: string;
  requestId?: string;
}
/** The reply to `ban`: connections moved out (may be 0) and the room's new invite key. */
export interface BannedFrame {
  type: 'banned';
  roomId: string;
  username: string;
  removed: number;
  inviteKey: string;
  requestId?: string;
}
export interface UnbannedFrame {
  type: 'unbanned';
  roomId: string;
  username: string;
  requestId?: string;
}
/** The room's slow mode: the reply to `slowmode`, and pushed to every member. */
export interface SlowModeFrame {
  type: 'slowmode';
  roomId: string;
  seconds: number;
  requestId?: string;
}
/** The room's own filtered words as stored: the reply to `roomwords`, to its owner only. */
export interface RoomWordsFrame {
  type: 'roomwords';
  roomId: string;
  words: string[];
  requestId?: string;
}
/**
 * One owner's or moderator's action in a room's moderation log: `action` is the route it took (`setrole`, `mute`,
 * `unmute`, `ban`, `unban`, `slowmode`, `rotatekey`, `setroom`, `removemember`, `closeroom`, `resolvereport`) or
 * `deletemessage`, `pinmessage`, `unpinmessage`; `actor` the name it showed and `actorRole` its role then; `target` the
 * member acted on (a message's author for a delete or pin); `detail` what else it set (a mute's end, a role, slow
 * mode's seconds, the settings `setroom` changed, a message's `seq N`, a report's outcome), never a message's text.
 */
export interface ModLogEntry {
  action: string;
  actor: string;
  actorRole: Role;
  at: string;
  target?: string;
  detail?: string;
}
/** A member muted now: `until` (ISO 8601), absent: until unmuted. */
export interface MutedMember {
  username: string;
  until?: string;
}
/**
 * The reply to `modlog`: a page of the room's moderation log, newest first, and `next` while older rows remain. The
 * first page also says who is muted now (`muted`) and the names banned now (`banned`, as each `ban` named them, for
 * `unban`).
 */
export interface ModLogFrame {
  type: 'modlog';
  roomId: string;
  entries: ModLogEntry[];
  next?: string;
  muted?: MutedMember[];
  banned?: string[];
  requestId?: string;
}
export type ModerationFrame =
  | RoomWordsFrame
  | RoleChangedFrame
  | MutedFrame
  | UnmutedFrame
  | BannedFrame
  | UnbannedFrame
  | SlowModeFrame
  | ModLogFrame;
export const MODERATION_FRAME_TYPES = [
  'rolechanged',
  'muted',
  'unmuted',
  'banned',
  'unbanned',
  'slowmode',
  'roomwords',
  'modlog',
] as const satisfies readonly ModerationFrame['type'][];

/** The frame type that answers each action (errors aside). */
export const MODERATION_REPLY_TYPE = {
  setrole: 'rolechanged',
  mute: 'muted',
  unmute: 'unmuted',
  ban: 'banned',
  unban: 'unbanned',
  slowmode: 'slowmode',
  roomwords: 'roomwords',
  modlog: 'modlog',
} as const;

/**
 * What `joined` adds about the room's moderation: its moderators' names, its slow mode, and the joiner's own role
 * and mute.
 */
export interface JoinedModeration {
  /** The names of the room's moderators as they were made moderators. */
  moderators?: string[];
  /** Seconds between two messages of one member; absent or 0: off. */
  slowModeSeconds?: number;
  /** Your role in the room. */
  role?: Role;
  /** You are muted in the room until then (ISO 8601); `null`: until unmuted. */
  mutedUntil?: string | null;
  /** The name the room's owner created it under: no moderator acts on that member (absent: no owner). */
  ownerName?: string;
}
