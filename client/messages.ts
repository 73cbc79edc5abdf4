import type { ChangedFrame, ChangeFrame, MessageFrame, RoomEventFrame } from '../protocol';
import { isReaction } from '../protocol';
import { RoomcastError } from './errors';
import { checkMessageText } from './validate';

/**
 * Changes to messages (edit, delete, reactions) and a store of the current room's messages that applies them.
 *
 * ```ts
 * const messages = new RoomMessages(client);          // follows the client's room, across reconnects
 * messages.on(() => render(messages.list()));         // after every message or change
 * await client.editMessage(seq, 'fixed the typo');    // your own, within the deployment's edit window
 * await client.deleteMessage(seq);                    // your own, or any in a room you own
 * await client.react(seq, '👍');  await client.unreact(seq, '👍');
 * ```
 */

/** What a client sends a change through: its request with a clientMsgId, repeated across reconnects. */
export type ChangeSender = (frame: Record<string, unknown>) => Promise<ChangedFrame>;

/** A clientMsgId for one change: a retry of it, even after a reconnect, never changes anything twice. */
const newChangeId = () => `c-${globalThis.crypto.randomUUID()}`;

function checkSeq(seq: unknown): number {
  if (!Number.isSafeInteger(seq) || (seq as number) < 1)
    throw new RoomcastError(
      'INVALID_ARGUMENT',
      'seq must be the seq of a message: a whole number of 1 or more.',
    );
  return seq as number;
}

function checkReaction(reaction: unknown): string {
  if (!isReaction(reaction))
    throw new RoomcastError('INVALID_ARGUMENT', 'A reaction is a single emoji, such as "👍".');
  return reaction;
}

/** The typed change requests, checked as the server checks them before anything is sent. */
export class MessageChanges {
  constructor(private readonly send: ChangeSender) {}

  async edit(seq: number, text: string): Promise<ChangedFrame> {
    return this.change({ action: 'editmessage', seq: checkSeq(seq), message: checkMessageText(text) });
  }

  async delete(seq: number): Promise<ChangedFrame> {
    return this.change({ action: 'deletemessage', seq: checkSeq(seq) });
  }

  async react(seq: number, reaction: string, remove = false): Promise<ChangedFrame> {
    return this.change({ action: 'react', seq: checkSeq(seq), reaction: checkReaction(reaction), remove });
  }

  private change(frame: Record<string, unknown>): Promise<ChangedFrame> {
    return this.send({ ...frame, clientMsgId: newChangeId() });
  }
}

/** The client events a store follows (RoomcastClient provides them). */
export interface MessageSource {
  on(event: 'message', listener: (message: MessageFrame) => void): unknown;
  on(event: 'change', listener: (change: ChangeFrame) => void): unknown;
  on(event: 'room', listener: (room: { roomId: string }) => void): unknown;
  on(event: 'changed', listener: (reply: ChangedFrame) => void): unknown;
}

/**
 * The messages of the client's current room in seq order, each in its final state: edited text and `editedAt`, a
 * tombstone (`deleted`, empty text), reaction counts. A change applies only when its seq is above the message's
 * `changeSeq`, so a change arriving late, twice, or after a `history` page that already showed it changes nothing;
 * after a resume the client hands over what it missed in seq order and the store catches up the same way.
 */
export class RoomMessages {
  private readonly bySeq = new Map<number, MessageFrame>();
  private readonly listeners = new Set<() => void>();
  private roomId: string | undefined;

  constructor(source: MessageSource) {
    source.on('room', ({ roomId }) => {
      this.roomId = roomId;
      this.bySeq.clear();
      this.changed();
    });
    source.on('message', (message) => this.apply(message));
    source.on('change', (change) => this.apply(change));
    source.on('changed', (reply) => this.apply(reply));
  }

  /** Calls `listener` after every message or change the store applied; returns a function that stops it. */
  on(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The room's messages, oldest first. */
  list(): MessageFrame[] {
    return [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
  }

  get(seq: number): MessageFrame | undefined {
    return this.bySeq.get(seq);
  }

  /** Applies a message, a change event, or the reply to this client's own change (which knows `mine`). */
  apply(event: RoomEventFrame | ChangedFrame): void {
    if (event.type === 'changed') {
      if (event.roomId === this.roomId) this.put(event.message);
    } else if (event.roomId !== this.roomId) return;
    else if (event.type === 'message') this.put(event);
    else this.change(event);
    this.changed();
  }

  /** A message as sent: kept unless the store holds a later state of it. */
  private put(message: MessageFrame): void {
    const held = this.bySeq.get(message.seq);
    if (held && (held.changeSeq ?? 0) > (message.changeSeq ?? 0)) return;
    this.bySeq.set(message.seq, message);
  }

  private change(event: ChangeFrame): void {
    const held = this.bySeq.get(event.targetSeq);
    if (!held || (held.changeSeq ?? 0) >= event.seq) return;
    const next: MessageFrame = { ...held, changeSeq: event.seq };
    if (event.type === 'edited') Object.assign(next, { text: event.text, editedAt: event.sentAt });
    else if (event.type === 'deleted') {
      Object.assign(next, { text: '', deleted: event.by });
      delete next.reactions;
      delete next.editedAt;
    } else {
      const others = (held.reactions ?? []).filter((r) => r.reaction !== event.reaction);
      const mine = held.reactions?.find((r) => r.reaction === event.reaction)?.mine;
      const reactions =
        event.count > 0
          ? [...others, { reaction: event.reaction, count: event.count, ...(mine && { mine }) }]
          : others;
      next.reactions = reactions.sort((a, b) => b.count - a.count || (a.reaction < b.reaction ? -1 : 1));
    }
    this.bySeq.set(event.targetSeq, next);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
