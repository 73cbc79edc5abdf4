import { orBusy } from '#core/busy';
import { MessageDeleted, MessageNotFound } from '#core/changeErrors';
import { BadRequest } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import { servedFrom } from '#core/limits/guard';
import { memberKey, memberKeyOf, senderOf } from '#core/memberKeys';
import { fitMessages } from '#core/pages';
import type { ChatPorts, Connection } from '#core/ports';
import type { ChatMessage, HistoryQuery } from '#core/protocol';
import { epochSeconds } from '#core/roomLife';
import { logger } from '#platform/powertools';
import {
  type HistoryFrame,
  type MessageFrame,
  type RoomEventFrame,
  THREAD_LIMITS,
  type ThreadFollowFrame,
} from '#protocol';
import { type FollowedStore, recordFollow } from './followed';

/**
 * Threads (docs/DECISIONS.md, "Threads"): a reply in a thread is a message of its room under the room's next seq,
 * with `threadOf` = its root's seq, so the fan-out carries it as any message. Besides the message, a reply writes a
 * pointer under the thread's own partition of the Messages table (`<roomId>#t<root>`, the reply's seq: a thread's
 * history is one Query of it) and adds itself to its root's summary (`replyCount`, `lastReplyAt`, `lastReplySeq`,
 * `replyNames`) and followers (`followers`: member keys; `followerUsers`: signed-in user ids, whom a reply tells).
 */

/** A thread's root as its item holds it, for the checks and the summary a reply makes. */
export interface ThreadRoot {
  seq: number;
  username: string;
  /** The root author's key in the room (memberKey). */
  authorKey?: string;
  /** The root author's signed-in user id, when it was signed in. */
  authorUser?: string;
  deleted: boolean;
  /** Set when the root is itself a reply in a thread: no nesting. */
  threadOf?: number;
  replyCount: number;
  replyNames: string[];
  followers: string[];
  followerUsers: string[];
  /** The root's item as a message. */
  message: ChatMessage;
}

/** What one reply adds to its root's item. */
export interface RootAddition {
  seq: number;
  sentAt: string;
  /** The replier's name, while the summary lists fewer than THREAD_LIMITS.participantsShown. */
  names: string[];
  /**
   * Member keys and user ids that follow the thread from this reply on (at the first reply, the root's author; the
   * replier; the members the reply names).
   */
  followers: string[];
  users: string[];
}

export interface ThreadStore {
  /** Roots by room and seq, live ones only (a listing: eventually consistent), in no order. */
  roots(
    keys: readonly { roomId: string; seq: number }[],
    nowSeconds: number,
  ): Promise<(ThreadRoot & { roomId: string })[]>;
  /** The root `seq` of the room as stored, or undefined when no live message holds it (a change, a gap, expired). */
  root(roomId: string, seq: number, nowSeconds: number): Promise<ThreadRoot | undefined>;
  /** The reply's pointer in its thread's partition (put before the reply: a pointer without its reply is skipped). */
  putPointer(roomId: string, rootSeq: number, seq: number, expiresAt: number): Promise<void>;
  /** Adds a stored reply to its root's summary and followers (its root was deleted since: nothing). */
  addReply(roomId: string, rootSeq: number, addition: RootAddition): Promise<void>;
  /** Adds (`follow`) or removes a follower; false when a follow met THREAD_LIMITS.followersPerThread. */
  follow(
    roomId: string,
    rootSeq: number,
    follower: { key: string; user?: string },
    follow: boolean,
  ): Promise<boolean>;
  /** The thread's replies under these seqs (from replySeqs), live, in seq order; other seqs are passed over. */
  replies(
    roomId: string,
    rootSeq: number,
    seqs: readonly number[],
    nowSeconds: number,
  ): Promise<ChatMessage[]>;
  /** Seqs of the thread's replies (from its pointers): after `afterSeq`, before `beforeSeq`, or the latest; seq order. */
  replySeqs(
    roomId: string,
    rootSeq: number,
    page: { afterSeq?: number; beforeSeq?: number; limit: number },
  ): Promise<number[]>;
}

/**
 * The root a reply in the thread of `seq` may be sent to, else the refusal: no live message there (a seq of another
 * room is one this room does not hold), a deleted one, a reply in a thread (no nesting), or a full thread.
 */
export function checkRoot(root: ThreadRoot | undefined, seq: number): ThreadRoot {
  if (!root) throw new MessageNotFound(`There is no message ${seq} in this room to reply to in a thread.`);
  if (root.deleted) throw new MessageDeleted(`Message ${seq} was deleted: its thread takes no more replies.`);
  if (root.threadOf !== undefined)
    throw new BadRequest(
      `Message ${seq} is a reply in the thread of message ${root.threadOf}: reply in that thread (threadOf ${root.threadOf}); threads do not nest.`,
    );
  if (root.replyCount >= THREAD_LIMITS.repliesPerThread)
    throw new BadRequest(
      `The thread of message ${seq} has ${THREAD_LIMITS.repliesPerThread} replies, the most a thread takes: start a new message.`,
    );
  return root;
}

