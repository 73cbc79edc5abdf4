import type {
  AskOf,
  ChangeAction,
  ChangedFrame,
  ChangeFrame,
  MessageFrame,
  Pin,
  RoomEventFrame,
} from '../protocol';
import { CHANGE_LIMITS, reactionOf, THREAD_LIMITS } from '../protocol';
import { type BackoffPolicy, REAL_CLOCK, type RetryClock, retrying } from './backoff';
import { RoomcastError } from './errors';
import { checkMessageText } from './validate';

/**
 * Changes to messages (edit, delete, reactions) and a store of the current room's messages that applies them.
 *
 * ```ts
 * const store = new RoomMessages(client);                // follows the client's room, across reconnects
 * store.on(() => render(store.list()));                   // after every message or change
 * await client.messages.edit(seq, 'fixed the typo');      // your own, within the deployment's edit window
 * await client.messages.delete(seq);                      // your own, or any in a room you own
 * await client.messages.react(seq, '👍');  await client.messages.unreact(seq, '👍');
 * await client.messages.pin(seq);  await client.messages.unpin(seq);   // a room you own; store.pins() lists them
 * store.flow();  store.thread(rootSeq);  store.threadUnread(rootSeq);  store.markThreadRead(rootSeq);  // threads
 * ```
 */

/** What a client sends a change through: its request with a clientMsgId, repeated across reconnects. */
export type ChangeSender = (frame: AskOf<ChangeAction>) => Promise<ChangedFrame>;

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

/** The reaction as the server stores it (a bare ❤ is ❤️, 👍 with a selector is 👍), or INVALID_ARGUMENT. */
function checkReaction(reaction: unknown): string {
  const stored = reactionOf(reaction);
  if (stored === undefined)
    throw new RoomcastError('INVALID_ARGUMENT', 'A reaction is a single emoji, such as "👍".');
  return stored;
}

/**
 * How a change answered `BUSY` or `INTERNAL` is tried again: the server answers so when it met a limit for now (its
 * deadline, DynamoDB throttling, the message held by other changes' transactions: "The chat is busy right now") or
 * failed midway, and the same clientMsgId makes a retry safe. Full jitter up to 250 ms, 500 ms, 1 s: four attempts.
 */
export const CHANGE_RETRY: BackoffPolicy = { initialDelayMs: 250, maxDelayMs: 2000, maxAttempts: 4 };

/**
 * The error codes that say "try again in a moment" of a request that is safe to repeat: BUSY (a limit met for now)
 * and INTERNAL (a failure midway). Not RATE_LIMITED (trying again soon would be refused again and spend the
 * connection's frame budget) nor TIMEOUT (the request waited its whole timeout already).
 */
export const RETRY_CODES: ReadonlySet<string> = new Set(['BUSY', 'INTERNAL']);

/**
 * RETRY_CODES and TIMEOUT: for a request whose repeat changes nothing a first success did not (subscribe: a room
 * followed already is answered as it stands; setRoom: the same values again, the name held by this room already), an
 * answer that came too late is asked again too. A change is not (a reaction asked twice would toggle).
 */
export const REASK_CODES: ReadonlySet<string> = new Set([...RETRY_CODES, 'TIMEOUT']);

/** The typed change requests, each checked as the server checks it (else rejected INVALID_ARGUMENT, nothing sent). */
export class MessageChanges {
  constructor(
    private readonly send: ChangeSender,
    private readonly onReply: (reply: ChangedFrame) => void = () => undefined,
    private readonly clock: RetryClock = REAL_CLOCK,
  ) {}

  /** Replaces the text of this member's message `seq` (within the deployment's edit window). */
  async edit(seq: number, text: string): Promise<ChangedFrame> {
    return this.change({ action: 'editmessage', seq: checkSeq(seq), message: checkMessageText(text) });
  }

  /** Deletes message `seq`: this member's own (within the edit window), or any in a room it owns. */
  async delete(seq: number): Promise<ChangedFrame> {
    return this.change({ action: 'deletemessage', seq: checkSeq(seq) });
  }

