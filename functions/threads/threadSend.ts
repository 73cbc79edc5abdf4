import { BadRequest } from '#core/errors';
import { memberKey, memberKeyOf, senderOf } from '#core/memberKeys';
import type { Connection } from '#core/ports';
import { type ChatMessage, parseThreadOf } from '#core/protocol';
import { epochSeconds } from '#core/roomLife';
import { SendNote, type SendNotes } from '#core/sendNotes';
import { logger } from '#platform/powertools';
import { type FollowedStore, recordFollow } from './followed';
import {
  checkRoot,
  type RootAddition,
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
 * beside its publish, the replier and the members it names (NAMED_MEMBERS) made followers; whom it tells left in the
 * send's notes (THREAD_REPLY), for the notices (functions/mentions/mentionSend.ts).
 */

/** Whom a reply stored by this attempt tells (threads.ts threadReplyNotice). */
export const THREAD_REPLY = new SendNote<ThreadReplyNotice>('thread reply');

/**
 * The connections of the members a message names, still in its room (mentions' part leaves them before the seq:
 * functions/mentions/mentionSend.ts): a reply's named follow its thread from that reply on, as Slack's do.
 */
export const NAMED_MEMBERS = new SendNote<readonly Connection[]>('named members');

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
          const named = notes.get(NAMED_MEMBERS) ?? [];
          const addition = rootAddition(root, reply, connection, named);
          await Promise.all([
            countOnRoot(threads, root.seq, reply, addition),
            recordFollowers(followed, { root, reply, replier: connection }, named, addition),
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
  rootSeq: number,
  reply: { roomId: string; seq: number },
  addition: RootAddition,
): Promise<void> {
  try {
    await threads.addReply(reply.roomId, rootSeq, addition);
  } catch (error) {
    logger.warn('a reply was not counted on its root', {
      roomId: reply.roomId,
      seq: reply.seq,
      threadOf: rootSeq,
      error: (error as Error).name,
    });
  }
}

/**
 * A reply's entries in the Threads view (followedThreads.ts): the replier follows, having seen the replies before its own
 * and its own (racing replies may leave one counted unread); at the first reply, the root's signed-in author follows,
 * having seen none; each member the reply names who follows from it on (rootAddition added its key: it did not
 * follow, and the thread had room) follows, having seen the replies before the one naming it, so that one is unread.
 * One write a person: the replier, the author and at most MENTIONS_PER_MESSAGE named, never one a follower.
 */
async function recordFollowers(
  followed: FollowedStore,
  {
    root,
    reply,
    replier,
  }: { root: ThreadRoot; reply: { roomId: string; sentAt: string }; replier: Connection },
  named: readonly Connection[],
  addition: RootAddition,
): Promise<void> {
  const onError = (error: unknown) =>
    logger.warn('a followed thread entry was not written', {
      roomId: reply.roomId,
      threadOf: root.seq,
      error: (error as Error).name,
    });
  const entries = new Map<string, { readCount: number; onlyNew?: boolean }>([
    [memberKeyOf(replier), { readCount: root.replyCount + 1 }],
  ]);
  if (root.replyCount === 0 && root.authorUser !== undefined && !entries.has(root.authorUser))
    entries.set(root.authorUser, { readCount: 0, onlyNew: true });
  for (const member of named) {
    const person = memberKeyOf(member);
    if (!entries.has(person) && addition.followers.includes(memberKey(reply.roomId, senderOf(member))))
      entries.set(person, { readCount: root.replyCount, onlyNew: true });
  }
  const write = { roomId: reply.roomId, seq: root.seq, follow: true, now: new Date(reply.sentAt) };
  await Promise.all(
    [...entries].map(([person, seen]) => recordFollow(followed, { ...write, person, ...seen }, onError)),
  );
}
