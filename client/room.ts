import type {
  AckFrame,
  ChangedFrame,
  ChangeFrame,
  HistoryFrame,
  LeftFrame,
  MessageFrame,
  PresenceFrame,
  ReadFrame,
  ResyncFrame,
  RoomEventFrame,
  TypingFrame,
} from '../protocol';
import { Emitter } from './emitter';
import type { MessageChanges } from './messages';
import type { Requester } from './requests';
import { marked } from './sequencer';
import type { Handed, SendOptions } from './types';

/** Seqs remembered per room to hand each event over once (events arrive again after a resubscribe or a resync). */
const SEQS_KEPT = 1000;

/** What a room's unread count is now: messages from others after the read position (`unreadMore`: at least that). */
export interface RoomUnread {
  roomId: string;
  unread: number;
  unreadMore?: true;
}

/** A `seen` frame (seen-by pushed): who has read how far in the room. Its shape is docs/PROTOCOL.md's. */
export type SeenFrame = { type: 'seen'; roomId: string } & Record<string, unknown>;

export interface RoomEvents {
  /**
   * A message of this room, each seq once. The room on screen (the client's `roomId`) gets them in seq order with
   * gaps filled from history; a followed room not on screen gets them as they arrive (a gap there is filled once it
   * is shown, or by the paced fetch after a resubscribe that said `hasMore`). `late: true`: a later seq of this room
   * was handed over before it; put it in its place by seq.
   */
  message: Handed<MessageFrame>;
  /** An edit, delete or reaction of a message of this room, each seq once (`late` as for a message). */
  change: Handed<ChangeFrame>;
  /** The reply to this client's own change in this room (`room.edit` ...). */
  changed: ChangedFrame;
  /** Someone in this room is typing (`typing: true`) or stopped. */
  typing: TypingFrame;
  presence: PresenceFrame;
  /** The server could not deliver this room's events after `afterSeq`; the client fetches them. */
  resync: ResyncFrame;
  /** Who has read how far (seen-by pushed, when the server sends it). */
  seen: SeenFrame;
  /** The room's unread count changed. */
  unread: RoomUnread;
}

/** What a room needs from the client: every request names the room (`roomId`), so none depends on the room shown. */
export interface RoomActions {
  request: Requester;
  send(roomId: string, text: string, options: SendOptions): Promise<AckFrame>;
  markRead(roomId: string, seq: number): Promise<ReadFrame | undefined>;
  /** The room's change sender (client/messages.ts): its requests, typed by the protocol's, name the room. */
  changes(roomId: string): MessageChanges;
  typing(roomId: string, typing: boolean): boolean;
  leave(roomId: string): Promise<LeftFrame>;
  unread(roomId: string): RoomUnread;
  shown(): string;
}

/**
 * One room the client follows, as ably-chat-js's `Room`: `client.rooms.get(roomId)`. Its events are this room's
 * only, and every action names the room, so an app can post, read history, mark read and react in any followed room
 * while another is on screen (docs/CLIENT.md, "Many rooms").
 *
 * ```ts
 * const b = client.rooms.get('ABCDEFGH');
 * b.on('message', (m) => render(m));
 * b.on('unread', ({ unread }) => (badge.textContent = String(unread)));
 * await b.send('hello');                  // to ABCDEFGH, whichever room is shown
 * ```
 */
export class Room extends Emitter<RoomEvents> {
  private highest: number | undefined;
  /** The highest seq handed over to this room's listeners: one below it comes late. */
  private newest = 0;
  /** Seqs at or below this are handed over or older than this client's start in the room. */
  private base = 0;
  private readonly handed = new Set<number>();

  constructor(
    readonly roomId: string,
    private readonly actions: RoomActions,
  ) {
    super();
  }

  /** The highest seq handed over (the resume point after a reconnect); undefined before any. */
  get lastSeq(): number | undefined {
    return this.highest;
  }

  /** Whether this is the room on screen (the connection's `roomId`). */
  get shown(): boolean {
    return this.actions.shown() === this.roomId;
  }

  /** Messages from others after the read position, live (at most 99, then `unreadMore`). */
  get unread(): number {
    return this.actions.unread(this.roomId).unread;
  }

  /** Sends a message to this room (idempotent, kept in the outbox while offline, as `client.send`). */
  send(text: string, options: SendOptions = {}): Promise<AckFrame> {
    return this.actions.send(this.roomId, text, options);
  }

  /** A page of this room's history (as `client.history`). */
  async history(
    query: { afterSeq?: number; beforeSeq?: number; limit?: number } = {},
  ): Promise<HistoryFrame> {
    return await this.actions.request({
      action: 'history',
      roomId: this.roomId,
      ...query,
    });
  }

  /** Marks this room read up to `seq` (coalesced: at most one `markread` per interval). */
  markRead(seq: number): Promise<ReadFrame | undefined> {
    return this.actions.markRead(this.roomId, seq);
  }

  /** A typing heartbeat in this room (`typing: false`: stopped); false when nothing was sent. */
  typing(typing = true): boolean {
    return this.actions.typing(this.roomId, typing);
  }

  edit = (seq: number, text: string): Promise<ChangedFrame> =>
    this.actions.changes(this.roomId).edit(seq, text);
  delete = (seq: number): Promise<ChangedFrame> => this.actions.changes(this.roomId).delete(seq);
  react = (seq: number, reaction: string): Promise<ChangedFrame> =>
    this.actions.changes(this.roomId).react(seq, reaction);
  unreact = (seq: number, reaction: string): Promise<ChangedFrame> =>
    this.actions.changes(this.roomId).unreact(seq, reaction);

  /** Stops following this room (`leaveroom {roomId}`); leaving the room on screen shows the lobby. */
  leave(): Promise<LeftFrame> {
    return this.actions.leave(this.roomId);
  }

  /** Hands over events of this room once each (the client calls it; an app listens). False when all were seen. */
  deliver(events: readonly RoomEventFrame[]): boolean {
    let any = false;
    for (const event of events) {
      if (event.seq <= this.base || this.handed.has(event.seq)) continue;
      this.handed.add(event.seq);
      if (this.handed.size > SEQS_KEPT) {
        // Past the bound the first kept goes (events come nearly in seq order: O(1), not a scan of the set), and
        // everything up to it counts as handed over.
        const first = this.handed.values().next().value as number;
        this.handed.delete(first);
        this.base = Math.max(this.base, first);
      }
      this.highest = Math.max(this.highest ?? 0, event.seq);
      any = true;
      // Below a seq handed over already (the room on screen: stored after its hole was skipped, as the session
      // marked it; another room: its events come as they arrive): marked, so a listener puts it in its place.
      const handed = marked(event, event.seq < this.newest);
      this.newest = Math.max(this.newest, event.seq);
      if (handed.type === 'message') this.emit('message', handed);
      else this.emit('change', handed);
    }
    return any;
  }

  /** Where the room starts for this client (a `joined` or `subscribed` room's `lastSeq`): older seqs are not news. */
  startAt(lastSeq: number): void {
    this.highest = Math.max(this.highest ?? 0, lastSeq);
    if (lastSeq <= this.base) return;
    this.base = lastSeq;
    for (const seq of this.handed) if (seq <= lastSeq) this.handed.delete(seq);
  }

  /** A frame of this room other than its events (the client calls it). */
  notify<K extends 'typing' | 'presence' | 'resync' | 'seen' | 'changed' | 'unread'>(
    event: K,
    value: RoomEvents[K],
  ): void {
    this.emit(event, value);
  }
}
