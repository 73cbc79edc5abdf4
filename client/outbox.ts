import type { AckFrame, Attachment } from '../protocol';
import { LOBBY } from '../protocol';
import type { BackoffPolicy } from './backoff';
import { fullJitterDelay } from './backoff';
import { RoomcastError } from './errors';

interface OutboxEntry {
  clientMsgId: string;
  roomId: string;
  text: string;
  /** The seq of the message this one replies to. */
  replyTo?: number;
  /** Uploaded images it carries. */
  attachments?: Attachment[];
  /** A reply in the thread of this seq, and whether the room's flow shows it too. */
  thread?: { threadOf: number; alsoToRoom?: boolean };
  attempts: number;
  inFlight: boolean;
  timer?: ReturnType<typeof setTimeout>;
  resolve: (ack: AckFrame) => void;
  reject: (error: RoomcastError) => void;
}

export interface OutboxConfig {
  /** Messages kept at most; more are refused with OUTBOX_FULL. */
  limit: number;
  /** Attempts per message before it is rejected. */
  maxAttempts: number;
  /** How long one attempt waits for its ack. */
  timeoutMs: number;
  backoff: BackoffPolicy;
  random: () => number;
  newId: () => string;
  /** Sends a frame now; throws (DISCONNECTED) when it cannot. */
  write: (frame: Record<string, unknown>) => void;
  /** True while messages may go out (the connection is ready). */
  canSend: () => boolean;
  /**
   * One message in flight at a time, in the order written: the server numbers a room's messages in the order their
   * sends commit, so two sends in flight together could land in either order. Load tools that pipeline on purpose
   * (lean clients) turn it off.
   */
  inOrder?: boolean;
}

/**
 * Errors after which the same clientMsgId may be sent again: BUSY (a limit met for now: the server's deadline,
 * DynamoDB throttling), INTERNAL, RATE_LIMITED, no ack in time, the gateway's own error.
 */
const RETRYABLE = new Set(['BUSY', 'INTERNAL', 'RATE_LIMITED', 'TIMEOUT', 'GATEWAY_ERROR']);

/**
 * Messages written but not yet acknowledged. Each keeps one clientMsgId for all its attempts, so the server stores
 * it once however often it is sent; a retryable failure sends it again after a full-jitter delay, a disconnect keeps
 * it for the next connection (an attempt cut short by the disconnect does not count), anything else rejects it.
 */
export class Outbox {
  private readonly entries = new Map<string, OutboxEntry>();

  constructor(private readonly config: OutboxConfig) {}

  get size(): number {
    return this.entries.size;
  }

  /** Takes a message for `roomId`; sends it at once when the connection is ready. Resolves with its ack. */
  add(
    roomId: string,
    text: string,
    replyTo?: number,
    attachments?: Attachment[],
    thread?: { threadOf: number; alsoToRoom?: boolean },
  ): Promise<AckFrame> {
    if (this.entries.size >= this.config.limit) {
      return Promise.reject(
        new RoomcastError('OUTBOX_FULL', `${this.entries.size} messages are waiting to be sent already.`),
      );
    }
    return new Promise((resolve, reject) => {
      const entry: OutboxEntry = {
        clientMsgId: this.config.newId(),
        roomId,
        text,
        ...(replyTo !== undefined && { replyTo }),
        ...(attachments !== undefined && { attachments }),
        ...(thread !== undefined && { thread }),
        attempts: 0,
        inFlight: false,
        resolve,
        reject,
      };
      this.entries.set(entry.clientMsgId, entry);
      if (this.config.canSend() && (!this.config.inOrder || this.entries.size === 1)) this.transmit(entry);
    });
  }

  /** An ack: resolves the message it names; false when no message of this outbox has its clientMsgId. */
  ack(ack: AckFrame): boolean {
    const entry = ack.clientMsgId === undefined ? undefined : this.entries.get(ack.clientMsgId);
    if (entry === undefined) return false;
    clearTimeout(entry.timer);
    this.entries.delete(entry.clientMsgId);
    entry.resolve(ack);
    this.sendNext();
    return true;
  }