  /**
   * Pins message `seq` to the room (the room's owner only, at most CHANGE_LIMITS.pinsPerRoom, not in the lobby); every
   * member gets a `pinned` change. Pinning it twice changes nothing.
   */
  async pin(seq: number): Promise<ChangedFrame> {
    return this.change({ action: 'pinmessage', seq: checkSeq(seq) });
  }

  /** Unpins message `seq` (the room's owner only); unpinning one not pinned changes nothing. */
  async unpin(seq: number): Promise<ChangedFrame> {
    return this.change({ action: 'pinmessage', seq: checkSeq(seq), remove: true });
  }

  /** Adds this member's `reaction` (one emoji) to message `seq`; adding it twice changes nothing. */
  async react(seq: number, reaction: string): Promise<ChangedFrame> {
    return this.toggle(checkSeq(seq), checkReaction(reaction), true);
  }

  /** Takes this member's `reaction` back; taking back one it did not give changes nothing. */
  async unreact(seq: number, reaction: string): Promise<ChangedFrame> {
    return this.toggle(checkSeq(seq), checkReaction(reaction), false);
  }

  /**
   * What this member asked of `reaction` on message `seq` while that toggle is still on its way: true (give it),
   * false (take it back), or undefined when none is. A toggle button reads this before the message's `mine`, which
   * changes only when a reply arrives, so that quick clicks alternate as the person sees them rather than repeating
   * the direction of the last reply.
   */
  wanted(seq: number, reaction: string): boolean | undefined {
    const stored = reactionOf(reaction);
    return stored === undefined ? undefined : this.toggles.get(`${seq}\u0000${stored}`)?.want;
  }

  /** Reactions being sent, by message and emoji: what the member wants now, and the reply its callers await. */
  private readonly toggles = new Map<string, { want: boolean; reply: Promise<ChangedFrame> }>();

  /**
   * Rapid toggles of one reaction on one message are coalesced: while one is on its way, further clicks only change
   * what the member wants, and once it is answered the final state is sent if it differs (at most one more frame).
   * Every caller gets the reply to the last frame sent. A double click costs no reaction budget twice over.
   */
  private toggle(seq: number, reaction: string, want: boolean): Promise<ChangedFrame> {
    const key = `${seq}\u0000${reaction}`;
    const running = this.toggles.get(key);
    if (running) {
      running.want = want;
      return running.reply;
    }
    const entry = { want, reply: Promise.resolve(undefined as unknown as ChangedFrame) };
    entry.reply = (async () => {
      try {
        let sent: boolean;
        let reply: ChangedFrame;
        do {
          sent = entry.want;
          reply = await this.change({ action: 'react', seq, reaction, ...(!sent && { remove: true }) });
        } while (entry.want !== sent);
        return reply;
      } finally {
        this.toggles.delete(key);
      }
    })();
    this.toggles.set(key, entry);
    return entry.reply;
  }

  private async change(frame: AskOf<ChangeAction>): Promise<ChangedFrame> {
    // One clientMsgId for every attempt: the server applies the change once and answers a retry with its reply.
    const request = { ...frame, clientMsgId: newChangeId() };
    const reply = await retrying(() => this.send(request), CHANGE_RETRY, RETRY_CODES, this.clock);
    this.onReply(reply);
    return reply;
  }
}

/** The client events a store follows (RoomcastClient provides them). */
export interface MessageSource {
  on(event: 'message', listener: (message: MessageFrame) => void): unknown;
  on(event: 'change', listener: (change: ChangeFrame) => void): unknown;
  on(
    event: 'room',
    listener: (room: { roomId: string; pins?: Pin[]; lastSeq?: number; memberKey?: string }) => void,
  ): unknown;
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
  /** The room's pins by message seq: as the join gave them, then as `pinned` and `deleted` changes move them. */
  private readonly pinned = new Map<number, Pin>();
  private readonly listeners = new Set<() => void>();
  private roomId: string | undefined;
  /** Your key in the room: whose messages are yours (the threads you took part in). */
  private memberKey: string | undefined;
  /** Replies up to this seq are read, per thread root; a thread not here is read up to `enteredAt`. */
  private readonly threadRead = new Map<number, number>();
  /** Threads followed (true) or left (false) by `follow` here, over what taking part says. */
  private readonly followed = new Map<number, boolean>();
  /** The room's last seq when it was entered: what came before is not new. */
  private enteredAt = 0;