/** The signed-in user id of a connection, if it has one (the followers a reply tells). */
const signedInUser = (connection: Connection) =>
  connection.userId?.startsWith('user:') ? connection.userId : undefined;

/**
 * What a reply adds to its root, as read before it: its seq and time; the replier's name while the summary lists
 * fewer than THREAD_LIMITS.participantsShown names; as followers while the thread has fewer than
 * THREAD_LIMITS.followersPerThread (racing replies may pass each cap by a few: the root was read before them), at the
 * first reply the root's author, then the replier, then the members it names (`named`: their connections still in
 * the room, keyed in the reply's room), so a person named in a thread hears of its later replies.
 */
export function rootAddition(
  root: ThreadRoot,
  reply: { seq: number; sentAt: string; username: string },
  replier: Connection,
  named: readonly Connection[],
): RootAddition {
  const key = memberKey(replier.roomId, senderOf(replier));
  const names =
    root.replyNames.includes(reply.username) || root.replyNames.length >= THREAD_LIMITS.participantsShown
      ? []
      : [reply.username];
  const followers: string[] = [];
  const users: string[] = [];
  const room = THREAD_LIMITS.followersPerThread - root.followers.length;
  const add = (k: string | undefined, u: string | undefined) => {
    if (k === undefined || root.followers.includes(k) || followers.includes(k) || followers.length >= room)
      return;
    followers.push(k);
    if (u) users.push(u);
  };
  if (root.replyCount === 0) add(root.authorKey, root.authorUser);
  add(key, signedInUser(replier));
  for (const member of named) add(memberKey(replier.roomId, senderOf(member)), signedInUser(member));
  return { seq: reply.seq, sentAt: reply.sentAt, names, followers, users };
}

/**
 * The signed-in users a reply tells, from its root read at any moment around the reply's own addition: the send counts
 * the reply on its root beside its publish, so a reader may see the root before that write. A root that counts no
 * reply yet is read as the reply makes it: its author follows from the first reply on (rootAddition).
 */
export function followersTold(
  root: Pick<ThreadRoot, 'replyCount' | 'authorUser' | 'followerUsers'>,
): string[] {
  return root.replyCount === 0 && root.authorUser !== undefined
    ? [...new Set([...root.followerUsers, root.authorUser])]
    : root.followerUsers;
}

/**
 * Who a reply tells (a `mention` frame on each device; Web Push for those not connected): the signed-in followers of
 * its thread as its root was read before the reply, and the root's author at the first reply, never the replier.
 * This is the record a push sender reads: the thread, the reply, and the user ids to tell.
 */
export interface ThreadReplyNotice {
  roomId: string;
  threadOf: number;
  seq: number;
  username: string;
  text: string;
  users: string[];
}

export function threadReplyNotice(
  root: ThreadRoot,
  reply: { roomId: string; seq: number; username: string; text: string },
  replier: Connection,
): ThreadReplyNotice {
  const me = signedInUser(replier);
  const users = new Set(root.followerUsers);
  if (root.replyCount === 0 && root.authorUser) users.add(root.authorUser);
  if (me) users.delete(me);
  return { ...reply, threadOf: root.seq, users: [...users] };
}

/** Whether `connection` follows the thread of `root`: in its followers, or its author before the first reply. */
export function follows(root: ThreadRoot, connection: Connection): boolean {
  const key = memberKey(connection.roomId, senderOf(connection));
  return root.followers.includes(key) || (root.replyCount === 0 && root.authorKey === key);
}

/**
 * How the function that hosts threads shows a thread's messages: as its room's history shows them
 * (functions/messages/roomHistory.ts). The host gives them, so threads import no messages module.
 */
export interface ThreadFrames {
  /** The replies as `reader` sees them: their quotes as the originals read now, their reactions, theirs marked. */
  replies(reader: Connection, replies: ChatMessage[], nowSeconds: number): Promise<RoomEventFrame[]>;
  /** The root's frame, with what each kind of change shows of it. */
  root(message: ChatMessage): MessageFrame;
}

type ThreadDeps = Pick<ChatPorts, 'connections' | 'now'> & {
  threads: ThreadStore;
  frames: ThreadFrames;
  /** Each person's followed threads (followedThreads.ts): a follower's page read marks the thread read there. */
  followed: FollowedStore;
};

/** A Threads-view write that failed: the view shows one line or count less, the route's answer stands. */
const logFollowedError = (roomId: string, seq: number) => (error: unknown) =>
  logger.warn('a followed thread entry was not written', { roomId, seq, error: (error as Error).name });

/**
 * `history` with `threadOf`: a page of the thread's replies in seq order (the latest `limit`, or those after
 * `afterSeq` or before `beforeSeq`), each in its final state (edits, deletes, reactions), with the root as it is now
 * and whether the caller follows the thread. The root is checked as a reply's is, except that a full or deleted root's
 * thread still reads.
 */
