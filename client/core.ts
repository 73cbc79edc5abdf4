import type { AckFrame, JoinedFrame, LeftFrame, RoomEventFrame } from '../protocol';
import { GATEWAY, LIMITS, utf8Bytes } from '../protocol';
import type { BackoffPolicy } from './backoff';
import { DEFAULT_BACKOFF } from './backoff';
import { Connection } from './connection';
import { Emitter } from './emitter';
import { RoomcastError } from './errors';
import { MemberRooms } from './members';
import { Outbox } from './outbox';
import { Requests } from './requests';
import { RoomWrites } from './roomWrites';
import { routeText } from './router';
import { RoomSession } from './session';
import type {
  ConnectionState,
  RoomcastClientOptions,
  RoomcastEvents,
  SendOptions,
  SessionEvents,
  SocketLike,
  StateChange,
} from './types';
import { Typing } from './typing';
import { checkRoomId, resumeTokenOf, socketOf } from './validate';

/**
 * The connection's side of RoomcastClient (client/roomcast.ts adds the app's requests): the state, the lifecycle
 * (connect, ready, close), the room on screen and sending, and the front of four parts: the connection manager
 * (client/connection.ts: socket, keepalive, backoff, the 2-hour recycle), the requests waiting for replies
 * (client/requests.ts), the room session (client/session.ts: join with key, resume, history fill, sequencer), the
 * outbox (client/outbox.ts) and the writes into followed rooms (client/roomWrites.ts). It owns the public state; client/router.ts hands each frame to the part it concerns.
 */
export class ClientCore extends Emitter<RoomcastEvents> {
  private readonly requestTimeoutMs: number;
  private readonly lean: boolean;
  private current: ConnectionState = 'idle';
  private nextId = 0;
  private readonly idPrefix: string;
  private readyWaiters: Array<{ resolve: () => void; reject: (error: RoomcastError) => void }> = [];
  private readonly connection: Connection;
  /** @internal RoomcastClient's requests use them; not in the package's declarations. */
  protected readonly requests: Requests;
  /** @internal */
  protected readonly session: RoomSession;
  private readonly outbox: Outbox;
  readonly typing: Typing;
  /** Messages, changes and typing into any followed room (client/roomWrites.ts). */
  private readonly writes: RoomWrites;
  readonly rooms: MemberRooms; // read positions, "my rooms" and direct messages (client/members.ts)

  constructor(options: RoomcastClientOptions) {
    super();
    const random = options.random ?? Math.random;
    const backoff: BackoffPolicy = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.lean = options.lean ?? false;
    this.idPrefix = Math.floor(random() * 36 ** 6)
      .toString(36)
      .padStart(6, '0');
    const write = (frame: Record<string, unknown>) => this.connection.send(JSON.stringify(frame));
    this.connection = this.connectionOf(options, backoff, random);
    this.requests = new Requests(this.requestTimeoutMs, () => this.newId('r'), write);
    this.session = this.sessionOf(options);
    this.outbox = new Outbox({
      limit: options.outboxLimit ?? 100,
      maxAttempts: options.maxSendAttempts ?? 5,
      timeoutMs: this.requestTimeoutMs,
      backoff,
      random,
      newId: () => this.newId('m'),
      write,
      canSend: () => this.current === 'ready',
      inOrder: !this.lean,
    });
    this.typing = new Typing(this, options.typingHeartbeatMs);
    this.writes = new RoomWrites({
      outbox: this.outbox,
      typing: this.typing,
      state: () => this.current,
      shown: () => this.session.roomId,
      change: (roomId) => (frame) => this.acrossReconnects(() => this.requests.send({ ...frame, roomId })),
      changed: (reply) => this.emit('changed', reply),
      write: (text) => this.connection.send(text),
    });
    this.rooms = this.roomsOf(options);
    if (options.autoConnect !== false) this.connect();
  }

