import type { ChatPorts, Connection } from '#core/ports';

/**
 * What the reading feature stores and reads: a member's read position, kept on its membership (the Memberships
 * table's `lastReadSeq`; the rooms feature records and drops the membership itself), and the room's head it is
 * checked against.
 */
export interface ReadPositions {
  /**
   * The room's head (the seq of its latest event, 0 before the first), read now, and its key level
   * (core/aws/roomMembers.ts), in the same read; undefined: no such room.
   */
  head(roomId: string): Promise<{ seq: number; keyLevel: number } | undefined>;
  /**
   * Moves the read position to `read.seq` (at most the room's `read.head`) if that is forward, or if the stored one
   * is past the head; returns the position kept after the request and whether this request moved it.
   */
  markRead(
    memberKey: string,
    roomId: string,
    read: { seq: number; head: number },
    at: string,
    ttl?: number,
  ): Promise<{ lastReadSeq: number; moved: boolean }>;
  /** Read positions of several members in one room; a member without one is absent from the map. */
  positions(memberKeys: string[], roomId: string): Promise<Map<string, number>>;
  /** Connections by id, as stored; a gone one is absent. */
  connections(connectionIds: string[]): Promise<Connection[]>;
}

export type ReadDeps = Pick<ChatPorts, 'connections' | 'now'> & { reads: ReadPositions };
