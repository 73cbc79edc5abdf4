/**
 * The memberships an owner's or moderator's action changes, from the function that hosts moderation
 * (functions/rooms/index.ts hands in its memberships store): moderation imports no rooms module, so the two folders
 * stay one way (rooms → moderation).
 */
export interface ModerationMemberships {
  /** Sets the key a membership enters by (the owner's, when its room's key rotates); never creates one. */
  rekey(memberKey: string, roomId: string, inviteKey: string): Promise<void>;
  /** Forgets a removed or banned person's membership of the room; true when there was one to forget. */
  leave(memberKey: string, roomId: string): Promise<boolean>;
}