  /** The connection manager, its events moving the client's state. */
  private connectionOf(
    options: RoomcastClientOptions,
    backoff: BackoffPolicy,
    random: () => number,
  ): Connection {
    return new Connection(
      {
        url: options.url,
        username: options.username,
        resume: resumeTokenOf(options),
        token: options.token,
        getToken: options.getToken,
        Socket: socketOf(options),
        keepaliveMs: options.keepaliveMs ?? GATEWAY.idleTimeoutMs - 60_000,
        maxConnectionMs: options.maxConnectionMs ?? GATEWAY.maxConnectionMs - 5 * 60_000,
        timeoutMs: this.requestTimeoutMs,
        backoff,
        random,
        lean: this.lean,
      },
      {
        connecting: () => this.setState({ state: 'connecting' }),
        open: (socket) => void this.onOpen(socket),
        text: (text) =>
          routeText(text, {
            emit: (event, value) => this.emit(event, value),
            session: this.session,
            outbox: this.outbox,
            requests: this.requests,
            pong: () => this.connection.pong(),
          }),
        closed: (code, reason, error) => this.onClosed(code, reason, error),
        reconnecting: (attempt, delayMs, reason) =>
          this.setState({ state: 'reconnecting', attempt, delayMs, reason }),
        failed: (error) => this.setState({ state: 'failed', reason: error.message, error }),
        error: (error) => this.emit('error', error),
        closedByApp: (code, reason) => this.emit('close', { code, reason }),
      },
    );
  }

  /** The room session; the events of a followed room not on screen go to its room object. */
  private sessionOf(options: RoomcastClientOptions): RoomSession {
    return new RoomSession(
      {
        request: (frame) => this.requests.send(frame),
        emit: (event, value) => {
          // A followed room not on screen: its room object's events only (client.rooms.get(id)).
          if (event === 'otherroom') {
            const other = value as SessionEvents['otherroom'];
            this.rooms.elsewhere(other.roomId, other.events);
            return;
          }
          this.emit(event as keyof RoomcastEvents, value as never);
          // Lean (load tools): no room objects, every message is the client's own event only.
          if (!this.lean && (event === 'message' || event === 'change'))
            this.rooms.shownEvent(value as RoomEventFrame);
        },
      },
      {
        lean: this.lean,
        initialHistory: Math.min(
          LIMITS.historyMax,
          Math.max(1, options.initialHistory ?? LIMITS.historyDefault),
        ),
      },
    );
  }

  /** The rooms followed: their requests wait for the client to be ready; actions in them name the room. */
  private roomsOf(options: RoomcastClientOptions): MemberRooms {
    return new MemberRooms(this, options, {
      request: (frame) => this.acrossReconnects(() => this.requests.send(frame)),
      join: (frame) => this.acrossReconnects(() => this.session.requestJoin(undefined, undefined, frame)),
      entered: (joined) => this.session.enter(joined),
      roomId: () => this.session.roomId,
      requestNow: (frame) => this.requests.send(frame),
      send: (roomId, text, sendOptions) => this.writes.sendTo(roomId, text, sendOptions),
      changes: (roomId) => this.writes.changesIn(roomId),
      typing: (roomId, typing) => this.writes.typeIn(roomId, typing),
      leaveShown: () => this.leave(),
      error: (error) => this.emit('error', error),
    });
  }

  // ---------------------------------------------------------------- state

  get state(): ConnectionState {
    return this.current;
  }

  /** The room this client is in (the lobby until it joins one). */
  get roomId(): string {
    return this.session.roomId;
  }

  /** The invite key of the room this client is in, to share with its code (absent in the lobby). */
  get inviteKey(): string | undefined {
    return this.session.inviteKey;
  }

  /** Highest seq of the current room handed to the app without a gap. */
  get lastSeq(): number | undefined {
    return this.session.lastSeq;
  }

  get members(): readonly string[] {
    return this.session.members;
  }

