/**
 * Changes to a room's messages: a member edits or deletes its own message, a room's owner deletes any, and members
 * add and remove reactions. Each change is a room event: it takes the room's next `seq` like a message and reaches
 * members in `message` order (alone or in a `batch`), and `history` returns it; the message's own entry in
 * `history` shows its final state (edited text and `editedAt`, a tombstone, reaction counts).
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

/** Limits of message changes. */
export const CHANGE_LIMITS = {
  /** Edits one message can take: a delete scrubs the text of each earlier edit in the same transaction. */
  editsPerMessage: 20,
  /** Different reactions one message can carry. */
  reactionKinds: 20,
  /**
   * Different reactions one member can give one message: enough for a real answer, and a single member can never
   * take a message's `reactionKinds` so that nobody else can add a new one.
   */
  reactionKindsPerMember: 5,
  /** Reactions (of every kind, by every member) one message can carry: its record stays far below 400 KB. */
  reactionsPerMessage: 5000,
  /**
   * Members a reaction names (`ReactionCount.by`): its first givers while it has at most this many, so "alice, bob and
   * 3 others" can be said; the names stay a few hundred bytes per message (docs/DECISIONS.md, "Who reacted").
   */
  reactorsNamed: 3,
  /** Messages one room can have pinned at once: the pins list fits one small item and one glance. */
  pinsPerRoom: 50,
} as const;

/**
 * Reactions one connection may give per window, apart from its messages' budget: a burst of quick clicks fits, and
 * going past it is refused (RATE_LIMITED) without a strike, so reacting never costs anyone the connection. The client
 * library sends only the final state of rapid toggles of one reaction.
 */
export const REACTION_RATE = { limit: 30, windowSeconds: 10 } as const;

/** One emoji as people see it: a single extended grapheme cluster that is an RGI emoji (Unicode's emoji list). */
// biome-ignore lint/complexity/useRegexLiterals: the `v` flag needs ES2024, past the target TypeScript checks against.
const RGI_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** True for a reaction the server accepts: exactly one emoji grapheme (👍, 👍🏽, 🏳️‍🌈), nothing else. */
export function isReaction(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 32) return false;
  const segments = [...graphemes.segment(value)];
  return segments.length === 1 && RGI_EMOJI.test(value);
}

/**
 * A pictographic code point whose default is text style (not Emoji_Presentation: ❤, ☺, 🏳), not followed by the
 * presentation selector U+FE0F or a skin tone: where an RGI emoji carries a selector.
 */
const WITHOUT_SELECTOR =
  /(?!\p{Emoji_Presentation})(\p{Extended_Pictographic})(?![\uFE0F\u{1F3FB}-\u{1F3FF}])/gu;

/**
 * The reaction as stored and counted, or undefined when it is none: an emoji typed in its text form, without the
 * emoji presentation selector U+FE0F that its RGI form carries (a bare ❤ U+2764, a ❤‍🔥 from a keyboard that drops
 * selectors), is the same reaction as ❤️ and ❤️‍🔥, so it is given the selector; anything else is as isReaction says.
 */
export function reactionOf(value: unknown): string | undefined {
  if (isReaction(value)) return value;
  if (typeof value !== 'string' || value.length > 32) return undefined;
  const presented = value.replace(WITHOUT_SELECTOR, '$1\uFE0F');
  if (presented !== value && isReaction(presented)) return presented;
  // The other way round: a selector after a code point that is emoji-style already (👍 U+FE0F, as emoji data and
  // some keyboards write it) adds nothing; without it, it is the RGI emoji.
  const plain = value.replace(SUPERFLUOUS_SELECTOR, '$1');
  return plain !== value && isReaction(plain) ? plain : undefined;
}

/** U+FE0F after an Emoji_Presentation code point, where no RGI emoji carries one. */
const SUPERFLUOUS_SELECTOR = /(\p{Emoji_Presentation})\uFE0F/gu;

// ---------------------------------------------------------------- client -> server

/**
 * The actions that change a message, said once: protocol/index.ts adds them to ACTIONS and answers each with
 * `changed` (REPLY_TYPE), and functions/messages serves each through its change kind (changeKinds/). A new change
 * kind adds its action here, its request below and its event frame, and nowhere else in protocol/.
 */
export const CHANGE_ACTIONS = ['editmessage', 'deletemessage', 'react', 'pinmessage'] as const;
export type ChangeAction = (typeof CHANGE_ACTIONS)[number];
/** Each change action's reply: the message's state after the change (protocol/messages.ts ChangedFrame). */
export const CHANGE_REPLY_TYPE = Object.fromEntries(CHANGE_ACTIONS.map((action) => [action, 'changed'])) as {
  readonly [A in ChangeAction]: 'changed';
};

