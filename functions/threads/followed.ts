/**
 * Each person's followed threads, the Threads view's record (docs/DECISIONS.md, "Threads view"; listed by
 * followedThreads.ts): the port its writers (a follow, a reply, a follower's page read: threads.ts, threadSend.ts)
 * and its reader share, and the advisory write they make.
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
