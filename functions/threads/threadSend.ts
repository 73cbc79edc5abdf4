import { BadRequest } from '#core/errors';
import { memberKeyOf } from '#core/memberKeys';
import type { Connection } from '#core/ports';
import { type ChatMessage, parseThreadOf } from '#core/protocol';
import { epochSeconds } from '#core/roomLife';
import { SendNote, type SendNotes } from '#core/sendNotes';
import { logger } from '#platform/powertools';
import { type FollowedStore, recordFollow } from './followed';
import {
  checkRoot,
  rootAddition,
  type ThreadReplyNotice,
  type ThreadRoot,
  type ThreadStore,
  threadReplyNotice,
} from './threads';

/**
 * Threads' part in sending (functions/messages/sendHooks.ts; typed there by shape, as threads import no messages
 * module: the messages function lists this hook in its sendFeatures.ts): a frame's `threadOf` (and `alsoToRoom`) read
 * and checked; its root read beside the send tokens and checked before the seq (threads.ts checkRoot); the reply's
 * pointer put in its thread's partition before the reply itself, so a reply stored is always found by its thread's
 * history (a pointer whose reply never comes is passed over); the reply counted on its root's summary and followers
 * beside its publish; whom it tells left in the send's notes (THREAD_REPLY), for the notices
 * (functions/mentions/mentionSend.ts).
 */

/** Whom a reply stored by this attempt tells (threads.ts threadReplyNotice). */
export const THREAD_REPLY = new SendNote<ThreadReplyNotice>('thread reply');

export function threadSendHook(threads: ThreadStore, followed: FollowedStore) {
  return {
    name: 'threads',
    begin({ body }: { body: Readonly<Record<string, unknown>> }) {
      const threadOf = parseThreadOf(body.threadOf);
      if (body.alsoToRoom !== undefined && typeof body.alsoToRoom !== 'boolean')
        throw new BadRequest('"alsoToRoom" must be true or false.');
      if (body.alsoToRoom === true && threadOf === undefined)
        throw new BadRequest(
          '"alsoToRoom" goes with "threadOf": only a reply in a thread is also sent to the room.',
        );
      if (threadOf === undefined) return undefined;
      const alsoToRoom = body.alsoToRoom === true;
      let read: ThreadRoot | undefined;
      let root: ThreadRoot | undefined;
      return {
        async read({ connection, now }: { connection: Connection; now: Date }) {
          read = await threads.root(connection.roomId, threadOf, epochSeconds(now));
        },
        beforeSeq() {
          root = checkRoot(read, threadOf);
          return { threadOf: root.seq, ...(alsoToRoom && { alsoToRoom: true }) };
        },
        beforePut: (message: { roomId: string; seq: number }, expiresAt: number) =>
          threads.putPointer(message.roomId, threadOf, message.seq, expiresAt),
        async afterStore(
          reply: ChatMessage,
          { connection, notes }: { connection: Connection; notes: SendNotes },
        ) {
          if (!root) return;
          notes.set(THREAD_REPLY, threadReplyNotice(root, reply, connection));
          await Promise.all([
            countOnRoot(threads, root, reply, connection),
            recordFollowers(followed, root, reply, connection),
          ]);
        },
      };
    },
  };
}

/**
 * Adds a stored reply to its root's summary and followers. Advisory once the reply is stored: a failure is logged,
 * and the root counts one reply fewer than its thread holds (the thread's history, read from its pointers, is whole).
 */
async function countOnRoot(
  threads: ThreadStore,
  root: ThreadRoot,
  reply: { roomId: string; seq: number; sentAt: string; username: string },
  replier: Connection,
): Promise<void> {
  try {
    await threads.addReply(reply.roomId, root.seq, rootAddition(root, reply, replier));
  } catch (error) {
    logger.warn('a reply was not counted on its root', {
      roomId: reply.roomId,
      seq: reply.seq,
      threadOf: root.seq,
      error: (error as Error).name,
    });
  }
}

/**
 * A reply's entries in the Threads view (followedThreads.ts): the replier follows, having seen the replies before its own
 * and its own (racing replies may leave one counted unread); at the first reply, the root's signed-in author follows,
 * having seen none. Two writes at most, to the replier's and the author's own entries: never one a follower.
 */
async function recordFollowers(
  followed: FollowedStore,
  root: ThreadRoot,
  reply: { roomId: string; seq: number; sentAt: string },
  replier: Connection,
): Promise<void> {
  const now = new Date(reply.sentAt);
  const person = memberKeyOf(replier);
  const onError = (error: unknown) =>
    logger.warn('a followed thread entry was not written', {
      roomId: reply.roomId,
      threadOf: root.seq,
      error: (error as Error).name,
    });
  const write = { roomId: reply.roomId, seq: root.seq, follow: true, now };
  await Promise.all([
    recordFollow(followed, { ...write, person, readCount: root.replyCount + 1 }, onError),
    root.replyCount === 0 &&
      root.authorUser !== undefined &&
      root.authorUser !== person &&
      recordFollow(followed, { ...write, person: root.authorUser, readCount: 0, onlyNew: true }, onError),
  ]);
}
