import type { DmOpenedFrame, MyRoom, MyRoomsFrame } from '../protocol';
import type { Room, RoomUnread } from './room';
import type { UnreadCounts } from './unreadCounts';

/** What the rooms list uses of MemberRooms (client/members.ts). */
export interface MyRoomsHost {
  readonly counts: UnreadCounts;
  /** The highest read position this client sent for the room (readPositions.ts). */
  readSent(roomId: string): number;
  /** The list changed: the `rooms` event. */
  changed(rooms: MyRoom[]): void;
  /** The room's object, whose `unread` listeners hear of its count, if the app has it. */
  handle(roomId: string): Room | undefined;
}

/**
 * "My rooms": the member's rooms with their unread counts as the last `myrooms` answer gave them, kept live between
 * answers with the client's own reads and the frames counted since (unreadCounts.ts), a direct message someone
 * opened added first, and a room this member left taken out.
 */
export class MyRooms {
  private rooms: MyRoom[] = [];
  private hasMore = false;
  /** The unread count last told to each room's `unread` listeners. */
  private readonly told = new Map<string, string>();

  constructor(private readonly host: MyRoomsHost) {}

  /** The rooms of the last `myrooms` answer, with the client's own reads since then applied. */
  get list(): MyRoom[] {
    return this.rooms;
  }

  /** Whether the last `myrooms` answer left less recently active rooms out (it lists 100 at most). */
  get more(): boolean {
    return this.hasMore;
  }

  /** A `myrooms` answer: the new list, and the new base of each listed room's count. */
  answered(frame: MyRoomsFrame): MyRoom[] {
    for (const room of frame.rooms) this.host.counts.rebase(room);
    this.rooms = frame.rooms.map((r) => this.withOwnReads(r));
    this.hasMore = frame.more === true;
    this.host.changed(this.rooms);
    for (const room of frame.rooms) this.tellUnread(room.roomId);
    return this.rooms;
  }

  /** A direct message opened with this user: first in the list (newest activity), in place of any older entry. */
  opened(room: DmOpenedFrame['room']): void {
    this.host.counts.rebase(room);
    this.rooms = [this.withOwnReads(room), ...this.rooms.filter((r) => r.roomId !== room.roomId)];
  }

  /**
   * A room this member is no longer in (left, removed, closed): out of the list at once (`rooms`), as the next
   * `myrooms` answer would have it, so a page never lists a room it just left.
   */
  drop(roomId: string): void {
    if (!this.rooms.some((r) => r.roomId === roomId)) return;
    this.rooms = this.rooms.filter((r) => r.roomId !== roomId);
    this.host.changed(this.rooms);
  }

  /** The live unread count of `roomId`, listed in a myrooms answer or not. */
  unreadOf(roomId: string): RoomUnread {
    const listed = this.rooms.find((r) => r.roomId === roomId);
    const view = this.withOwnReads(
      listed ?? { roomId, lastSeq: this.host.counts.lastSeqOf(roomId) ?? 0, lastReadSeq: 0, unread: 0 },
    );
    return { roomId, unread: view.unread, ...(view.unreadMore === true && { unreadMore: true as const }) };
  }

  /** Emits `rooms` again when a frame changed a listed room's count or latest seq, and the room's `unread`. */
  recount(roomId: string): void {
    const before = this.rooms;
    this.rooms = this.rooms.map((r) => this.withOwnReads(r));
    if (this.rooms.some((r, i) => r.unread !== before[i]?.unread || r.lastSeq !== before[i]?.lastSeq))
      this.host.changed(this.rooms);
    this.tellUnread(roomId);
  }

  /** Tells the room's `unread` listeners when its count changed. */
  private tellUnread(roomId: string): void {
    const handle = this.host.handle(roomId);
    if (!handle) return;
    const now = this.unreadOf(roomId);
    const text = `${now.unread}${now.unreadMore ? '+' : ''}`;
    if (this.told.get(roomId) === text) return;
    this.told.set(roomId, text);
    handle.notify('unread', now);
  }

  /** The room with the client's own reads and the frames since the answer applied (UnreadCounts.applied). */
  private withOwnReads(room: MyRoom): MyRoom {
    return this.host.counts.applied(room, Math.max(room.lastReadSeq, this.host.readSent(room.roomId)));
  }
}
