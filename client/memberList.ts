import type { PresenceFrame } from '../protocol';
import type { SessionHooks } from './sessionTypes';

/**
 * The member list of the room on screen (client/session.ts owns which room that is): names as the last `who` or
 * `joined` gave them, moved by each `presence` frame, and the room's count, moved by counted joins and leaves. Each
 * change is one `members` event; a name stays listed while another of its connections may remain (`who()` tells
 * for sure).
 */
export class MemberList {
  private names: string[] = [];
  /** The room's count as the server last gave it, moved by counted joins and leaves since (counted). */
  private count: number | undefined;

  constructor(private readonly hooks: Pick<SessionHooks, 'emit'>) {}

  get members(): readonly string[] {
    return this.names;
  }

  /** A room entered: no names, no count, until its `joined` (or the lobby's history) gives them. */
  clear(): void {
    this.names = [];
    this.count = undefined;
  }

  set(roomId: string, members: string[], memberCount?: number): void {
    this.names = [...new Set(members)];
    this.count = memberCount;
    this.hooks.emit('members', { roomId, members: this.names, memberCount });
  }

  /** A `presence` frame of the room (lean: handed over only). */
  presence(presence: PresenceFrame, lean: boolean): void {
    if (lean) {
      this.hooks.emit('presence', presence); // no member list: a presence frame to each of N members costs O(N)
      return;
    }
    const others = this.names.filter((name) => name !== presence.username);
    this.hooks.emit('presence', presence);
    // A name may stay connected from another tab after one leaves; `who()` tells for sure.
    this.set(presence.roomId, presence.event === 'join' ? [...others, presence.username] : others);
  }

  /**
   * A `memberschanged` frame's joins and leaves counted, not named (a room that has held more than 100 members names
   * none): the room's count moves by them, the list of names stays as the last `who` or `joined` gave it.
   */
  counted(roomId: string, joined: number, left: number): void {
    if (joined + left === 0) return;
    const count = Math.max(0, (this.count ?? this.names.length) + joined - left);
    this.count = count;
    this.hooks.emit('members', { roomId, members: this.names, memberCount: count, counted: true });
  }
}
