import type { AckFrame, ChangedFrame } from '../protocol';
import { RoomcastError } from './errors';
import { type ChangeSender, MessageChanges } from './messages';
import type { Outbox } from './outbox';
import type { ConnectionState, SendOptions } from './types';
import type { Typing } from './typing';
import { checkMessageText, checkReplyTo, checkThreadOf } from './validate';

/** What writing into rooms uses of the client (client/core.ts). */
export interface WriteHooks {
  outbox: Outbox;
  /** The typing indicator of the room on screen (`client.typing`). */
  typing: Typing;
  state(): ConnectionState;
  /** The room on screen. */
  shown(): string;
  /** Sends a change request of `roomId` once the client is ready, again after a reconnect that lost the answer. */
  change(roomId: string): ChangeSender;
  /** A change's reply: also the client's `changed` event. */
  changed(reply: ChangedFrame): void;
  /** Writes a frame now; throws DISCONNECTED when not connected. */
  write(text: string): void;
}

/**
 * What the client writes into a room, the one on screen or any other it follows: a message through the outbox (checked
 * here, refused once the client is closed), a change through the room's one coalescing sender, and typing (the room on
 * screen through `client.typing`, another at most once per heartbeat). Each frame names its room.
 */
export class RoomWrites {
  /** Edits, deletes and reactions of followed rooms (`client.rooms.get(id).edit`), one coalescing sender per room. */
  private readonly changesByRoom = new Map<string, MessageChanges>();
  /** When each followed room not on screen last got a typing heartbeat from this client. */
  private readonly typedAt = new Map<string, number>();

  constructor(private readonly hooks: WriteHooks) {}

  /** `send` to any followed room (`client.rooms.get(roomId).send`): the frame names its room. */
  sendTo(roomId: string, text: string, options: SendOptions): Promise<AckFrame> {
    let trimmed: string;
    let replyTo: number | undefined;
    let threadOf: number | undefined;
    const { attachments } = options;
    try {
      // A message with images may have no text (docs/PROTOCOL.md, "Attachments").
      trimmed = attachments?.length && text.trim() === '' ? '' : checkMessageText(text);
      replyTo = checkReplyTo(options.replyTo);
      threadOf = checkThreadOf(options.threadOf, options.alsoToRoom);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.hooks.state() === 'closed')
      return Promise.reject(new RoomcastError('CLOSED', 'The client was closed.'));
    return this.hooks.outbox.add(
      roomId,
      trimmed,
      replyTo,
      attachments?.length ? attachments : undefined,
      threadOf === undefined ? undefined : { threadOf, alsoToRoom: options.alsoToRoom === true },
    );
  }

  /** The change sender of `roomId`: its requests name the room, its replies are also the `changed` event. */
  changesIn(roomId: string): MessageChanges {
    let changes = this.changesByRoom.get(roomId);
    if (!changes) {
      changes = new MessageChanges(this.hooks.change(roomId), (reply) => this.hooks.changed(reply));
      this.changesByRoom.set(roomId, changes);
    }
    return changes;
  }

  /** Typing in `roomId`: the room on screen through `client.typing`; another at most once per heartbeat. */
  typeIn(roomId: string, typing: boolean): boolean {
    if (roomId === this.hooks.shown()) {
      if (!typing) {
        this.hooks.typing.stop();
        return true;
      }
      return this.hooks.typing.keystroke();
    }
    const last = this.typedAt.get(roomId);
    if (typing && last !== undefined && Date.now() - last < this.hooks.typing.heartbeatMs) return false;
    if (!typing && last === undefined) return false;
    try {
      this.hooks.write(JSON.stringify({ action: 'typing', roomId, ...(!typing && { typing: false }) }));
    } catch {
      return false;
    }
    if (typing) this.typedAt.set(roomId, Date.now());
    else this.typedAt.delete(roomId);
    return true;
  }
}