  constructor(source: MessageSource) {
    source.on('room', ({ roomId, pins, lastSeq, memberKey }) => {
      this.roomId = roomId;
      this.memberKey = memberKey;
      this.enteredAt = lastSeq ?? 0;
      this.threadRead.clear();
      this.followed.clear();
      this.bySeq.clear();
      this.pinned.clear();
      for (const pin of pins ?? []) this.pinned.set(pin.seq, pin);
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

  /** The room's pinned messages, oldest pin first (its message, when this store holds it, is `get(pin.seq)`). */
  pins(): Pin[] {
    return [...this.pinned.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.seq - b.seq));
  }

  get(seq: number): MessageFrame | undefined {
    return this.bySeq.get(seq);
  }

  /** The room's flow, oldest first: its messages but the replies in threads not also sent to the room. */
  flow(): MessageFrame[] {
    return this.list().filter((m) => m.threadOf === undefined || m.alsoToRoom === true);
  }

  /** The replies held of the thread of `rootSeq`, oldest first (a thread's older ones: `client.threadHistory`). */
  thread(rootSeq: number): MessageFrame[] {
    return this.list().filter((m) => m.threadOf === rootSeq);
  }

  /** Whether you follow the thread of `rootSeq`: you wrote its root or replied in it, or `follow` said so. */
  follows(rootSeq: number): boolean {
    const said = this.followed.get(rootSeq);
    if (said !== undefined) return said;
    if (this.memberKey === undefined) return false;
    const mine = (m: MessageFrame | undefined) =>
      m?.authorKey !== undefined && m.authorKey === this.memberKey;
    return mine(this.bySeq.get(rootSeq)) || this.thread(rootSeq).some(mine);
  }

  /** Records a follow or an unfollow (after `client.followThread` answered). */
  follow(rootSeq: number, following: boolean): void {
    this.followed.set(rootSeq, following);
    this.changed();
  }

  /** Replies by others in a thread you follow that came since you last read it (0 for a thread you do not follow). */
  threadUnread(rootSeq: number): number {
    if (!this.follows(rootSeq)) return 0;
    const read = this.threadRead.get(rootSeq) ?? this.enteredAt;
    return this.thread(rootSeq).filter(
      (m) => m.seq > read && !(m.authorKey !== undefined && m.authorKey === this.memberKey),
    ).length;
  }

  /** The threads you follow with unread replies: root seq and count. */
  unreadThreads(): { rootSeq: number; unread: number }[] {
    const roots = new Set(this.list().flatMap((m) => (m.threadOf === undefined ? [] : [m.threadOf])));
    return [...roots]
      .map((rootSeq) => ({ rootSeq, unread: this.threadUnread(rootSeq) }))
      .filter((t) => t.unread > 0);
  }

  /** The thread of `rootSeq` was shown: its replies held are read. */
  markThreadRead(rootSeq: number): void {
    const last = this.thread(rootSeq).at(-1)?.seq ?? 0;
    if (last > (this.threadRead.get(rootSeq) ?? 0)) {
      this.threadRead.set(rootSeq, last);
      this.changed();
    }
  }

  /** Applies a message, a change event, or the reply to this client's own change (which knows `mine`). */
  apply(event: RoomEventFrame | ChangedFrame): void {
    if (event.type === 'changed') {
      if (event.roomId === this.roomId) {
        this.put(event.message);
        this.pinsOf(event.message);
      }
    } else if (event.roomId !== this.roomId) return;
    else if (event.type === 'message') this.put(event);
    else this.change(event);
    this.changed();
  }

  /** A message as sent: kept unless the store holds a later state of it. */
  private put(message: MessageFrame): void {
    const held = this.bySeq.get(message.seq);
    if (held && (held.changeSeq ?? 0) > (message.changeSeq ?? 0)) return;
    // A root read again keeps the later of its summary and the one live replies gave it.
    const thread =
      held?.thread && held.thread.lastReplySeq > (message.thread?.lastReplySeq ?? 0)
        ? held.thread
        : message.thread;
    this.bySeq.set(message.seq, thread ? { ...message, thread } : message);
    if (message.threadOf !== undefined) this.countReply(message);
  }

  /**
   * A reply in a thread moves its root's summary on (count, last reply, participants), as the server's write on the
   * root does: once per reply, only for a reply after the last one the summary counts.
   */
  private countReply(reply: MessageFrame): void {
    const root = this.bySeq.get(reply.threadOf as number);
    if (!root || reply.seq <= (root.thread?.lastReplySeq ?? 0)) return;
    const names = root.thread?.participants ?? [];
    const participants =
      names.includes(reply.username) || names.length >= THREAD_LIMITS.participantsShown
        ? names
        : [...names, reply.username].sort();
    this.bySeq.set(root.seq, {
      ...root,
      thread: {
        replyCount: (root.thread?.replyCount ?? 0) + 1,
        lastReplyAt: reply.sentAt,
        lastReplySeq: reply.seq,
        participants,
      },
    });
  }

  /** A message's own state says whether it is pinned (a reply, or a message read again). */
  private pinsOf(message: MessageFrame): void {
    if (message.pinnedAt !== undefined)
      this.pinned.set(message.seq, { seq: message.seq, by: message.pinnedBy ?? '', at: message.pinnedAt });
    else this.pinned.delete(message.seq);
  }

  private change(event: ChangeFrame): void {
    // The pins list follows every pin event and delete, whether or not this store holds the message.
    if (event.type === 'pinned' && event.pinned)
      this.pinned.set(event.targetSeq, { seq: event.targetSeq, by: event.username, at: event.sentAt });
    else if (event.type === 'pinned' || event.type === 'deleted') this.pinned.delete(event.targetSeq);
    const held = this.bySeq.get(event.targetSeq);
    if (!held || (held.changeSeq ?? 0) >= event.seq) return;
    const next: MessageFrame = { ...held, changeSeq: event.seq };
    if (event.type === 'edited') Object.assign(next, { text: event.text, editedAt: event.sentAt });
    else if (event.type === 'deleted') {
      Object.assign(next, { text: '', deleted: event.by });
      delete next.reactions;
      delete next.editedAt;
      delete next.pinnedAt;
      delete next.pinnedBy;
    } else if (event.type === 'pinned') {
      if (event.pinned) Object.assign(next, { pinnedAt: event.sentAt, pinnedBy: event.username });
      else {
        delete next.pinnedAt;
        delete next.pinnedBy;
      }
    } else if (event.type === 'reaction') {
      const others = (held.reactions ?? []).filter((r) => r.reaction !== event.reaction);
      const before = held.reactions?.find((r) => r.reaction === event.reaction);
      const mine = before?.mine;
      const by = namedAfter(before?.by ?? [], event);
      const reactions =
        event.count > 0
          ? [
              ...others,
              {
                reaction: event.reaction,
                count: event.count,
                ...(mine && { mine }),
                ...(by.length > 0 && { by }),
              },
            ]
          : others;
      next.reactions = reactions.sort((a, b) => b.count - a.count || (a.reaction < b.reaction ? -1 : 1));
    } else event satisfies never; // every change frame of the protocol has its branch: tsc names a new one here
    this.bySeq.set(event.targetSeq, next);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

/**
 * Who a reaction names after its event, as the server names them (functions/messages/dynamoReactions.ts): a giver
 * among its first CHANGE_LIMITS.reactorsNamed (the count after it at most that) is named, a take-back unnames.
 */
function namedAfter(by: string[], event: Extract<ChangeFrame, { type: 'reaction' }>): string[] {
  const others = by.filter((name) => name !== event.username);
  const named =
    event.added && event.count <= CHANGE_LIMITS.reactorsNamed ? [...others, event.username] : others;
  return named.slice(0, Math.min(event.count, CHANGE_LIMITS.reactorsNamed)).sort();
}
