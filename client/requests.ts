import type { Action, AskOf, ReplyOf } from '../protocol';
import { RoomcastError } from './errors';

/**
 * Sends a request and resolves with its reply, both typed by its action from protocol/ (protocol/index.ts): a
 * request with a field its action does not take, or a reply read as another frame, fails `tsc`.
 */
export type Requester = <A extends Action>(frame: { action: A } & AskOf<A>) => Promise<ReplyOf<A>>;

interface Pending {
  resolve: (frame: Record<string, unknown>) => void;
  reject: (error: RoomcastError) => void;
  timer: ReturnType<typeof setTimeout>;
  action: string;
}

/**
 * Requests waiting for their answer: each goes out with a fresh requestId and is settled by the frame that names it
 * (a reply or an error frame), by its timeout, or by the connection closing under it.
 */
export class Requests {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly timeoutMs: number,
    private readonly newId: () => string,
    /** Sends a frame now; throws (DISCONNECTED) when it cannot. */
    private readonly write: (frame: Record<string, unknown>) => void,
  ) {}

  /** Requests waiting for an answer. */
  get size(): number {
    return this.pending.size;
  }

  /** Sends a request now and resolves with its reply (the frame that names its requestId); rejects with TIMEOUT. */
  readonly send: Requester = (frame) =>
    // The reply is the frame the server sent for this requestId: the protocol's reply to the action.
    this.sendFrame(frame as Record<string, unknown>) as Promise<unknown> as Promise<
      ReplyOf<typeof frame.action>
    >;

  /** `send` for a frame no action names (`{"action":"info"}`, answered by `$default`): its answer untyped. */
  sendFrame(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const requestId = this.newId();
    const action = String(frame.action);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(
          new RoomcastError('TIMEOUT', `No answer to ${action} within ${this.timeoutMs} ms.`, {
            action,
            requestId,
          }),
        );
      }, this.timeoutMs);
      this.pending.set(requestId, { resolve, reject, timer, action });
      try {
        this.write({ ...frame, requestId });
      } catch (error) {
        clearTimeout(timer);
        this.pending.delete(requestId);
        reject(error);
      }
    });
  }

  /** Settles the request a reply names; false when none waits for it (a late answer, or not an answer). */
  answer(frame: Record<string, unknown>): boolean {
    const pending = this.take(frame.requestId);
    pending?.resolve(frame);
    return pending !== undefined;
  }

  /** Rejects the request an error frame names; false when none waits for it. */
  reject(requestId: string | undefined, error: RoomcastError): boolean {
    const pending = this.take(requestId);
    pending?.reject(error);
    return pending !== undefined;
  }

  /** Rejects every waiting request with `error`'s code and message, each naming its own action and requestId. */
  failAll(error: RoomcastError): void {
    for (const [requestId, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new RoomcastError(error.code, error.message, { action: pending.action, requestId }));
    }
    this.pending.clear();
  }

  private take(requestId: unknown): Pending | undefined {
    if (typeof requestId !== 'string') return undefined;
    const pending = this.pending.get(requestId);
    if (pending === undefined) return undefined;
    this.pending.delete(requestId);
    clearTimeout(pending.timer);
    return pending;
  }
}