/** Replaces the text of the caller's own message `seq`, within the deployment's edit window. */
export interface EditMessageRequest {
  action: 'editmessage';
  /** A room you follow (NOT_SUBSCRIBED for one you do not); absent, the room you show. */
  roomId?: string;
  seq: number;
  message: string;
  clientMsgId?: string;
  requestId?: string;
}
/** Deletes message `seq`: the caller's own within the edit window, or any message of a room the caller owns. */
export interface DeleteMessageRequest {
  action: 'deletemessage';
  /** A room you follow (NOT_SUBSCRIBED for one you do not); absent, the room you show. */
  roomId?: string;
  seq: number;
  clientMsgId?: string;
  requestId?: string;
}
/** Adds (or with `remove: true` takes back) the caller's `reaction` to message `seq`. */
export interface ReactRequest {
  action: 'react';
  /** A room you follow (NOT_SUBSCRIBED for one you do not); absent, the room you show. */
  roomId?: string;
  seq: number;
  reaction: string;
  remove?: boolean;
  clientMsgId?: string;
  requestId?: string;
}
/**
 * Pins message `seq` to its room (or with `remove: true` unpins it): the room's owner or a moderator (any member when the owner
 * set `membersPin`, setroom), never in the lobby, at most CHANGE_LIMITS.pinsPerRoom pinned at once. Deleting a message unpins it.
 */
export interface PinMessageRequest {
  action: 'pinmessage';
  /** A room you follow (NOT_SUBSCRIBED for one you do not); absent, the room you show. */
  roomId?: string;
  seq: number;
  remove?: boolean;
  clientMsgId?: string;
  requestId?: string;
}
/** Every request that changes a message: one per action of CHANGE_ACTIONS. */
export type ChangeMessageRequest =
  | EditMessageRequest
  | DeleteMessageRequest
  | ReactRequest
  | PinMessageRequest;

// ---------------------------------------------------------------- server -> client

/**
 * One reaction on a message: how many members gave it, whether the member this frame is for did, and `by`: names (as
 * shown in the room) of up to CHANGE_LIMITS.reactorsNamed of its givers, each named when it was among the first that
 * many; absent when none is named (the others are `count` minus its length).
 */
export interface ReactionCount {
  reaction: string;
  count: number;
  mine?: boolean;
  by?: string[];
}

/**
 * What a change event has in common with a message: its own `seq` and `messageId` in the room, who made the change
 * (`username`, as shown in the room) and when (`sentAt`); `targetSeq` names the message it changes.
 */
export interface ChangeEvent {
  roomId: string;
  seq: number;
  messageId: string;
  username: string;
  sentAt: string;
  targetSeq: number;
}
export interface EditedFrame extends ChangeEvent {
  type: 'edited';
  text: string;
}
export interface DeletedFrame extends ChangeEvent {
  type: 'deleted';
  /** `author`: the member deleted its own message; `owner`: the room's owner removed it; `moderator`: a moderator. */
  by: 'author' | 'owner' | 'moderator';
}
export interface ReactionFrame extends ChangeEvent {
  type: 'reaction';
  reaction: string;
  /** True when `username` added the reaction, false when it took it back. */
  added: boolean;
  /** How many members give this reaction to the message now. */
  count: number;
}
/** A message pinned to its room (`pinned: true`) or unpinned, by `username` (the owner, a moderator, or a member where members may pin). */
export interface PinnedFrame extends ChangeEvent {
  type: 'pinned';
  pinned: boolean;
}
export type ChangeFrame = EditedFrame | DeletedFrame | ReactionFrame | PinnedFrame;
export const CHANGE_FRAME_TYPES = [
  'edited',
  'deleted',
  'reaction',
  'pinned',
] as const satisfies readonly ChangeFrame['type'][];

/**
 * What each change frame carries beyond a change event's `roomId`, `seq` and `targetSeq`: the check a client makes
 * before applying one (client/validate.ts). One entry per frame type, so a new change kind says here, beside its
 * frame, what a well-formed one holds; tsc refuses the table while a type has no entry.
 */
export const CHANGE_FRAME_CHECKS: {
  [T in ChangeFrame['type']]: (frame: Record<string, unknown>) => boolean;
} = {
  edited: (f) => typeof f.text === 'string',
  deleted: (f) => f.by === 'author' || f.by === 'owner' || f.by === 'moderator',
  reaction: (f) => typeof f.reaction === 'string' && Number.isFinite(f.count),
  pinned: (f) => typeof f.pinned === 'boolean',
};

/** One pinned message of a room (`joined`'s `pins`): its seq, who pinned it (its name in the room) and when. */
export interface Pin {
  seq: number;
  by: string;
  at: string;
}

/**
 * What a message's entry in `message` frames, `history` and `joined` adds once it has changed: `editedAt` after an
 * edit; a tombstone after a delete (`deleted`, `text` empty); its reactions; and `changeSeq`, the seq of the last
 * change applied, so a client applies a change event only when its seq is above it.
 */
export interface MessageState {
  editedAt?: string;
  deleted?: 'author' | 'owner' | 'moderator';
  reactions?: ReactionCount[];
  /** When the message was pinned to its room, and by whom (its name in the room); absent when not pinned. */
  pinnedAt?: string;
  pinnedBy?: string;
  changeSeq?: number;
}
