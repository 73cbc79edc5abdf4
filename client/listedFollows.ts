import type { SubscribedFrame } from '../protocol';
import type { Subscriptions } from './subscriptions';

/**
 * Rooms listed on this connection from elsewhere, to follow so their messages and unread counts arrive live: a DM
 * opened to this person (`dmopened`) at once; rooms entered on the person's other devices (`myroom`) together, those
 * listed within FOLLOW_COALESCE_MS in one `subscribe`, so making many rooms on one device never floods another
 * device's frame budget (FrameRateLimit, 100 a minute) and costs it its connection: at most 12 such frames a minute.
 */
export const FOLLOW_COALESCE_MS = 5000;

export class ListedFollows {
  private readonly waiting = new Map<string, { roomId: string; key?: string }>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly subs: () => Pick<Subscriptions, 'following' | 'report' | 'reportStillBusy'>,
    private readonly subscribe: (rooms: Array<{ roomId: string; key?: string }>) => Promise<SubscribedFrame>,
  ) {}

  private following(roomId: string): boolean {
    return this.subs().following.has(roomId);
  }

  /** Follows `room` (with its invite key) unless followed: now (`atOnce`), or with those listed meanwhile. */
  follow(room: { roomId: string; inviteKey?: string }, atOnce: boolean): void {
    if (this.following(room.roomId)) return;
    this.waiting.set(room.roomId, {
      roomId: room.roomId,
      ...(room.inviteKey !== undefined && { key: room.inviteKey }),
    });
    if (atOnce) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FOLLOW_COALESCE_MS);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const rooms = [...this.waiting.values()].filter((r) => !this.following(r.roomId));
    this.waiting.clear();
    if (rooms.length > 0)
      this.subscribe(rooms).then(
        ({ refused }) => this.subs().reportStillBusy(refused),
        (error: unknown) => this.subs().report(error),
      );
  }
}