  /** An error frame naming a message: retried when retryable, else rejected; false when it names none of ours. */
  refused(clientMsgId: string | undefined, error: RoomcastError): boolean {
    const entry = clientMsgId === undefined ? undefined : this.entries.get(clientMsgId);
    if (entry === undefined) return false;
    clearTimeout(entry.timer);
    entry.inFlight = false;
    this.retry(entry, error);
    return true;
  }

  /**
   * Sends what waits, now that the connection is ready showing `roomId`; a message written in a room the connection
   * no longer follows (`follows`) is rejected with ROOM_CHANGED (it was meant for people who are not here).
   */
  flush(roomId: string, follows: (roomId: string) => boolean = () => false): void {
    for (const entry of [...this.entries.values()]) {
      if (entry.roomId !== roomId && !follows(entry.roomId)) {
        this.entries.delete(entry.clientMsgId);
        entry.reject(
          new RoomcastError(
            'ROOM_CHANGED',
            `The message was written in ${entry.roomId}; you are in ${roomId}.`,
            {
              clientMsgId: entry.clientMsgId,
            },
          ),
        );
      } else if (!entry.inFlight && !this.config.inOrder) {
        this.transmit(entry);
      }
    }
    if (this.config.inOrder) {
      const first = this.entries.values().next().value;
      if (first !== undefined && !first.inFlight) this.transmit(first);
    }
  }

  /** In order: the next message goes out once the one before it is answered (acked or given up). */
  private sendNext(): void {
    if (!this.config.inOrder || !this.config.canSend()) return;
    const first = this.entries.values().next().value;
    if (first !== undefined && first.attempts === 0) this.transmit(first);
  }

  /** The connection closed: attempts under way got no answer either way and do not count; all wait for the next. */
  disconnected(): void {
    for (const entry of this.entries.values()) {
      clearTimeout(entry.timer);
      if (entry.inFlight) entry.attempts -= 1;
      entry.inFlight = false;
    }
  }

  /** Rejects every message with `error` (the client was closed, or a lean client lost its connection). */
  rejectAll(error: RoomcastError): void {
    for (const entry of this.entries.values()) {
      clearTimeout(entry.timer);
      entry.reject(error);
    }
    this.entries.clear();
  }

  private transmit(entry: OutboxEntry): void {
    if (entry.inFlight) return;
    entry.attempts += 1;
    entry.inFlight = true;
    try {
      this.config.write({
        action: 'sendmessage',
        // Named, so it reaches its room whichever followed room the connection shows (the lobby is never named).
        ...(entry.roomId !== LOBBY && { roomId: entry.roomId }),
        message: entry.text,
        clientMsgId: entry.clientMsgId,
        ...(entry.replyTo !== undefined && { replyTo: entry.replyTo }),
        ...(entry.attachments !== undefined && { attachments: entry.attachments }),
        ...(entry.thread !== undefined && { threadOf: entry.thread.threadOf }),
        ...(entry.thread?.alsoToRoom === true && { alsoToRoom: true }),
      });
    } catch {
      entry.inFlight = false;
      return; // flushed again once the connection is back
    }
    entry.timer = setTimeout(() => {
      entry.inFlight = false;
      this.retry(
        entry,
        new RoomcastError('TIMEOUT', `No ack within ${this.config.timeoutMs} ms.`, {
          action: 'sendmessage',
          clientMsgId: entry.clientMsgId,
        }),
      );
    }, this.config.timeoutMs);
  }

  /** Sends again with the same clientMsgId after a retryable failure, with backoff; else rejects. */
  private retry(entry: OutboxEntry, error: RoomcastError): void {
    if (!RETRYABLE.has(error.code) || entry.attempts >= this.config.maxAttempts) {
      this.entries.delete(entry.clientMsgId);
      entry.reject(error);
      this.sendNext();
      return;
    }
    const delay = fullJitterDelay(this.config.backoff, entry.attempts, this.config.random);
    entry.timer = setTimeout(() => {
      if (this.entries.get(entry.clientMsgId) === entry && this.config.canSend()) this.transmit(entry);
    }, delay);
  }
}