async function threadHistory(
  deps: ThreadDeps,
  connectionId: string,
  query: HistoryQuery & { threadOf: number },
): Promise<HistoryFrame> {
  const connection = await requireConnection(deps, connectionId);
  const { roomId } = connection;
  const rootSeq = query.threadOf;
  const nowSeconds = epochSeconds(deps.now());
  const root = await orBusy(deps.threads.root(roomId, rootSeq, nowSeconds), roomId);
  if (!root) throw new MessageNotFound(`There is no message ${rootSeq} in this room: it has no thread.`);
  if (root.threadOf !== undefined)
    throw new BadRequest(
      `Message ${rootSeq} is a reply in the thread of message ${root.threadOf}: ask for that thread (threadOf ${root.threadOf}).`,
    );
  const following = follows(root, connection);
  // One more than asked tells whether the thread goes on past the page (forward) or before it (backward). The
  // latest page or one after a seq shows a followed thread up to now: its follower has seen its replies
  // (followedThreads.ts; this also lists it for an author not signed in, whom a first reply could not name).
  const [seqs] = await Promise.all([
    orBusy(deps.threads.replySeqs(roomId, rootSeq, { ...query, limit: query.limit + 1 }), roomId),
    following &&
      query.beforeSeq === undefined &&
      recordFollow(
        deps.followed,
        {
          person: memberKeyOf(connection),
          roomId,
          seq: rootSeq,
          follow: true,
          readCount: root.replyCount,
          now: deps.now(),
        },
        logFollowedError(roomId, rootSeq),
      ),
  ]);
  const forward = query.afterSeq !== undefined;
  const beyond = seqs.length > query.limit;
  const kept = forward ? seqs.slice(0, query.limit) : seqs.slice(-query.limit);
  const replies = await orBusy(deps.threads.replies(roomId, rootSeq, kept, nowSeconds), roomId);
  const frames = await deps.frames.replies(connection, replies, nowSeconds);
  const frame = {
    type: 'history' as const,
    roomId,
    threadOf: rootSeq,
    messages: [],
    hasMore: false,
    root: deps.frames.root(root.message),
    following,
  };
  const { page, cut } = fitMessages(frame, 'messages', frames);
  return {
    ...frame,
    messages: page,
    hasMore: forward ? cut || beyond : cut,
    ...(!forward && { hasOlder: beyond }),
  };
}

/**
 * Threads' part in `history`: a page provider on the history route's extension point (messages/historyPages.ts,
 * typed by shape), registered by the function that hosts threads (messages/historyFeatures.ts), which gives the
 * frames. A query with `threadOf` is the thread's page (threadHistory); any other is not threads' to answer.
 */
export function threadPage(deps: ThreadDeps) {
  return {
    name: 'threads',
    answer: (query: HistoryQuery, asker: Parameters<typeof servedFrom>[1]) => {
      const { threadOf } = query;
      if (threadOf === undefined) return undefined;
      return threadHistory(servedFrom(deps, asker), asker.connectionId, { ...query, threadOf });
    },
  };
}

/** `followthread`: follow or stop following the thread of a live root of the room (a reply's checks, fullness aside). */
export async function followThread(
  deps: Pick<ThreadDeps, 'connections' | 'now' | 'threads' | 'followed'>,
  connectionId: string,
  request: { seq: number; follow: boolean },
): Promise<ThreadFollowFrame> {
  const connection = await requireConnection(deps, connectionId);
  const { roomId } = connection;
  const root = await orBusy(deps.threads.root(roomId, request.seq, epochSeconds(deps.now())), roomId);
  if (!root) throw new MessageNotFound(`There is no message ${request.seq} in this room to follow.`);
  if (root.threadOf !== undefined)
    throw new BadRequest(
      `Message ${request.seq} is a reply in the thread of message ${root.threadOf}: follow that thread (seq ${root.threadOf}).`,
    );
  if (request.follow && root.deleted)
    throw new MessageDeleted(`Message ${request.seq} was deleted: its thread can't be followed.`);
  const follower = { key: memberKey(roomId, senderOf(connection)), user: signedInUser(connection) };
  const done = await orBusy(deps.threads.follow(roomId, request.seq, follower, request.follow), roomId);
  if (!done)
    throw new BadRequest(
      `The thread of message ${request.seq} has ${THREAD_LIMITS.followersPerThread} followers, the most a thread keeps.`,
    );
  // A new follow has seen the replies so far (the Threads view counts new ones from here); a follow again keeps
  // what its entry has seen.
  await recordFollow(
    deps.followed,
    {
      person: memberKeyOf(connection),
      roomId,
      seq: request.seq,
      follow: request.follow,
      readCount: root.replyCount,
      onlyNew: true,
      now: deps.now(),
    },
    logFollowedError(roomId, request.seq),
  );
  return { type: 'threadfollow', roomId, seq: request.seq, following: request.follow };
}
