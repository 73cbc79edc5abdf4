/**
 * Messages of a room: sending one, reading history, and the frames that carry messages and their changes (the
 * message as stored, its ack, a batch of them, a page of history, the reply to a change, a resync).
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

import type { Attachment } from './attachments';
import type { ChangeFrame, MessageState } from './changes';
import type { AuthorProfile } from './directory';
import type { Reply, RoomRequest } from './envelope';
import type { ThreadSummary } from './threads';

// ---------------------------------------------------------------- client -> server

export interface SendMessageRequest extends RoomRequest {
  action: 'sendmessage';
  message: string;
  clientMsgId?: string;
  /** The seq of a message in the same room this one replies to: it must be a message there, live and not deleted. */
  replyTo?: number;
  /** Images uploaded to the room (attachments.ts); with any, `message` may be empty. */
  attachments?: Attachment[];
  /**
   * A reply in the thread of this seq (threads.ts): a message of the same room, live, not deleted and not itself a
   * reply in a thread (no nesting).
   */
  threadOf?: number;
  /** With `threadOf`: the reply is shown in the room's flow too, as Slack's "Also send to channel". */
  alsoToRoom?: boolean;
}
/** A new room: with a `name` and `topic`, `public: true` lists it in the directory (a public room needs a name). */
export interface HistoryRequest extends RoomRequest {
  action: 'history';
  /** The first `limit` messages after this seq (catching up, filling a gap). */
  afterSeq?: number;
  /** The last `limit` messages before this seq (scrolling back); not with `afterSeq`. */
  beforeSeq?: number;
  limit?: number;
  /** A page of the thread of this seq (its replies in seq order) instead of the room's events. */
  threadOf?: number;
}

// ---------------------------------------------------------------- server -> client

/**
 * The message a reply answers: its seq and author's name as they were when the reply was sent. `history` adds how the
 * original reads now: the start of its text (`text`, at most REPLY_QUOTE_CHARS characters), or `deleted`; neither
 * when it has expired. A live frame has only `seq` and `username`: the client shows the original it holds.
 */
export interface ReplyRef {
  seq: number;
  username: string;
  text?: string;
  deleted?: boolean;
}

/** How much of a replied-to message's text `history` quotes, in characters (code points). */
export const REPLY_QUOTE_CHARS = 120;

/** A message as stored; once changed, with its final state (changes.ts, MessageState). */
export interface ChatMessage extends MessageState {
  roomId: string;
  seq: number;
  messageId: string;
  clientMsgId?: string;
  username: string;
  text: string;
  sentAt: string;
  /** The message this one replies to (`sendmessage`'s `replyTo`). */
  replyTo?: ReplyRef;
  /** The members it names (`@name`), as the server resolved them among the room's members: their names there. */
  mentions?: string[];
  /**
   * Who wrote it in this room: a key of the author's identity (signed-in user, resume token or connection) salted with
   * the room, the same on all its messages there and naming nothing else. Compare with `joined`'s `memberKey` to
   * tell your own messages: a name can be shown by someone else after you left.
   */
  authorKey?: string;
  /** Images it carries (attachments.ts): read each with `getattachment`. */
  attachments?: Attachment[];
  /** A reply in the thread of this seq (threads.ts). */
  threadOf?: number;
  /** A reply in a thread that is shown in the room's flow too (`sendmessage`'s `alsoToRoom`). */
  alsoToRoom?: boolean;
  /** A thread's root: its summary (threads.ts); absent until its first reply. */
  thread?: ThreadSummary;
}

/** Members one message may name (`@name`); later names in it are plain text. */
export const MENTIONS_PER_MESSAGE = 10;

/**
 * Seqs of the room given up (taken, never to hold an event: a refused send, a seq the fan-out fenced), ascending:
 * count them as delivered, with no wait and no `history` for them. The fan-out's frame (a `batch`, or a `message` or
 * change frame sent alone) lists those below its events and above the room's previous event; a `history` page those
 * its read passed. A client that does not know the field sees a hole, as before.
 */
export interface Gaps {
  gaps?: number[];
}

export type MessageFrame = { type: 'message' } & Omit<ChatMessage, 'clientMsgId'>;
/** What takes a seq in a room: a message, or a change to one (changes.ts). */
export type RoomEventFrame = MessageFrame | ChangeFrame;
export interface AckFrame extends Reply {
  type: 'ack';
  clientMsgId?: string;
  messageId: string;
  roomId: string;
  seq: number;
}
export interface HistoryFrame extends Reply, Gaps {
  type: 'history';
  roomId: string;
  /** In seq order (messages and changes); fewer than asked when the next would take the reply past `replyMaxBytes`. */
  messages: RoomEventFrame[];
  /** The room has messages after the last of `messages`: ask again with `afterSeq` set to its seq. */
  hasMore: boolean;
  /**
   * On a page of the latest messages or one `beforeSeq`: older messages are kept before the first of `messages` (ask
   * again with `beforeSeq` set to its seq); false: the page starts at the room's oldest kept message.
   */
  hasOlder?: boolean;
  /** A page of this thread (`history` with `threadOf`): `messages` are its replies. */
  threadOf?: number;
  /** With `threadOf`: the thread's root as it is now. */
  root?: MessageFrame;
  /** With `threadOf`: whether you follow the thread (replied, wrote its root, or `followthread`). */
  following?: boolean;
  /**
   * The profiles (setprofile) of the page's signed-in authors that have one, one per author by its `authorKey` (its
   * messages'): the latest authors' first, as many as fit DIRECTORY_LIMITS.historyProfileBytes.
   */
  profiles?: AuthorProfile[];
}
/**
 * Several messages of one busy room in one post, in seq order; each element is the `message` frame that would have
 * been sent alone. A batch never exceeds API Gateway's 32 KB frame (a message that does not fit goes alone), and
 * never holds one message: a lone message is sent as a plain `message` frame.
 */
export interface BatchFrame extends Gaps {
  type: 'batch';
  roomId: string;
  messages: RoomEventFrame[];
}
/**
 * The reply to each change action (`editmessage`, `deletemessage`, `react`: CHANGE_ACTIONS): the seq the change took (absent when there was nothing to
 * change: the reaction was already as asked, the message already deleted) and the message's state after it.
 */
export interface ChangedFrame extends Reply {
  type: 'changed';
  roomId: string;
  seq?: number;
  clientMsgId?: string;
  message: MessageFrame;
}
/**
 * Messages of the room after `afterSeq` may not have reached this connection (its posts failed for longer than the
 * fan-out's retry budget): fetch them with `history` (`afterSeq`). Sent as soon as a post to the connection succeeds.
 */
export interface ResyncFrame {
  type: 'resync';
  roomId: string;
  afterSeq: number;
}
