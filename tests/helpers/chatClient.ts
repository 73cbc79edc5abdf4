import WebSocket from 'ws';
import { REPLY_TYPE as PROTOCOL_REPLY_TYPE } from '../../protocol';

/** A frame as the server sent it: parsed JSON, or `{ raw }` for text that is not a JSON object. */
export type Frame = Record<string, unknown> & { type?: string };
export type FramePredicate = (frame: Frame) => boolean;

/** A few seconds per frame: enough for a cold Lambda sandbox and a fan-out on a busy 2-core machine. */
export const FRAME_TIMEOUT_MS = 8000;

/** The gateway refused the WebSocket handshake, e.g. because `$connect` answered 400. */
export class HandshakeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`handshake refused with HTTP ${status}: ${body}`);
    this.name = 'HandshakeRefused';
  }
}

interface Waiter {
  predicate: FramePredicate;
  resolve: (frame: Frame) => void;
}

/** The reply frame type of each action (protocol/); anything else is answered by `$default`. */
const REPLY_TYPE: Record<string, string> = PROTOCOL_REPLY_TYPE;

/** True for the frame API Gateway itself sends when an integration fails: `{"message": "Internal server error", ...}`. */
export const isGatewayError: FramePredicate = (f) =>
  f.type === undefined && typeof f.message === 'string' && typeof f.requestId === 'string';

export const isMessage =
  (roomId: string, text?: string): FramePredicate =>
  (f) =>
    f.type === 'message' && f.roomId === roomId && (text === undefined || f.text === text);

export const isPresence =
  (roomId: string, event: 'join' | 'leave', username: string): FramePredicate =>
  (f) =>
    f.type === 'presence' && f.roomId === roomId && f.event === event && f.username === username;

export const isError =
  (code: string, action?: string): FramePredicate =>
  (f) =>
    f.type === 'error' && f.code === code && (action === undefined || f.action === action);

function describe(frames: readonly Frame[]): string {
  if (frames.length === 0) return '(none)';
  return frames
    .map((f, i) => {
      const text = JSON.stringify(f);
      return `  #${i} ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`;
    })
    .join('\n');
}

/**
 * A chat client over `ws` for end-to-end tests: it records every frame and lets a test wait for the next one that
 * matches, without sleeping. Each frame is handed to at most one `next()`, so a test can await frames that already
 * arrived as well as frames still on their way.
 */
export class ChatClient {
  /** Every frame received, in arrival order. */
  readonly frames: Frame[] = [];
  /** Resolves when the socket has closed, with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly taken = new Set<number>();
  private readonly waiters = new Set<Waiter>();
  private cachedConnectionId: string | undefined;

  private constructor(
    readonly socket: WebSocket,
    readonly username: string,
  ) {
    socket.on('message', (data: Buffer) => this.receive(data.toString('utf8')));
    this.closed = new Promise((resolve) =>
      socket.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })),
    );
  }

  /** Opens a connection (with `?username=` when given); rejects with HandshakeRefused on a refused handshake. */
  static connect(url: string, username?: string, timeoutMs = FRAME_TIMEOUT_MS): Promise<ChatClient> {
    const target = username === undefined ? url : `${url}?username=${encodeURIComponent(username)}`;
    const socket = new WebSocket(target, { perMessageDeflate: false });
    const client = new ChatClient(socket, username ?? '');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`connect to ${target} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('open', () => {
        clearTimeout(timer);
        resolve(client);
      });
      socket.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          reject(new HandshakeRefused(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
        });
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Sends a frame: a string as it is, anything else as JSON. */
  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame not yet handed out that matches, waiting up to `timeoutMs` for it. */
  next(predicate: FramePredicate, timeoutMs = FRAME_TIMEOUT_MS, what = 'a matching frame'): Promise<Frame> {
    const index = this.frames.findIndex((f, i) => !this.taken.has(i) && predicate(f));
    if (index !== -1) {
      this.taken.add(index);
      return Promise.resolve(this.frames[index] as Frame);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `${this.name()} waited ${timeoutMs} ms for ${what}; frames seen:\n${describe(this.frames)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Sends an action and waits for its reply: the action's reply frame, its error frame, or the gateway's. */
  async ask(frame: Record<string, unknown>, timeoutMs = FRAME_TIMEOUT_MS): Promise<Frame> {
    const action = String(frame.action ?? '');
    const replyType = REPLY_TYPE[action] ?? 'info';
    const errorAction = replyType === 'info' ? '$default' : action;
    this.send(frame);
    return this.next(
      (f) => f.type === replyType || (f.type === 'error' && f.action === errorAction) || isGatewayError(f),
      timeoutMs,
      `the reply to ${action || 'a frame without action'}`,
    );
  }

  /** Sends an action and returns its reply, failing with the frame when the reply is an error. */
  async expectReply(frame: Record<string, unknown>, timeoutMs = FRAME_TIMEOUT_MS): Promise<Frame> {
    const reply = await this.ask(frame, timeoutMs);
    if (reply.type === 'error' || isGatewayError(reply)) {
      throw new Error(`${this.name()}: ${JSON.stringify(frame)} was answered ${JSON.stringify(reply)}`);
    }
    return reply;
  }

  /** The connection id the server knows this client by (from the `$default` info frame). */
  async connectionId(): Promise<string> {
    if (this.cachedConnectionId === undefined) {
      const info = await this.expectReply({ action: 'help' });
      this.cachedConnectionId = String(info.connectionId);
    }
    return this.cachedConnectionId;
  }

  /** The `message` frames received for a room, in arrival order. */
  messages(roomId: string): Frame[] {
    return this.frames.filter((f) => f.type === 'message' && f.roomId === roomId);
  }

  /** The seqs of the `message` frames received for a room, in arrival order. */
  seqs(roomId: string): number[] {
    return this.messages(roomId).map((f) => f.seq as number);
  }

  /** A position in `frames`, to look at what arrived after it with `since()`. */
  mark(): number {
    return this.frames.length;
  }

  since(mark: number): Frame[] {
    return this.frames.slice(mark);
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Closes the socket (a normal close, so the gateway runs `$disconnect`) and waits until it is closed. */
  async close(code = 1000, reason = 'bye'): Promise<void> {
    if (this.socket.readyState === WebSocket.CONNECTING || this.socket.readyState === WebSocket.OPEN) {
      this.socket.close(code, reason);
    }
    await this.closed;
  }

  private name(): string {
    return this.username ? `client ${this.username}` : 'client';
  }

  private receive(text: string): void {
    let frame: Frame;
    try {
      const parsed: unknown = JSON.parse(text);
      frame =
        typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
          ? (parsed as Frame)
          : { raw: text };
    } catch {
      frame = { raw: text };
    }
    const index = this.frames.push(frame) - 1;
    for (const waiter of this.waiters) {
      if (waiter.predicate(frame)) {
        this.waiters.delete(waiter);
        this.taken.add(index);
        waiter.resolve(frame);
        return;
      }
    }
  }
}
