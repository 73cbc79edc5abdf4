import type { RoomcastClient, SocketFactory } from '@roomcast/client';
import { createRoomcastClient, RoomcastError } from '@roomcast/client';
import WebSocket from 'ws';
import { REPLY_TYPE as PROTOCOL_REPLY_TYPE } from '#protocol';

/** A frame as the server sent it: parsed JSON, or `{ raw }` for text that is not a JSON object. */
export type Frame = Record<string, unknown> & { type?: string };
export type FramePredicate = (frame: Frame) => boolean;

/**
 * How long a test waits for a frame that must come: well past the gateway's 29 s integration timeout, within which
 * the local gateway answers every request (its reply, or `Endpoint request timed out`; at a load of 50 its timer and
 * the test's can each run seconds late), so no reply that can still come is given up on however loaded the machine is (a cold Lambda sandbox and a fan-out in a local cloud on a 2-core
 * machine that runs several test files at once, each with its own cloud, and other work besides). How fast frames
 * come is the benchmark's to measure; this only bounds how long a missing frame takes to fail a test.
 */
export const FRAME_TIMEOUT_MS = 90_000;

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

/** `ws` without per-message deflate (API Gateway offers none): the class the client library opens its socket with. */
class WireSocket extends WebSocket {
  constructor(url: string) {
    super(url, { perMessageDeflate: false });
  }
}

interface Waiter {
  predicate: FramePredicate;
  resolve: (frame: Frame) => void;
  /** The connection closed first: no frame can come any more (a lean connection never reconnects). */
  closed: (code: number) => void;
}

/** Numbers the `requestId`s `ask` adds, unique within the test file's process. */
let askCount = 0;

/** The reply frame type of each action (protocol/); anything else is answered by `$default`. */
const REPLY_TYPE: Record<string, string> = PROTOCOL_REPLY_TYPE;

/** True for the frame API Gateway itself sends when an integration fails: `{"message": "Internal server error", ...}`. */
export const isGatewayError: FramePredicate = (f) =>
  f.type === undefined && typeof f.message === 'string' && typeof f.requestId === 'string';

/**
 * The messages a frame carries: a `message` frame itself, each message of a `batch` frame (a busy room's messages
 * in one post), none for any other frame. A delivery count goes through this so a batch counts each message once.
 */
export function messagesIn(frame: Frame): Frame[] {
  if (frame.type === 'message') return [frame];
  if (frame.type !== 'batch' || !Array.isArray(frame.messages)) return [];
  return frame.messages.filter((m): m is Frame => typeof m === 'object' && m !== null && !Array.isArray(m));
}

/** Matches a `message` frame, or a message inside a `batch` frame (`next()` offers those one by one). */
export const isMessage =
  (roomId: string, text?: string): FramePredicate =>
  (f) =>
    f.type === 'message' && f.roomId === roomId && (text === undefined || f.text === text);

/**
 * The `presence` frames a `memberschanged` frame stands for (one fan-out cycle's joins and leaves in one post), in
 * order; `next()` offers them after the frame itself, so a test waiting for a presence gets it however it came.
 */
export function presenceIn(frame: Frame): Frame[] {
  if (frame.type !== 'memberschanged' || !Array.isArray(frame.changes)) return [];
  return (frame.changes as Frame[]).map((change) => ({ ...change, type: 'presence', roomId: frame.roomId }));
}

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
 * A chat client for end-to-end tests: it records every frame and lets a test wait for the next one that matches,
 * without sleeping. Each frame is handed to at most one `next()`, so a test can await frames that already arrived as
 * well as frames still on their way. A `batch` frame is offered to `next()` itself and then each message in it,
 * so a test that waits for a message gets it whether it came alone or in a batch (a `memberschanged` frame likewise
 * each of its presence changes). It sends frames as given, hostile ones too: a thin layer over the client
 * library in lean mode (no automatic frame of its own) and its wire-level seam (`sendRaw`, the `frame` and `close`
 * events, `terminate`), so the library opens the socket.
 */
