import type { DmOpenedFrame, MyRoom, MyRoomFrame, MyRoomsFrame, NoticeChoice } from '../protocol';
import { LOBBY } from '../protocol';
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
 *
 * The order is the server's, the same on every device of the person (docs/DECISIONS.md, "One person, many devices"):
 * latest activity first, then by room code. Between answers a room with an event newer than the answer moves up by
 * the event's server time (`sentAt`, in whole seconds as the server's order counts it), ties by room code; the
 * rooms without one keep the answer's order below them. Nothing of this browser (a room opened, clicked, muted)
 * orders it.
 */
export class MyRooms {
  private rooms: MyRoom[] = [];
  private hasMore = false;
  /** The unread count last told to each room's `unread` listeners. */
  private readonly told = new Map<string, string>();
  /** Per listed room: its latest message newer than the answer, by `sentAt` in epoch seconds. */
  private readonly activeAt = new Map<string, number>();

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
    this.activeAt.clear();
    this.rooms = frame.rooms.map((r) => this.withOwnReads(r));
    this.hasMore = frame.more === true;
    this.host.changed(this.rooms);
    for (const room of frame.rooms) this.tellUnread(room.roomId);
    return this.rooms;
  }

  /**
   * A direct message opened with this user, or a room joined or created on another device of the person (`myroom`),
   * in place of any older entry: where its `activeAt` puts it in the order `myrooms` answers, as the next answer
   * would list it. One given without `activeAt` is newer than any activity known: first.
   */
  opened(room: DmOpenedFrame['room'] | MyRoom): void {
    this.host.counts.rebase(room);
    const rest = this.rooms.filter((r) => r.roomId !== room.roomId);
    if (room.activeAt === undefined)
      this.activeAt.set(room.roomId, Math.max(0, ...rest.map((r) => this.keyOf(r) ?? 0)) + 1);
    this.rooms = this.ordered([this.withOwnReads(room), ...rest]);
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

  /**
   * The member's notices in a listed room as the server keeps them now: the reply to its own `setnotices`, or the
   * choice another device of the person made (a pushed `notices`). `all` is the default, carried as nothing.
   */
  noticed(roomId: string, notices: NoticeChoice): void {
    if (!this.rooms.some((r) => r.roomId === roomId)) return;
    this.rooms = this.rooms.map((r) => {
      if (r.roomId !== roomId) return r;
      const { notices: _was, ...rest } = r;
      return notices === 'all' ? rest : { ...rest, notices };
    });
    this.host.changed(this.rooms);
  }

  /**
   * The activity a frame tells of a listed room: an event (a message or a change, alone or in a batch) newer than
   * the answer's `lastSeq` for the room, at its server time (`sentAt`). Malformed parts count for nothing.
   */
  activity(frame: Record<string, unknown>): void {
    const { roomId } = frame;
    if (typeof roomId !== 'string') return;
    const room = this.rooms.find((r) => r.roomId === roomId);
    if (!room) return;
    const events = frame.type === 'batch' && Array.isArray(frame.messages) ? frame.messages : [frame];
    for (const event of events as Record<string, unknown>[]) {
      // A message or a change to one (an edit, a reaction, a pin): each moves the room's activity on the server too.
      if (event?.type === 'ack' || typeof event?.seq !== 'number' || typeof event.sentAt !== 'string')
        continue;
      const at = Math.floor(Date.parse(event.sentAt) / 1000);
      if (event.seq <= (this.host.counts.baseSeqOf(roomId) ?? Number.POSITIVE_INFINITY)) continue;
      if (!Number.isFinite(at)) continue;
      this.activeAt.set(roomId, Math.max(this.activeAt.get(roomId) ?? at, at));
    }
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
    this.rooms = this.ordered(this.rooms.map((r) => this.withOwnReads(r)));
    if (
      this.rooms.some(
        (r, i) =>
          r.roomId !== before[i]?.roomId ||
          r.unread !== before[i]?.unread ||
          r.lastSeq !== before[i]?.lastSeq,
      )
    )
      this.host.changed(this.rooms);
    this.tellUnread(roomId);
  }

  /**
   * The server's order: latest activity first (the answer's `activeAt`, or a later event's second), ties by code;
   * rooms with neither (an answer without `activeAt`) in the order they had, below.
   */
  private ordered(rooms: MyRoom[]): MyRoom[] {
    const active = rooms
      .filter((r) => this.keyOf(r) !== undefined)
      .sort(
        (a, b) => (this.keyOf(b) as number) - (this.keyOf(a) as number) || (a.roomId < b.roomId ? -1 : 1),
      );
    return active.length === 0 ? rooms : [...active, ...rooms.filter((r) => this.keyOf(r) === undefined)];
  }

  /** A room's place in the order: the later of its answer's `activeAt` and its latest event since, in seconds. */
  private keyOf(room: MyRoom): number | undefined {
    const live = this.activeAt.get(room.roomId);
    if (room.activeAt === undefined) return live;
    return live === undefined ? room.activeAt : Math.max(live, room.activeAt);
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

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * The room a pushed `myroom` frame lists (a room joined or created on another device of the person), as this list
 * keeps it; undefined for one with `left`, or malformed (any frame reaches the client before it is checked).
 */
export function listedRoom(frame: Partial<MyRoomFrame>): MyRoom | undefined {
  const room = frame.room as Record<string, unknown> | undefined;
  if (typeof room !== 'object' || room === null || frame.left === true) return undefined;
  const { roomId, inviteKey, lastSeq, lastReadSeq, unread, name } = room;
  if (typeof roomId !== 'string' || roomId !== frame.roomId || roomId === LOBBY) return undefined;
  if (!isCount(lastSeq) || !isCount(lastReadSeq) || !isCount(unread)) return undefined;
  if (
    (inviteKey !== undefined && typeof inviteKey !== 'string') ||
    (name !== undefined && typeof name !== 'string')
  )
    return undefined;
  const dm = room.dm as MyRoom['dm'] | undefined;
  return {
    roomId,
    ...(inviteKey !== undefined && { inviteKey }),
    lastSeq,
    lastReadSeq,
    unread,
    ...(name !== undefined && { name }),
    ...(isCount(room.activeAt) && { activeAt: room.activeAt }),
    ...(typeof dm?.userId === 'string' && { dm }),
  };
}