  /** Messages written but not yet acknowledged. */
  get unsent(): number {
    return this.outbox.size;
  }

  /** True while the socket is open (in every state from `resuming` to `ready`). */
  get connected(): boolean {
    return this.connection.isOpen;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Opens the connection (done by the constructor unless autoConnect is false). */
  connect(): void {
    if (this.current !== 'idle' && this.current !== 'failed') return;
    this.connection.connect();
  }

  /** Reconnects now: after giving up, or to skip the backoff wait. */
  retry(): void {
    if (this.current !== 'closed') this.connection.retry();
  }

  /** Resolves once the connection is open and the room resumed; rejects with TIMEOUT after `requestTimeoutMs`. */
  ready(timeoutMs = this.requestTimeoutMs): Promise<void> {
    if (this.current === 'ready') return Promise.resolve();
    if (this.current === 'closed')
      return Promise.reject(new RoomcastError('CLOSED', 'The client was closed.'));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error: RoomcastError) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.readyWaiters = this.readyWaiters.filter((w) => w !== waiter);
        reject(new RoomcastError('TIMEOUT', `Not connected within ${timeoutMs} ms (state ${this.current}).`));
      }, timeoutMs);
      this.readyWaiters.push(waiter);
    });
  }

  /** Closes for good (`code` 1000 or 3000–4999): pending work rejects with CLOSED; then the `close` event. */
  close(code = 1000, reason = 'bye'): void {
    // Checked first (the WebSocket would throw only after the client had let go of its socket).
    if (code !== 1000 && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) {
      throw new RoomcastError('INVALID_ARGUMENT', `A close code is 1000 or 3000-4999, got ${code}.`);
    }
    if (utf8Bytes(reason) > 123) {
      throw new RoomcastError('INVALID_ARGUMENT', 'A close reason is at most 123 bytes (UTF-8).');
    }
    this.shutDown();
    this.connection.close(code, reason);
  }

  /**
   * Closes for good at once, without the closing handshake, as a dropped network would (the server sees 1006).
   * Only a WebSocket class that can (`ws`) does so; the browser's closes normally instead. Also cuts short a
   * `close()` whose handshake is still under way.
   */
  terminate(): void {
    this.shutDown();
    this.connection.terminate();
  }

  /**
   * Sends `text` exactly as it is, bypassing the client: no argument check, no requestId or clientMsgId, no outbox,
   * no retry. Throws DISCONNECTED when not connected. The answer comes as events (`frame`, and `error` for an error
   * frame). For protocol tests and debugging tools: a raw `joinroom` or `leaveroom` moves the connection without the
   * client knowing, so use the methods for those in an app. `maxFrameBytes` sends a longer text as one message in
   * frames of at most that many bytes (API Gateway takes 32 KB a frame, 128 KB a message); only a WebSocket class
   * that can send a message in parts (`ws`) can, others are refused with INVALID_ARGUMENT.
   */
  sendRaw(text: string, options: { maxFrameBytes?: number } = {}): void {
    const max = options.maxFrameBytes;
    if (max === undefined) {
      this.connection.send(text);
      return;
    }
    if (!Number.isInteger(max) || max < 1) {
      throw new RoomcastError('INVALID_ARGUMENT', `maxFrameBytes must be a positive integer, got ${max}.`);
    }
    const bytes = new TextEncoder().encode(text);
    if (bytes.length <= max) {
      this.connection.send(text);
      return;
    }
    if (!this.connection.sendInFrames(bytes, max)) {
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        'This WebSocket class cannot send a message in several frames (the `ws` package can).',
      );
    }
  }

  /** Enters `closed` and settles everything that waits with CLOSED. */
  private shutDown(): void {
    if (this.current === 'closed') return;
    this.setState({ state: 'closed', reason: 'closed by the app' });
    const closed = new RoomcastError('CLOSED', 'The client was closed.');
    this.requests.failAll(closed);
    for (const waiter of this.readyWaiters.splice(0)) waiter.reject(closed);
    this.outbox.rejectAll(closed);
  }

  // ---------------------------------------------------------------- the room on screen and followed rooms

  /**
   * Moves into a room (an 8-character code, or 6 for a room made before codes had 8; lower case accepted; or
   * "lobby"). `inviteKey` is the room's invite key when the link had one: joins by code alone are limited per
   * network (docs/SECURITY.md).
   */
  async join(roomId: string, inviteKey?: string): Promise<JoinedFrame> {
    const target = checkRoomId(roomId);
    const joined = await this.acrossReconnects(() => this.session.requestJoin(target, inviteKey));
    this.session.enter(joined);
    return joined;
  }

  /** Leaves the room for the lobby. */
  async leave(): Promise<LeftFrame> {
    const left = await this.acrossReconnects(() => this.requests.send({ action: 'leaveroom' }));
    await this.session.enterLobby();
    return left;
  }

  /**
   * Sends a message to the current room and resolves with its ack. Idempotent: one clientMsgId per message, reused
   * on every retry, so the room gets it once. While offline the message waits in the outbox. With `replyTo` (the
   * seq of a message in the room) it is a reply; a reply to a message that is gone is refused (MESSAGE_NOT_FOUND,
   * MESSAGE_DELETED). With `threadOf` (the seq of a message of the room, not itself in a thread) it is a reply in that
   * message's thread, shown in the room's flow too with `alsoToRoom`.
   */
  send(text: string, options: SendOptions = {}): Promise<AckFrame> {
    return this.writes.sendTo(this.session.roomId, text, options);
  }

  /**
   * Runs an app's request once the connection is ready, and again after a reconnect when the socket closed before
   * the answer (each of these requests may be repeated: a repeated createroom leaves an empty room behind).
   * @internal
   */
  protected async acrossReconnects<T>(run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.ready();
      try {
        return await run();
      } catch (error) {
        if (!(error instanceof RoomcastError) || error.code !== 'DISCONNECTED' || attempt >= 3) throw error;
      }
    }
  }

  // ---------------------------------------------------------------- connection events

  private setState(change: StateChange): void {
    this.current = change.state;
    this.emit('state', change);
    if (change.state === 'ready') for (const waiter of this.readyWaiters.splice(0)) waiter.resolve();
    if (change.state === 'failed' && change.error !== undefined) {
      for (const waiter of this.readyWaiters.splice(0)) waiter.reject(change.error);
    }
  }

  private newId(kind: string): string {
    this.nextId += 1;
    return `${kind}-${this.idPrefix}-${this.nextId.toString(36)}`;
  }

  private async onOpen(socket: SocketLike): Promise<void> {
    if (this.lean) {
      this.setState({ state: 'ready' });
      this.outbox.flush(this.session.roomId);
      return;
    }
    this.setState({ state: 'resuming' });
    try {
      const shown = this.session.roomId;
      await this.session.resume();
      // A room the rejoin found gone (closed, key rotated) is not followed any more.
      if (this.session.roomId !== shown) this.rooms.forget(shown);
      await this.rooms.resubscribe();
    } catch (error) {
      // The resume could not finish on this socket (it closed, or the server did not answer): start over.
      this.connection.drop(socket, 4000, 'resume failed');
      if (error instanceof RoomcastError && error.code !== 'DISCONNECTED') this.emit('error', error);
      return;
    }
    if (this.current !== 'resuming' || !this.connection.isCurrent(socket)) return;
    this.connection.settled();
    this.setState({ state: 'ready' });
    this.outbox.flush(this.session.roomId, (roomId) => this.rooms.followed.includes(roomId));
  }

  private onClosed(code: number, reason: string, error: RoomcastError): void {
    this.emit('close', { code, reason });
    this.requests.failAll(error);
    this.outbox.disconnected();
    if (this.lean) this.outbox.rejectAll(error);
  }
}