export class ChatClient {
  /** Every frame received, as the server sent it, in arrival order. */
  readonly frames: Frame[] = [];
  /** What `next()` offers: every frame, each batch followed by the messages in it. */
  private readonly offered: Frame[] = [];
  /** Resolves when the socket has closed, with the close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly taken = new Set<number>();
  private readonly waiters = new Set<Waiter>();
  private readonly listeners = new Set<(frame: Frame) => void>();
  private cachedConnectionId: string | undefined;

  private constructor(
    private readonly chat: RoomcastClient,
    readonly username: string,
  ) {
    chat.on('frame', ({ raw, frame }) => this.receive(frame ?? { raw }));
    this.closed = new Promise((resolve) => {
      const off = chat.on('close', (closed) => {
        off();
        // Whoever still waits for a frame is told now, rather than when its timer runs out (a timer left running
        // would keep the test process alive that long after the last test).
        for (const waiter of this.waiters) waiter.closed(closed.code);
        this.waiters.clear();
        resolve(closed);
      });
    });
  }

  /**
   * Opens a connection (with `?username=` when given); rejects with HandshakeRefused on a refused handshake. A 5xx
   * is tried again, twice at most, as a client reconnects: a 504 (the gateway's 29 s integration timeout: on a
   * machine running two CI runs, $connect's function can wait that long for an environment, which on AWS would start
   * at once) or a 500 (the authorizer failed: a busy machine can hold the local issuer's JWKS past its fetch timeout).
   * The gateway never starts an invocation whose caller has gone, so nothing is connected twice.
   * `resumeToken`: the scope of this client's clientMsgIds, kept by an app across its restarts (docs/PROTOCOL.md).
   */
  static async connect(
    url: string,
    username?: string,
    timeoutMs = FRAME_TIMEOUT_MS,
    options: { resumeToken?: string } = {},
  ): Promise<ChatClient> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await ChatClient.connectOnce(url, username, timeoutMs, options);
      } catch (error) {
        if (!(error instanceof HandshakeRefused && error.status >= 500 && attempt < 3)) throw error;
      }
    }
  }

  private static async connectOnce(
    url: string,
    username: string | undefined,
    timeoutMs: number,
    options: { resumeToken?: string },
  ): Promise<ChatClient> {
    const target = username === undefined ? url : `${url}?username=${encodeURIComponent(username)}`;
    const chat = createRoomcastClient({
      url: target,
      ...(options.resumeToken !== undefined && { resumeToken: options.resumeToken }),
      // `ws` types its handlers' events more narrowly than SocketLike's `unknown`; at run time they fit.
      WebSocket: WireSocket as unknown as SocketFactory,
      lean: true,
      requestTimeoutMs: timeoutMs,
    });
    const client = new ChatClient(chat, username ?? '');
    try {
      await chat.ready(timeoutMs);
    } catch (error) {
      chat.terminate();
      if (error instanceof RoomcastError && error.code === 'HANDSHAKE_REFUSED') {
        throw new HandshakeRefused(error.details.status ?? 0, error.details.body ?? '');
      }
      throw new Error(`connect to ${target} failed: ${(error as Error).message}`);
    }
    return client;
  }

  /**
   * Sends a frame: a string as it is, anything else as JSON. `maxFrameBytes` splits a longer message into frames
   * of at most that many bytes, as API Gateway requires of messages over 32 KB.
   */
  send(frame: unknown, options: { maxFrameBytes?: number } = {}): void {
    this.chat.sendRaw(typeof frame === 'string' ? frame : JSON.stringify(frame), options);
  }

  /** Calls `listener` with every frame as it arrives, after it was recorded; returns the function that stops it. */
  onFrame(listener: (frame: Frame) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The first frame not yet handed out that matches, waiting up to `timeoutMs` for it. */
  next(predicate: FramePredicate, timeoutMs = FRAME_TIMEOUT_MS, what = 'a matching frame'): Promise<Frame> {
    return this.nextFrom(0, predicate, timeoutMs, what);
  }

  /** As `next`, among the frames offered from position `from` on (`offered.length` then: only frames yet to come). */
  private nextFrom(from: number, predicate: FramePredicate, timeoutMs: number, what: string): Promise<Frame> {
    const index = this.offered.findIndex((f, i) => i >= from && !this.taken.has(i) && predicate(f));
    if (index !== -1) {
      this.taken.add(index);
      return Promise.resolve(this.offered[index] as Frame);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
        closed: (code) => {
          clearTimeout(timer);
          reject(
            new Error(
              `${this.name()} was closed (${code}) before ${what}; frames seen:\n${describe(this.frames)}`,
            ),
          );
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

  /**
   * Sends an action and waits for its reply: the action's reply frame, its error frame, or the gateway's, among the
   * frames that arrive after it was sent. An earlier frame cannot answer it, and the gateway's frames name no request
   * of ours: an `Endpoint request timed out` left from an earlier send on this connection is not this reply.
   */
  async ask(frame: Record<string, unknown>, timeoutMs = FRAME_TIMEOUT_MS): Promise<Frame> {
    const action = String(frame.action ?? '');
    const replyType = REPLY_TYPE[action] ?? 'info';
    const errorAction = replyType === 'info' ? '$default' : action;
    // A route's reply echoes the request's `requestId` (protocol/envelope.ts), and a room's broadcast carries none: a
    // `keyrotated` fanned out from the owner's rotation cannot be taken for the reply to this connection's own.
    const requestId = typeof frame.requestId === 'string' ? frame.requestId : `ask-${++askCount}`;
    const sentAt = this.offered.length;
    this.send(replyType === 'info' ? frame : { ...frame, requestId });
    return this.nextFrom(
      sentAt,
      replyType === 'info'
        ? (f) => f.type === replyType || (f.type === 'error' && f.action === errorAction) || isGatewayError(f)
        : (f) =>
            (f.requestId === requestId && (f.type === replyType || f.type === 'error')) || isGatewayError(f),
      timeoutMs,
      `the reply to ${action || 'a frame without action'}`,
    );
  }

  /**
   * Sends an action and returns its reply, failing with the frame when the reply is an error. A `BUSY` answer (the
   * product's retryable "a limit met for now": on a loaded machine, most often the route's deadline) is asked again
   * after a pause, up to five times, as the client library and the web app do (client/session.ts JOIN_RETRY); a
   * BUSY send is not stored (its seq is given up), so asking again sends it once. A test of BUSY itself uses `ask`.
   */
  async expectReply(frame: Record<string, unknown>, timeoutMs = FRAME_TIMEOUT_MS): Promise<Frame> {
    for (let attempt = 1; ; attempt++) {
      const reply = await this.ask(frame, timeoutMs);
      if (reply.type === 'error' && reply.code === 'BUSY' && attempt < 5) {
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
        continue;
      }
      if (reply.type === 'error' || isGatewayError(reply))
        throw new Error(`${this.name()}: ${JSON.stringify(frame)} was answered ${JSON.stringify(reply)}`);
      return reply;
    }
  }

  /** The connection id the server knows this client by (from the `$default` info frame). */
  async connectionId(): Promise<string> {
    if (this.cachedConnectionId === undefined) {
      const info = await this.expectReply({ action: 'help' });
      this.cachedConnectionId = String(info.connectionId);
    }
    return this.cachedConnectionId;
  }

  /** The messages received for a room, alone or in batches, in arrival order. */
  messages(roomId: string): Frame[] {
    return this.frames.flatMap(messagesIn).filter((f) => f.roomId === roomId);
  }

  /** The seqs of the messages received for a room, in arrival order. */
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
    return this.chat.connected;
  }

  /** Closes the socket (a normal close, so the gateway runs `$disconnect`) and waits until it is closed. */
  async close(code = 1000, reason = 'bye'): Promise<void> {
    this.chat.close(code, reason);
    await this.closed;
  }

  /** Drops the connection without a closing handshake, as a lost network would (also cuts a slow close short). */
  terminate(): void {
    this.chat.terminate();
  }

  private name(): string {
    return this.username ? `client ${this.username}` : 'client';
  }

  private receive(frame: Frame): void {
    this.frames.push(frame);
    for (const listener of this.listeners) listener(frame);
    this.offer(frame);
    if (frame.type === 'batch') for (const message of messagesIn(frame)) this.offer(message);
    if (frame.type === 'memberschanged') for (const change of presenceIn(frame)) this.offer(change);
  }

  /** Hands a frame to the first waiter it matches, or keeps it for a later `next()`. */
  private offer(frame: Frame): void {
    const index = this.offered.push(frame) - 1;
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

/**
 * Connects one guest per name, the first creating a room and the others joining it one by one, each join seen by
 * everyone already in before the next, so what a test does next starts from a settled room. Every client is pushed
 * to `open` for the test's teardown.
 */
export async function settledRoom(
  wsUrl: string,
  names: string[],
  open: ChatClient[],
  patienceMs: number,
): Promise<{ roomId: string; members: ChatClient[] }> {
  const members: ChatClient[] = [];
  for (const name of names) {
    const client = await ChatClient.connect(wsUrl, name, patienceMs);
    open.push(client);
    members.push(client);
  }
  const [owner, ...others] = members as [ChatClient, ...ChatClient[]];
  const roomId = (await owner.expectReply({ action: 'createroom' }, patienceMs)).roomId as string;
  for (const [i, client] of others.entries()) {
    await client.expectReply({ action: 'joinroom', roomId }, patienceMs);
    await Promise.all(
      members.slice(0, i + 2).map((m) => m.next(isPresence(roomId, 'join', client.username), patienceMs)),
    );
  }
  return { roomId, members };
}

/** The reply to a frame, or undefined when the connection closes first (its last reply may be cut off). */
export const askOrClosed = (client: ChatClient, frame: Record<string, unknown>): Promise<Frame | undefined> =>
  Promise.race([client.ask(frame).catch(() => undefined), client.closed.then(() => undefined)]);
