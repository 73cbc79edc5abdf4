import { requireConnection } from '#core/identity/connections';
import { memberKeyOf } from '#core/memberKeys';
import type { ChatPorts } from '#core/ports';
import { epochSeconds } from '#core/roomLife';
import { type FollowedThread, type MyThreadsFrame, THREAD_LIMITS } from '#protocol';
import type { ThreadRoot, ThreadStore } from './threads';

/**
 * The Threads view (docs/DECISIONS.md, "Threads view"): the threads a person follows across its rooms. Each person
 * keeps one entry a followed thread (the person as memberKeyOf names it: the signed-in user on every device), written
 * when it follows (followthread), replies, or its root gets its first reply (the author follows its own root), and
 * deleted when it stops following. An entry holds the replies the person has seen (`readCount`): set when it opens
 * the thread's latest page or replies. A reply writes nothing to the entries of the thread's other followers: its
 * unread count is its root's `replyCount` less the entry's `readCount`, worked out when the list is read.
 */

export interface FollowedEntry {
  roomId: string;
  seq: number;
  /** Replies of the thread the person has seen: unread are the root's replyCount past it. */
  readCount: number;
}

export interface FollowedStore {
  /**
   * Records that `person` follows the thread of `seq` in `roomId`, having seen `readCount` replies (`onlyNew`: unless
   * it follows already, when its entry keeps what it has seen).
   */
  follow(
    person: string,
    roomId: string,
    seq: number,
    entry: { readCount: number; onlyNew?: boolean; now: Date },
  ): Promise<void>;
  unfollow(person: string, roomId: string, seq: number): Promise<void>;
  /** The person's entries, at most `limit`; `more` when it has others. */
  list(person: string, limit: number): Promise<{ entries: FollowedEntry[]; more: boolean }>;
  /** Of `roomIds`, those the person is a member of now (its membership exists). */
  roomsOf(person: string, roomIds: readonly string[]): Promise<Set<string>>;
}

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

/**
 * Records a follow's entry beside the root's followers. Advisory: the root's followers are what a reply tells; a
 * failed entry costs the Threads view one line, so it is reported to `onError`, never the caller's follow.
 */
export async function recordFollow(
  followed: FollowedStore,
  write: {
    person: string;
    roomId: string;
    seq: number;
    follow: boolean;
    readCount: number;
    onlyNew?: boolean;
    now: Date;
  },
  onError: (error: unknown) => void,
): Promise<void> {
  try {
    if (write.follow)
      await followed.follow(write.person, write.roomId, write.seq, {
        readCount: write.readCount,
        ...(write.onlyNew && { onlyNew: true }),
        now: write.now,
      });
    else await followed.unfollow(write.person, write.roomId, write.seq);
  } catch (error) {
    onError(error);
  }
}
