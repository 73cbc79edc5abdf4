/**
 * Threads: a reply in a thread (`sendmessage` with `threadOf`, the seq of a message of the same room, its root) is a
 * room event like any message (the room's next seq, the same fan-out), which clients show in the root's thread pane
 * and not in the room's flow, unless it was also sent to the room (`alsoToRoom`). The root carries its thread's
 * summary (`thread`), which a reply's frame lets every member update live. docs/PROTOCOL.md ("Threads") explains it;
 * protocol/asyncapi.yaml describes the same frames.
 *
 * No Node or DOM API here: this module runs in Lambda, in Node and in browsers.
 */

export const THREAD_LIMITS = {
  /** Replies one thread takes: a reply past it is refused BAD_REQUEST (its root's summary stays one small item). */
  repliesPerThread: 1000,
  /** Names of the people who replied that a root's summary lists (the first to reply first). */
  participantsShown: 10,
  /** Members one thread's followers hold (repliers and `followthread`); a follow past it is refused BAD_REQUEST. */
  followersPerThread: 200,
  /** Followed threads `mythreads` reads at most (the person's most recently followed), to order by activity. */
  followedRead: 200,
  /** Threads one `mythreads` answer lists: the most recently active of those read. */
  threadsListed: 50,
  /** Characters of a root's text a `mythreads` entry carries: a line to recognise it by, not the message. */
  rootTextShown: 200,
} as const;

/** What a root shows of its thread: kept on the root's item, updated by each reply. */
export interface ThreadSummary {
  /** Replies sent in the thread (a deleted reply still counts: it shows as deleted in the pane). */
  replyCount: number;
  /** When the latest reply was sent. */
  lastReplyAt: string;
  /** The latest reply's seq: a live reply with a higher seq is one this summary does not count yet. */
  lastReplySeq: number;
  /** Who replied, at most THREAD_LIMITS.participantsShown names, in the order they first replied. */
  participants: string[];
}

export const THREAD_ACTIONS = ['followthread', 'mythreads', 'threadread'] as const;
export type ThreadAction = (typeof THREAD_ACTIONS)[number];

/**
 * Follow (`follow: true`) or stop following (`false`) the thread of message `seq` in the room: a follower is told of
 * each reply (a `mention` frame on its other devices, and the push of a member not connected). Replying follows a
 * thread; the root's author follows its own. Idempotent.
 */
export interface FollowThreadRequest {
  action: 'followthread';
  roomId?: string;
  seq: number;
  follow: boolean;
  requestId?: string;
}

/**
 * The threads you follow across your rooms (the Threads view), most recent activity first, at most
 * THREAD_LIMITS.threadsListed: not a room's route, it names no room.
 */
export interface MyThreadsRequest {
  action: 'mythreads';
  requestId?: string;
}

/**
 * Marks the replies of the thread of message `seq` of the room read (a followed thread whose pane stays open while a
 * reply arrives): the Threads view counts none of them unread from now on, on every device of the person.
 */
export interface ThreadReadRequest {
  action: 'threadread';
  roomId?: string;
  seq: number;
  requestId?: string;
}
export type ThreadRequest = FollowThreadRequest | MyThreadsRequest | ThreadReadRequest;

/** The reply to `followthread`: whether the caller follows the thread of `seq` now. */
export interface ThreadFollowFrame {
  type: 'threadfollow';
  roomId: string;
  seq: number;
  following: boolean;
  requestId?: string;
}

/** One followed thread in `mythreads`: its room, its root (author, a clipped line, when), its summary and your unread. */
export interface FollowedThread {
  roomId: string;
  /** The root's seq: open the room and `history` with `threadOf` this seq. */
  seq: number;
  username: string;
  /** The root's text, at most THREAD_LIMITS.rootTextShown characters ("" when deleted). */
  text: string;
  sentAt: string;
  deleted?: boolean;
  replyCount: number;
  lastReplyAt?: string;
  participants: string[];
  /** Replies in the thread since you last opened it (its page) or replied there; your own are never unread. */
  unread: number;
}

/** The reply to `mythreads`: `more` when you follow more threads than it read or lists. */
export interface MyThreadsFrame {
  type: 'mythreads';
  threads: FollowedThread[];
  more?: true;
  requestId?: string;
}

/**
 * The reply to `threadread`, and the same frame pushed without `requestId` to a signed-in person's other connections
 * (functions/core/identity/otherDevices.ts): the person has seen `readCount` replies of the thread, so its unread in
 * the Threads view are its `replyCount` less that.
 */
export interface ThreadReadFrame {
  type: 'threadread';
  roomId: string;
  seq: number;
  readCount: number;
  requestId?: string;
}
export type ThreadFrame = ThreadFollowFrame | MyThreadsFrame | ThreadReadFrame;

export const THREAD_FRAME_TYPES = ['threadfollow', 'mythreads', 'threadread'] as const;

/** The frame type that answers each action (errors aside). */
export const THREAD_REPLY_TYPE = {
  followthread: 'threadfollow',
  mythreads: 'mythreads',
  threadread: 'threadread',
} as const;
