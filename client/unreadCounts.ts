import type { MyRoom } from '../protocol';
import { CHANGE_FRAME_TYPES, LOBBY, UNREAD_MAX } from '../protocol';

/**
 * Each room's unread count between two `myrooms` answers, counted from the frames the connection gets as the server
 * counts (MemberRooms, members.ts): a message after the read position raises it by one, unless this member sent it
 * (its `authorKey` is the member's key in the room, or its ack names the seq); edits, deletes and reactions do not,
 * and a message deleted before it was read no longer counts. A reply in a thread counts only when also sent to the
 * room (`alsoToRoom`): the room's count is its flow's, thread replies are the Threads view's (docs/DECISIONS.md, "A
 * room left, placed and counted the same on every device").
 */

/** Whether a message is in the room's flow: not a thread reply, or one also sent to the room. */
const inFlow = (event: Record<string, unknown>) => event.threadOf === undefined || event.alsoToRoom === true;

/** A room's count as the frames since the last `myrooms` answer left it (RoomCount.unread says how it is read). */
interface RoomCount {
  /** The answer's count, of the messages up to `baseSeq` after its read position. */
  base: number;
  baseSeq: number;
  baseMore: boolean;
  /** Seqs after `baseSeq` of messages not sent by this client, not deleted. */
  others: Set<number>;
  /** Seqs this client's messages took (from their acks). */
  own: Set<number>;
  lastSeq: number;
}

/** The change frames, from the protocol's list: a new change kind is counted as one with no edit here. */
const CHANGE_TYPES: ReadonlySet<string> = new Set(CHANGE_FRAME_TYPES);

/** Seqs kept per room for counting: past this the oldest go (the count shows "99+" long before). */
const SEQS_KEPT = 1000;

function keep(set: Set<number>, seq: number): void {
  set.add(seq);
  if (set.size > SEQS_KEPT) set.delete(Math.min(...set));
}

export class UnreadCounts {
  private readonly counts = new Map<string, RoomCount>();

  /** Whether the room has a count (a `myrooms` answer, a `dmopened` or a `subscribed` started it). */
  has(roomId: string): boolean {
    return this.counts.has(roomId);
  }

  /** The seq the room's last answer counted up to, if it has a count. */
  baseSeqOf(roomId: string): number | undefined {
    return this.counts.get(roomId)?.baseSeq;
  }

  /** The latest seq the room's frames and answers showed, if it has a count. */
  lastSeqOf(roomId: string): number | undefined {
    return this.counts.get(roomId)?.lastSeq;
  }

  /** A `myrooms` answer (or `dmopened`) is the new base of the room's count: frames up to its seq are in it. */
  rebase(room: MyRoom): void {
    const count = this.countOf(room.roomId);
    count.base = room.unread;
    count.baseSeq = room.lastSeq;
    count.baseMore = room.unreadMore === true;
    for (const seq of count.others) if (seq <= room.lastSeq) count.others.delete(seq);
    count.lastSeq = Math.max(count.lastSeq, room.lastSeq);
  }

  private countOf(roomId: string): RoomCount {
    let count = this.counts.get(roomId);
    if (!count) {
      count = { base: 0, baseSeq: 0, baseMore: false, others: new Set(), own: new Set(), lastSeq: 0 };
      this.counts.set(roomId, count);
    }
    return count;
  }

  /** Takes what a frame changes in a room's count; the room when it may have changed. */
  counted(
    frame: Record<string, unknown>,
    ownKey: (roomId: string) => string | undefined,
  ): string | undefined {
    const roomId = frame.roomId;
    if (typeof roomId !== 'string' || roomId === LOBBY) return undefined;
    const events =
      frame.type === 'batch' && Array.isArray(frame.messages)
        ? (frame.messages as Record<string, unknown>[])
        : [frame];
    let changed = false;
    for (const event of events) {
      // Any frame reaches here before the client checks it (client/validate.ts): a malformed one counts for nothing.
      const seq = typeof event === 'object' && event !== null ? event.seq : undefined;
      if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) continue;
      const count = this.countOf(roomId);
      switch (event.type) {
        case 'ack':
          // This client's own message: never unread here, whether its frame came before the ack or comes after.
          keep(count.own, seq);
          count.others.delete(seq);
          break;
        case 'message':
          // Its own by its key in the room (another tab or device of this member too), or by its ack.
          if (event.authorKey !== undefined && event.authorKey === ownKey(roomId)) {
            keep(count.own, seq);
            count.others.delete(seq);
          } else if (
            seq > count.baseSeq &&
            !count.own.has(seq) &&
            event.deleted === undefined &&
            inFlow(event)
          )
            keep(count.others, seq);
          break;
        case 'deleted':
          if (typeof event.targetSeq === 'number') count.others.delete(event.targetSeq);
          break;
        default:
          // Any other change to a message (CHANGE_FRAME_TYPES: an edit, a reaction, a pin) takes a seq, no count.
          if (!CHANGE_TYPES.has(event.type as string)) continue;
      }
      if (event.type !== 'ack') count.lastSeq = Math.max(count.lastSeq, seq);
      changed = true;
    }
    return changed ? roomId : undefined;
  }

  /**
   * The room with `read` (its read position with the client's own reads) and the frames since the answer applied. The answer's count stays exact
   * while the read position is the answer's; a read part-way into it leaves at most what remains after that position.
   */
  applied(room: MyRoom, read: number): MyRoom {
    const count = this.counts.get(room.roomId);
    if (!count) return { ...room, lastReadSeq: read };
    for (const seq of count.others) if (seq <= read) count.others.delete(seq);
    for (const seq of count.own) if (seq <= read) count.own.delete(seq);
    const fromAnswer = read >= count.baseSeq ? 0 : Math.min(count.base, count.baseSeq - read);
    const total = fromAnswer + count.others.size;
    const { unreadMore: _more, ...rest } = room;
    const more = total > UNREAD_MAX || (count.baseMore && read < count.baseSeq);
    return {
      ...rest,
      // Mentions are among the unread: none left unread, none left to show.
      ...(room.mentions !== undefined && total === 0 && !more && { mentions: 0 }),
      lastSeq: Math.max(room.lastSeq, count.lastSeq),
      lastReadSeq: read,
      unread: Math.min(total, UNREAD_MAX),
      ...(more && { unreadMore: true as const }),
    };
  }
}
