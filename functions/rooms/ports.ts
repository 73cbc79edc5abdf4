/** One join's move into a room (joining.ts). */
export interface RoomEntry {
  /**
   * Moves `connectionId` from room `from` into `roomId`, showing `username` there, in one transaction with a check
   * that no rotation or close has replaced the invite key the join was admitted by (`inviteKey`; undefined: the room
   * had none) since. `keyChanged` when that check failed (a key rotation, a removal or a close came first), `connectionMoved` when the connection is no longer in `from` (or gone), `conflict` when another
   * transaction held one of the items, `tooManyRooms` when the room is not followed yet and the connection follows
   * LIMITS.subscriptionsMax rooms. The rooms followed before stay followed, but the lobby.
   */
  enter(entry: {
    connectionId: string;
    from: string;
    roomId: string;
    username: string;
    /**
     * Who the member is and when it connected: its subscription's `userId` and end of life (the connection's; from
     * `at` when not given).
     */
    userId?: string;
    connectedAt?: string;
    inviteKey: string | undefined;
    at: string;
    /** Now, in epoch seconds: a gate past its TTL lets every key through (core/aws/rooms.ts). */
    nowSeconds: number;
    /** The room's key level the subscription's index key is written at (joining.ts keyLevelToWrite); absent: 1. */
    keyLevel?: number;
  }): Promise<'entered' | 'keyChanged' | 'connectionMoved' | 'conflict' | 'tooManyRooms'>;
  /**
   * Follows `roomId` without showing it (`subscribe`): writes the connection's subscription under `username` if it
   * has none, in one transaction with the same check as `enter` (no rotation or close since it was admitted by
   * `inviteKey`). Counts nothing: the caller counted the room first (ConnectionStore.countRooms).
   * `followed` when written, `followedAlready` when the connection had a subscription to it already (nothing
   * written), `keyChanged` when the gate's check failed, `conflict` when another transaction held an item.
   */
  follow(entry: {
    connectionId: string;
    roomId: string;
    username: string;
    userId?: string;
    connectedAt: string;
    inviteKey: string | undefined;
    at: string;
    /** Now, in epoch seconds: a gate past its TTL lets every key through (core/aws/rooms.ts). */
    nowSeconds: number;
    /** The room's key level the subscription's index key is written at (joining.ts keyLevelToWrite); absent: 1. */
    keyLevel?: number;
  }): Promise<'followed' | 'followedAlready' | 'keyChanged' | 'conflict'>;
}
