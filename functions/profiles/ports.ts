/**
 * The rooms a profile change is told to, from the function that hosts profiles (functions/rooms/index.ts hands in
 * its memberships store): profiles import no rooms module, so the two folders stay one way (rooms → profiles).
 */
export interface ProfileRooms {
  /**
   * The user's first `limit` memberships (one Query of the Memberships table): each room's id and the name the user
   * last entered it under.
   */
  list(userId: string, limit: number): Promise<ReadonlyArray<{ roomId: string; username?: string }>>;
}
