import { requireConnection } from '#core/identity/connections';
import { memberKeyOf } from '#core/memberKeys';
import type { ChatPorts } from '#core/ports';
import { epochSeconds } from '#core/roomLife';
import { type FollowedThread, type MyThreadsFrame, THREAD_LIMITS } from '#protocol';
import type { FollowedStore } from './followed';
import type { ThreadRoot, ThreadStore } from './threads';

/**
 * The Threads view (docs/DECISIONS.md, "Threads view"): the threads a person follows across its rooms. Each person
 * keeps one entry a followed thread (the person as memberKeyOf names it: the signed-in user on every device), written
 * when it follows (followthread), replies, or its root gets its first reply (the author follows its own root), and
 * deleted when it stops following. An entry holds the replies the person has seen (`readCount`): set when it opens
 * the thread's latest page or replies. A reply writes nothing to the entries of the thread's other followers: its
 * unread count is its root's `replyCount` less the entry's `readCount`, worked out when the list is read.
 */

type MyThreadsDeps = Pick<ChatPorts, 'connections' | 'now'> & {
  threads: Pick<ThreadStore, 'roots'>;
  followed: FollowedStore;
};

/** What an entry shows of its root: a line of its text, never more than THREAD_LIMITS.rootTextShown characters. */
function entryOf(root: ThreadRoot & { roomId: string }, readCount: number): FollowedThread {
  const { message } = root;
  const lastReplyAt = (message as { lastReplyAt?: unknown }).lastReplyAt;
  return {
    roomId: root.roomId,
    seq: root.seq,
    username: root.username,
    text: root.deleted ? '' : [...String(message.text ?? '')].slice(0, THREAD_LIMITS.rootTextShown).join(''),
    sentAt: String(message.sentAt),
    ...(root.deleted && { deleted: true }),
    replyCount: root.replyCount,
    ...(typeof lastReplyAt === 'string' && { lastReplyAt }),
    participants: root.replyNames,
    unread: Math.max(0, root.replyCount - readCount),
  };
}

/** A thread's latest activity: its last reply, else its root. */
const activityOf = (t: FollowedThread) => t.lastReplyAt ?? t.sentAt;

/**
 * `mythreads`: the caller's followed threads in the rooms it is a member of now, newest activity first (then by room
 * and seq, one order on every device), at most THREAD_LIMITS.threadsListed of the THREAD_LIMITS.followedRead entries
 * read; a thread whose root is gone (expired) is left out.
 */
export async function myThreads(deps: MyThreadsDeps, connectionId: string): Promise<MyThreadsFrame> {
  const connection = await requireConnection(deps, connectionId);
  const person = memberKeyOf(connection);
  const { entries, more } = await deps.followed.list(person, THREAD_LIMITS.followedRead);
  const rooms = await deps.followed.roomsOf(
    person,
    entries.map((e) => e.roomId),
  );
  const kept = entries.filter((e) => rooms.has(e.roomId));
  const read = new Map(kept.map((e) => [`${e.roomId}#${e.seq}`, e.readCount]));
  const roots = await deps.threads.roots(kept, epochSeconds(deps.now()));
  const listed = roots
    .map((root) => entryOf(root, read.get(`${root.roomId}#${root.seq}`) ?? 0))
    .sort(
      (a, b) =>
        activityOf(b).localeCompare(activityOf(a)) ||
        (a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : a.seq - b.seq),
    );
  const shown = listed.slice(0, THREAD_LIMITS.threadsListed);
  return {
    type: 'mythreads',
    threads: shown,
    ...((more || listed.length > shown.length) && { more: true as const }),
  };
}
