import type {
  AckFrame,
  BroadcastFrame,
  ErrorFrame,
  HistoryFrame,
  InfoFrame,
  JoinedFrame,
  LeftFrame,
  MembersFrame,
  MessageFrame,
  PresenceFrame,
} from '../protocol';
import {
  ERROR_CODES,
  GATEWAY,
  LIMITS,
  LOBBY,
  normalizeRoomId,
  PING_FRAME,
  SERVER_FRAME_TYPES,
  utf8Bytes,
} from '../protocol';
import type { BackoffPolicy } from './backoff';
import { DEFAULT_BACKOFF, fullJitterDelay } from './backoff';
import { Emitter } from './emitter';
import { RoomcastError } from './errors';
import { Sequencer } from './sequencer';
import { onHandshakeRefused, sendInFrames, terminateSocket } from './wire';

/**
 * The part of the WebSocket API the client uses: the browser's, Node 22's global, and `ws` all have it. With `ws`
 * the client also uses its `terminate`, fragmented `send` and `unexpected-response` event (client/wire.ts).
 */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type SocketFactory = new (url: string) => SocketLike;

export interface RoomcastClientOptions {
  /** The stage URL: `wss://<api>.execute-api.<region>.amazonaws.com/<stage>` or `ws://127.0.0.1:3001/prod`. */
  url: string;
  /** AuthMode=open: the name to connect with. */
  username?: string;
  /** AuthMode=token: a fixed token. */
  token?: string;
  /** AuthMode=token: called before every connect, so a reconnect uses a fresh token. */
  getToken?: () => string | Promise<string>;
  /** The WebSocket class; default the global one (browsers, Node ≥ 22). On Node 20 pass `ws`'s. */
  WebSocket?: SocketFactory;
  /** Reconnect policy: full-jitter exponential backoff, bounded, with a give-up point. */
  backoff?: Partial<BackoffPolicy>;
  /** Send a `ping` after this long without sending anything. Default 9 min (API Gateway closes idle ones at 10). */
  keepaliveMs?: number;
  /** Reconnect on purpose after this long, before API Gateway's 2-hour cap. Default 1 h 55 min. */
  maxConnectionMs?: number;
  /** How long a request (or one send attempt, or a handshake) may wait for its answer. Default 10 s. */
  requestTimeoutMs?: number;
  /** Attempts per message (same clientMsgId each time) before `send()` rejects. Default 5. */
  maxSendAttempts?: number;
  /** Messages kept while offline; more are refused with OUTBOX_FULL. Default 100. */
  outboxLimit?: number;
  /** Messages fetched when entering a room with no history yet (the lobby on connect). Default 50. */
  initialHistory?: number;
  /** Connect at once (default) or wait for `connect()`. */
  autoConnect?: boolean;
  /** Random source for jitter and ids (tests pass their own). */
  random?: () => number;
  /**
   * For load tools with hundreds of clients in one process (the bench's members, the load processor): ready as soon
   * as the socket is open (no lobby history), no keepalive or connection-age timers, no reconnect (a close fails
   * the client and its unsent messages), no member list from presence frames, and every `message` frame handed over
   * as it arrives, whatever its room, each copy (duplicates and gaps stay visible to a delivery audit). Protocol
   * tests use it with `sendRaw` and the `frame` event to see exactly what the server sent. Default false.
   */
  lean?: boolean;
}

export type ConnectionState =
  | 'idle'
  | 'connecting'
  | 'resuming'
  | 'ready'
  | 'reconnecting'
  | 'failed'
  | 'closed';

export interface StateChange {
  state: ConnectionState;
  /** Reconnect attempt (1 = the first retry) while `reconnecting`. */
  attempt?: number;
  /** When `reconnecting`: the delay before the next attempt. */
  delayMs?: number;
  /** Why the connection ended or failed. */
  reason?: string;
  error?: RoomcastError;
}

export interface MembersUpdate {
  roomId: string;
  members: string[];
  /** Connections in the room (one person may have several); undefined when a presence frame changed the list. */
  memberCount?: number;
}

/** A frame as received, before the client acts on it. */
export interface ReceivedFrame {
  /** The text as received. */
  raw: string;
  /** The parsed object, when the text is a JSON object (every frame roomcast sends is one). */
  frame?: Record<string, unknown>;
}

export interface Closed {
  /** The close code: the server's, the app's own, or 1006 when the connection ended without a closing handshake. */
  code: number;
  reason: string;
}

export interface UnknownFrame {
  /** The text as received. */
  raw: string;
  /** The parsed object, when it was JSON. */
  frame?: unknown;
}

export interface RoomcastEvents {
  /** A message of the current room, each seq once and in seq order (lean: every message frame as it arrives). */
  message: MessageFrame;
  presence: PresenceFrame;
  broadcast: BroadcastFrame;
  members: MembersUpdate;
  /** The room changed (join, create, leave, or back to the lobby after a failed rejoin). */
  room: { roomId: string; lastSeq: number };
  state: StateChange;
  /** An error no request is waiting for (an unsolicited error frame, a gateway error, a refused handshake). */
  error: RoomcastError;
  /** A frame the client does not understand; it is never thrown. */
  unknown: UnknownFrame;
  /** Every frame received, parsed when it is JSON, before the client acts on it (debugging, tools, tests). */
  frame: ReceivedFrame;
  /** A connection closed: by the server, the network, the client itself (a planned reconnect) or the app. */
  close: Closed;
}

interface Pending {
  resolve: (frame: Record<string, unknown>) => void;
  reject: (error: RoomcastError) => void;
  timer: ReturnType<typeof setTimeout>;
  action: string;
}

interface OutboxEntry {
  clientMsgId: string;
  roomId: string;
  text: string;
  attempts: number;
  inFlight: boolean;
  timer?: ReturnType<typeof setTimeout>;
  resolve: (ack: AckFrame) => void;
  reject: (error: RoomcastError) => void;
}

const OPEN = 1;
const FRAME_TYPES = new Set<string>(SERVER_FRAME_TYPES);
const SERVER_CODES = new Set<string>(ERROR_CODES);
/** Errors after which the same clientMsgId may be sent again. */
const RETRYABLE = new Set(['INTERNAL', 'RATE_LIMITED', 'TIMEOUT', 'GATEWAY_ERROR']);

/** Refuses a room id the server would refuse, before sending anything. */
export function checkRoomId(roomId: unknown): string {
  const normalized = typeof roomId === 'string' ? normalizeRoomId(roomId) : undefined;
  if (normalized === undefined) {
    throw new RoomcastError(
      'INVALID_ARGUMENT',
      `"${String(roomId).slice(0, 20)}" is not a room code: 6 characters from A-Z and 2-9 without I, O, 0 or 1, or "lobby".`,
    );
  }
  return normalized;
}

/** Refuses a text the server would refuse, before sending anything. */
export function checkMessageText(text: unknown): string {
  if (typeof text !== 'string') throw new RoomcastError('INVALID_ARGUMENT', 'The message must be a string.');
  const trimmed = text.trim();
  if (trimmed === '') throw new RoomcastError('INVALID_ARGUMENT', 'The message is empty.');
  const bytes = utf8Bytes(trimmed);
  if (bytes > LIMITS.messageMaxBytes) {
    throw new RoomcastError(
      'MESSAGE_TOO_LARGE',
      `Messages are limited to ${LIMITS.messageMaxBytes} bytes (UTF-8); this one has ${bytes}.`,
    );
  }
  return trimmed;
}

/**
 * A roomcast connection that stays up: it reconnects with full-jitter backoff, keeps the connection alive with
 * `ping`, rejoins its room and catches up through `history` after a reconnect, hands messages to the app once and
 * in seq order, and keeps unsent messages in an outbox that it flushes with their original clientMsgIds.
 * docs/CLIENT.md documents every option, event and guarantee.
 */
export class RoomcastClient extends Emitter<RoomcastEvents> {
  private readonly opts: Required<
    Pick<
      RoomcastClientOptions,
      | 'keepaliveMs'
      | 'maxConnectionMs'
      | 'requestTimeoutMs'
      | 'maxSendAttempts'
      | 'outboxLimit'
      | 'initialHistory'
      | 'random'
      | 'lean'
    >
  > & { backoff: BackoffPolicy };
  private readonly Socket: SocketFactory;
  private socket: SocketLike | undefined;
  /** The socket close() or terminate() let go of, until its close event: terminate() may still cut it short. */
  private closing: SocketLike | undefined;
  private current: ConnectionState = 'idle';
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private keepaliveTimer: ReturnType<typeof setTimeout> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private ageTimer: ReturnType<typeof setTimeout> | undefined;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly pending = new Map<string, Pending>();
  private readonly outbox = new Map<string, OutboxEntry>();
  private readonly sequencer = new Sequencer((m) => this.emit('message', m));
  private room = LOBBY;
  /** The room's invite key from its last `joined` reply: a rejoin with it takes none of the network's guesses. */
  private roomKey: string | undefined;
  private memberList: string[] = [];
  private filling = false;
  private nextId = 0;
  private readonly idPrefix: string;
  private readyWaiters: Array<{ resolve: () => void; reject: (error: RoomcastError) => void }> = [];
  /** Set by recycle(): the close that follows is ours, and the reconnect waits no backoff. */
  private recycling = false;
  /** The room a join or create is waiting on, and its messages that arrive before the `joined` reply. */
  private joining: { roomId: string | undefined; early: MessageFrame[] } | undefined;

  constructor(private readonly options: RoomcastClientOptions) {
    super();
    const Socket = options.WebSocket ?? (globalThis as { WebSocket?: SocketFactory }).WebSocket;
    if (Socket === undefined) {
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        'No WebSocket class: pass { WebSocket } (e.g. the `ws` package on Node 20).',
      );
    }
    if (!/^wss?:\/\//.test(options.url)) {
      throw new RoomcastError('INVALID_ARGUMENT', `url must start with ws:// or wss://, got ${options.url}`);
    }
    this.Socket = Socket;
    this.opts = {
      keepaliveMs: options.keepaliveMs ?? GATEWAY.idleTimeoutMs - 60_000,
      maxConnectionMs: options.maxConnectionMs ?? GATEWAY.maxConnectionMs - 5 * 60_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      maxSendAttempts: options.maxSendAttempts ?? 5,
      outboxLimit: options.outboxLimit ?? 100,
      initialHistory: Math.min(
        LIMITS.historyMax,
        Math.max(1, options.initialHistory ?? LIMITS.historyDefault),
      ),
      random: options.random ?? Math.random,
      lean: options.lean ?? false,
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    };
    this.idPrefix = Math.floor(this.opts.random() * 36 ** 6)
      .toString(36)
      .padStart(6, '0');
    if (options.autoConnect !== false) this.connect();
  }

  // ---------------------------------------------------------------- state

  get state(): ConnectionState {
    return this.current;
  }

  /** The room this client is in (the lobby until it joins one). */
  get roomId(): string {
    return this.room;
  }

  /** The invite key of the room this client is in, to share with its code (absent in the lobby). */
  get inviteKey(): string | undefined {
    return this.roomKey;
  }

  /** Highest seq of the current room handed to the app without a gap. */
  get lastSeq(): number | undefined {
    return this.sequencer.lastSeq;
  }

  get members(): readonly string[] {
    return this.memberList;
  }

  /** Messages written but not yet acknowledged. */
  get unsent(): number {
    return this.outbox.size;
  }

  /** True while the socket is open (in every state from `resuming` to `ready`). */
  get connected(): boolean {
    return this.socket?.readyState === OPEN;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Opens the connection (done by the constructor unless autoConnect is false). */
  connect(): void {
    if (this.current !== 'idle' && this.current !== 'failed' && this.current !== 'closed') return;
    this.attempt = 0;
    void this.open();
  }

  /** Reconnects now: after giving up, or to skip the backoff wait. */
  retry(): void {
    if (this.current === 'closed') return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.attempt = 0;
    if (this.socket === undefined) void this.open();
  }

  /** Resolves once the connection is open and the room resumed; rejects with TIMEOUT after `requestTimeoutMs`. */
  ready(timeoutMs = this.opts.requestTimeoutMs): Promise<void> {
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

  /**
   * Closes for good with a closing handshake (`code` 1000 or 3000–4999): pending requests and unsent messages are
   * rejected with CLOSED; the `close` event follows once the socket has closed.
   */
  close(code = 1000, reason = 'bye'): void {
    // Checked first: the WebSocket would throw only after the client had let go of its socket.
    if (code !== 1000 && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) {
      throw new RoomcastError('INVALID_ARGUMENT', `A close code is 1000 or 3000-4999, got ${code}.`);
    }
    if (utf8Bytes(reason) > 123) {
      throw new RoomcastError('INVALID_ARGUMENT', 'A close reason is at most 123 bytes (UTF-8).');
    }
    this.shutDown()?.close(code, reason);
  }

  /**
   * Closes for good at once, without the closing handshake, as a dropped network would (the server sees 1006).
   * Only a WebSocket class that can (`ws`) does so; the browser's closes normally instead. Also cuts short a
   * `close()` whose handshake is still under way.
   */
  terminate(): void {
    const socket = this.shutDown() ?? this.closing;
    if (socket !== undefined && !terminateSocket(socket)) socket.close(1000, 'bye');
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
      this.write(text);
      return;
    }
    if (!Number.isInteger(max) || max < 1) {
      throw new RoomcastError('INVALID_ARGUMENT', `maxFrameBytes must be a positive integer, got ${max}.`);
    }
    const bytes = new TextEncoder().encode(text);
    if (bytes.length <= max) {
      this.write(text);
      return;
    }
    if (!sendInFrames(this.openSocket(), bytes, max)) {
      throw new RoomcastError(
        'INVALID_ARGUMENT',
        'This WebSocket class cannot send a message in several frames (the `ws` package can).',
      );
    }
    if (!this.opts.lean) this.touch();
  }

  /** Enters `closed` and lets go of the socket; returns the socket to close, if one was open or opening. */
  private shutDown(): SocketLike | undefined {
    if (this.current === 'closed') return undefined;
    this.setState({ state: 'closed', reason: 'closed by the app' });
    this.stopTimers();
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket) {
      this.closing = socket;
      socket.onmessage = null;
      socket.onclose = (event) => {
        if (this.closing === socket) this.closing = undefined;
        this.emit('close', { code: event.code, reason: event.reason });
      };
    }
    const closed = new RoomcastError('CLOSED', 'The client was closed.');
    this.failPending(closed);
    for (const waiter of this.readyWaiters.splice(0)) waiter.reject(closed);
    for (const entry of this.outbox.values()) {
      clearTimeout(entry.timer);
      entry.reject(closed);
    }
    this.outbox.clear();
    return socket;
  }

  // ---------------------------------------------------------------- requests

  /** Creates a room and moves into it. */
  async createRoom(): Promise<JoinedFrame> {
    const joined = await this.acrossReconnects(() => this.joinFrame({ action: 'createroom' }, undefined));
    if (this.enterRoom(joined)) void this.fillGap();
    return joined;
  }

  /**
   * Moves into a room (a 6-character code, lower case accepted, or "lobby"). `key` is the room's invite key when
   * the link had one: joins by code alone are limited per network (docs/SECURITY.md).
   */
  async join(roomId: string, key?: string): Promise<JoinedFrame> {
    const target = checkRoomId(roomId);
    const joined = await this.acrossReconnects(() =>
      this.joinFrame({ action: 'joinroom', roomId: target, ...(key !== undefined && { key }) }, target),
    );
    if (this.enterRoom(joined)) void this.fillGap();
    return joined;
  }

  /** Leaves the room for the lobby. */
  async leave(): Promise<LeftFrame> {
    const left = (await this.acrossReconnects(() =>
      this.request({ action: 'leaveroom' }),
    )) as unknown as LeftFrame;
    await this.enterLobby();
    return left;
  }

  /**
   * Sends a message to the current room and resolves with its ack. Idempotent: one clientMsgId per message, reused
   * on every retry, so the room gets it once. While offline the message waits in the outbox.
   */
  send(text: string): Promise<AckFrame> {
    let trimmed: string;
    try {
      trimmed = checkMessageText(text);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.current === 'closed')
      return Promise.reject(new RoomcastError('CLOSED', 'The client was closed.'));
    if (this.outbox.size >= this.opts.outboxLimit) {
      return Promise.reject(
        new RoomcastError('OUTBOX_FULL', `${this.outbox.size} messages are waiting to be sent already.`),
      );
    }
    return new Promise((resolve, reject) => {
      const entry: OutboxEntry = {
        clientMsgId: this.newId('m'),
        roomId: this.room,
        text: trimmed,
        attempts: 0,
        inFlight: false,
        resolve,
        reject,
      };
      this.outbox.set(entry.clientMsgId, entry);
      if (this.current === 'ready') this.transmit(entry);
    });
  }

  /** A page of the current room's history (the latest `limit`, or the first `limit` after `afterSeq`). */
  async history(query: { afterSeq?: number; limit?: number } = {}): Promise<HistoryFrame> {
    return this.acrossReconnects(() => this.fetchHistory(query));
  }

  /** Who is in the current room; also updates `members`. */
  async who(): Promise<MembersFrame> {
    const frame = (await this.acrossReconnects(() =>
      this.request({ action: 'who' }),
    )) as unknown as MembersFrame;
    this.setMembers(frame.roomId, frame.members, frame.memberCount);
    return frame;
  }

  /** The connection's details as the server sees them (`$default`). */
  async info(): Promise<InfoFrame> {
    return (await this.acrossReconnects(() => this.request({ action: 'info' }))) as unknown as InfoFrame;
  }

  /**
   * Runs an app's request once the connection is ready, and again after a reconnect when the socket closed before
   * the answer (each of these requests may be repeated: a repeated createroom leaves an empty room behind).
   */
  private async acrossReconnects<T>(run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.ready();
      try {
        return await run();
      } catch (error) {
        if (!(error instanceof RoomcastError) || error.code !== 'DISCONNECTED' || attempt >= 3) throw error;
      }
    }
  }

  // ---------------------------------------------------------------- connecting

  private setState(change: StateChange): void {
    this.current = change.state;
    this.emit('state', change);
    if (change.state === 'ready') for (const waiter of this.readyWaiters.splice(0)) waiter.resolve();
    if (change.state === 'failed' && change.error !== undefined) {
      for (const waiter of this.readyWaiters.splice(0)) waiter.reject(change.error);
    }
  }

  private async open(): Promise<void> {
    if (this.current === 'closed') return;
    this.setState({ state: 'connecting' });
    let url: string;
    try {
      url = await this.socketUrl();
    } catch (error) {
      this.emit('error', new RoomcastError('HANDSHAKE_REFUSED', `getToken failed: ${String(error)}`));
      this.scheduleReconnect('getToken failed');
      return;
    }
    // close() may have run while getToken was awaited (TypeScript cannot see that the field changed).
    if ((this.current as ConnectionState) === 'closed') return;
    const socket = new this.Socket(url);
    this.socket = socket;
    let refusal: RoomcastError | undefined;
    this.handshakeTimer = setTimeout(() => socket.close(), this.opts.requestTimeoutMs);
    socket.onopen = () => {
      clearTimeout(this.handshakeTimer);
      void this.onOpen(socket);
    };
    socket.onmessage = (event) => {
      if (this.socket === socket)
        this.onText(typeof event.data === 'string' ? event.data : String(event.data));
    };
    // `ws` hands over a refused handshake's answer; browsers tell a script nothing about it.
    onHandshakeRefused(socket, (status, body) => {
      const said = body.trim() === '' ? '' : `: ${body.trim().slice(0, 200)}`;
      refusal = new RoomcastError(
        'HANDSHAKE_REFUSED',
        `The server refused the connection (HTTP ${status}${said}).`,
        {
          status,
          body,
        },
      );
      socket.close(); // ws leaves the refused attempt to the listener: end it (the close event says 1006)
    });
    socket.onerror = (event) => {
      // Another WebSocket class may name the status only in its error: "Unexpected server response: 401".
      const message = (event as { message?: unknown }).message;
      const status = typeof message === 'string' ? /server response: (\d{3})/.exec(message)?.[1] : undefined;
      if (status !== undefined && refusal === undefined) {
        refusal = new RoomcastError(
          'HANDSHAKE_REFUSED',
          `The server refused the connection (HTTP ${status}).`,
          {
            status: Number(status),
          },
        );
      }
    };
    socket.onclose = (event) => {
      clearTimeout(this.handshakeTimer);
      if (this.socket !== socket) return;
      this.onClosed(event.code, event.reason, refusal);
    };
    // A factory may hand over a socket that is open already (a load tool's own): start on it at once.
    if (socket.readyState === OPEN) queueMicrotask(() => socket.onopen?.({}));
  }

  private async socketUrl(): Promise<string> {
    const token = this.options.getToken ? await this.options.getToken() : this.options.token;
    // Nothing to add: the URL goes out byte for byte as given (a query string built by the caller stays as it is).
    if (token === undefined && this.options.username === undefined) return this.options.url;
    const url = new URL(this.options.url);
    if (token !== undefined) url.searchParams.set('token', token);
    else if (this.options.username !== undefined) url.searchParams.set('username', this.options.username);
    return url.toString();
  }

  private async onOpen(socket: SocketLike): Promise<void> {
    if (this.socket !== socket) return;
    if (this.opts.lean) {
      this.setState({ state: 'ready' });
      this.flushOutbox();
      return;
    }
    this.setState({ state: 'resuming' });
    this.touch();
    this.ageTimer = setTimeout(() => this.recycle(), this.opts.maxConnectionMs);
    try {
      await this.resume();
    } catch (error) {
      // The resume could not finish on this socket (it closed, or the server did not answer): start over.
      if (this.socket === socket && socket.readyState === OPEN) socket.close(4000, 'resume failed');
      if (error instanceof RoomcastError && error.code !== 'DISCONNECTED') this.emit('error', error);
      return;
    }
    if (this.socket !== socket) return;
    this.attempt = 0;
    this.setState({ state: 'ready' });
    this.flushOutbox();
  }

  /** Every connection starts in the lobby: go back to the room, then fetch everything after the last seq. */
  private async resume(): Promise<void> {
    const wanted = this.room;
    if (wanted === LOBBY) {
      await this.enterLobby();
      return;
    }
    try {
      const key = this.roomKey;
      const joined = await this.joinFrame(
        { action: 'joinroom', roomId: wanted, ...(key !== undefined && { key }) },
        wanted,
      );
      if (this.enterRoom(joined)) await this.catchUp();
    } catch (error) {
      if (!(error instanceof RoomcastError) || error.code !== 'ROOM_NOT_FOUND') throw error;
      // The room is gone (it expired): the connection is in the lobby, and so is the app from now on.
      this.emit('error', error);
      await this.enterLobby();
    }
  }

  private onClosed(code: number, reason: string, refusal: RoomcastError | undefined): void {
    this.socket = undefined;
    this.stopTimers();
    this.emit('close', { code, reason });
    this.failPending(
      new RoomcastError('DISCONNECTED', `The connection closed (${code}${reason ? ` ${reason}` : ''}).`),
    );
    for (const entry of this.outbox.values()) {
      clearTimeout(entry.timer);
      // An attempt the disconnect cut short got no answer either way: it does not count against maxSendAttempts.
      if (entry.inFlight) entry.attempts -= 1;
      entry.inFlight = false;
    }
    if (this.current === 'closed') return;
    if (this.opts.lean) {
      const lost = new RoomcastError(
        'DISCONNECTED',
        `The connection closed (${code}${reason ? ` ${reason}` : ''}).`,
      );
      for (const entry of this.outbox.values()) entry.reject(lost);
      this.outbox.clear();
      this.giveUp(refusal ?? lost);
      return;
    }
    if (this.recycling) {
      this.recycling = false;
      void this.open();
      return;
    }
    if (
      refusal &&
      refusal.details.status !== undefined &&
      refusal.details.status < 500 &&
      refusal.details.status !== 429
    ) {
      this.emit('error', refusal);
      // A new token may fix a 401/403; a bad username will not.
      if (this.options.getToken === undefined || refusal.details.status === 400) {
        this.giveUp(refusal);
        return;
      }
    }
    this.scheduleReconnect(reason || `closed with ${code}`);
  }

  private scheduleReconnect(reason: string): void {
    this.attempt += 1;
    if (this.attempt > this.opts.backoff.maxAttempts) {
      this.giveUp(new RoomcastError('GAVE_UP', `Gave up after ${this.opts.backoff.maxAttempts} reconnects.`));
      return;
    }
    const delayMs = fullJitterDelay(this.opts.backoff, this.attempt - 1, this.opts.random);
    this.setState({ state: 'reconnecting', attempt: this.attempt, delayMs, reason });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.open();
    }, delayMs);
  }

  private giveUp(error: RoomcastError): void {
    this.setState({ state: 'failed', reason: error.message, error });
  }

  /** Before API Gateway's 2-hour cap: close on purpose and reconnect at once (the resume fills the gap). */
  private recycle(): void {
    const socket = this.socket;
    if (socket === undefined) return;
    this.recycling = true;
    socket.close(1000, 'connection age');
  }

  private stopTimers(): void {
    clearTimeout(this.keepaliveTimer);
    clearTimeout(this.pongTimer);
    clearTimeout(this.ageTimer);
    clearTimeout(this.handshakeTimer);
    this.pongTimer = undefined;
  }

  // ---------------------------------------------------------------- frames out

  private openSocket(): SocketLike {
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== OPEN) {
      throw new RoomcastError('DISCONNECTED', 'Not connected.');
    }
    return socket;
  }

  private write(frame: Record<string, unknown> | string): void {
    this.openSocket().send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    if (!this.opts.lean) this.touch();
  }

  /** Restarts the keepalive clock: a ping goes out only after `keepaliveMs` without any frame sent. */
  private touch(): void {
    clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = setTimeout(() => this.ping(), this.opts.keepaliveMs);
  }

  private ping(): void {
    try {
      this.write(PING_FRAME);
    } catch {
      return;
    }
    // No pong in time: the connection is dead without having said so (a half-open TCP connection).
    this.pongTimer ??= setTimeout(() => this.socket?.close(4001, 'no pong'), this.opts.requestTimeoutMs);
  }

  private newId(kind: string): string {
    this.nextId += 1;
    return `${kind}-${this.idPrefix}-${this.nextId.toString(36)}`;
  }

  /** Sends a request now and resolves with the frame that names its requestId. */
  private request(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const requestId = this.newId('r');
    const action = String(frame.action);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(
          new RoomcastError('TIMEOUT', `No answer to ${action} within ${this.opts.requestTimeoutMs} ms.`, {
            action,
            requestId,
          }),
        );
      }, this.opts.requestTimeoutMs);
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

  private failPending(error: RoomcastError): void {
    for (const [requestId, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(new RoomcastError(error.code, error.message, { action: pending.action, requestId }));
    }
    this.pending.clear();
  }

  private transmit(entry: OutboxEntry): void {
    if (entry.inFlight) return;
    entry.attempts += 1;
    entry.inFlight = true;
    try {
      this.write({ action: 'sendmessage', message: entry.text, clientMsgId: entry.clientMsgId });
    } catch {
      entry.inFlight = false;
      return; // flushed again once the connection is back
    }
    entry.timer = setTimeout(() => {
      entry.inFlight = false;
      this.retrySend(
        entry,
        new RoomcastError('TIMEOUT', `No ack within ${this.opts.requestTimeoutMs} ms.`, {
          action: 'sendmessage',
          clientMsgId: entry.clientMsgId,
        }),
      );
    }, this.opts.requestTimeoutMs);
  }

  /** Sends again with the same clientMsgId after a retryable failure, with backoff; else rejects. */
  private retrySend(entry: OutboxEntry, error: RoomcastError): void {
    if (!RETRYABLE.has(error.code) || entry.attempts >= this.opts.maxSendAttempts) {
      this.outbox.delete(entry.clientMsgId);
      entry.reject(error);
      return;
    }
    const delay = fullJitterDelay(this.opts.backoff, entry.attempts, this.opts.random);
    entry.timer = setTimeout(() => {
      if (this.outbox.get(entry.clientMsgId) === entry && this.current === 'ready') this.transmit(entry);
    }, delay);
  }

  private flushOutbox(): void {
    for (const entry of [...this.outbox.values()]) {
      if (entry.roomId !== this.room) {
        this.outbox.delete(entry.clientMsgId);
        entry.reject(
          new RoomcastError(
            'ROOM_CHANGED',
            `The message was written in ${entry.roomId}; you are in ${this.room}.`,
            {
              clientMsgId: entry.clientMsgId,
            },
          ),
        );
      } else if (!entry.inFlight) {
        this.transmit(entry);
      }
    }
  }

  // ---------------------------------------------------------------- frames in

  private onText(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      this.emit('frame', { raw: text });
      this.emit('unknown', { raw: text });
      return;
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
      this.emit('frame', { raw: text });
      this.emit('unknown', { raw: text, frame });
      return;
    }
    const f = frame as Record<string, unknown>;
    this.emit('frame', { raw: text, frame: f });
    const type = f.type;
    if (typeof type !== 'string' || !FRAME_TYPES.has(type)) {
      if (type === undefined && typeof f.message === 'string' && typeof f.connectionId === 'string') {
        // API Gateway's own answer when a route's function failed; it names no request of ours.
        this.emit('error', new RoomcastError('GATEWAY_ERROR', f.message));
        return;
      }
      this.emit('unknown', { raw: text, frame });
      return;
    }
    this.route(type, f, text);
  }

  private route(type: string, f: Record<string, unknown>, raw: string): void {
    switch (type) {
      case 'message':
        if (this.opts.lean) this.emit('message', f as unknown as MessageFrame);
        else this.onMessage(f as unknown as MessageFrame);
        return;
      case 'presence':
        this.onPresence(f as unknown as PresenceFrame);
        return;
      case 'broadcast':
        this.emit('broadcast', f as unknown as BroadcastFrame);
        return;
      case 'pong':
        clearTimeout(this.pongTimer);
        this.pongTimer = undefined;
        return;
      case 'ack':
        if (this.onAck(f as unknown as AckFrame)) return;
        break;
      case 'error':
        if (this.onError(f as unknown as ErrorFrame)) return;
        return;
    }
    const requestId = f.requestId;
    const pending = typeof requestId === 'string' ? this.pending.get(requestId) : undefined;
    if (pending !== undefined && typeof requestId === 'string') {
      this.pending.delete(requestId);
      clearTimeout(pending.timer);
      pending.resolve(f);
      return;
    }
    if (type === 'members') {
      const m = f as unknown as MembersFrame;
      this.setMembers(m.roomId, m.members, m.memberCount);
      return;
    }
    if (type === 'ack' || type === 'history' || type === 'joined' || type === 'left' || type === 'info') {
      return; // a late answer to a request that timed out or was retried: nothing waits for it any more
    }
    this.emit('unknown', { raw, frame: f });
  }

  private onAck(ack: AckFrame): boolean {
    const entry = ack.clientMsgId === undefined ? undefined : this.outbox.get(ack.clientMsgId);
    if (entry === undefined) return false;
    clearTimeout(entry.timer);
    this.outbox.delete(entry.clientMsgId);
    entry.resolve(ack);
    return true;
  }

  /** An error frame answers the request or message it names; one that names none goes to the `error` event. */
  private onError(frame: ErrorFrame): boolean {
    const code = SERVER_CODES.has(frame.code) ? frame.code : 'INTERNAL';
    const error = new RoomcastError(code, frame.message, {
      action: frame.action,
      requestId: frame.requestId,
      clientMsgId: frame.clientMsgId,
    });
    const entry = frame.clientMsgId === undefined ? undefined : this.outbox.get(frame.clientMsgId);
    if (entry !== undefined) {
      clearTimeout(entry.timer);
      entry.inFlight = false;
      this.retrySend(entry, error);
      return true;
    }
    const pending = frame.requestId === undefined ? undefined : this.pending.get(frame.requestId);
    if (pending !== undefined && frame.requestId !== undefined) {
      this.pending.delete(frame.requestId);
      clearTimeout(pending.timer);
      pending.reject(error);
      return true;
    }
    this.emit('error', error);
    return true;
  }

  private onMessage(message: MessageFrame): void {
    if (this.joining !== undefined && message.roomId !== this.room) {
      // Possibly the room being joined (a created room's code is not known before the reply).
      if (this.joining.early.length < LIMITS.historyMax) this.joining.early.push(message);
      return;
    }
    if (message.roomId !== this.room) return; // a room this client has left
    this.sequencer.accept(message);
    if (this.sequencer.hasGap) void this.fillGap();
  }

  private onPresence(presence: PresenceFrame): void {
    if (presence.roomId !== this.room) return;
    if (this.opts.lean) {
      this.emit('presence', presence); // no member list: a presence frame to each of N members would cost O(N) each
      return;
    }
    const others = this.memberList.filter((name) => name !== presence.username);
    this.emit('presence', presence);
    // A name may stay connected from another tab after one leaves; `who()` tells for sure.
    this.setMembers(this.room, presence.event === 'join' ? [...others, presence.username] : others);
  }

  private setMembers(roomId: string, members: string[], memberCount?: number): void {
    if (roomId !== this.room) return;
    this.memberList = [...new Set(members)];
    this.emit('members', { roomId, members: this.memberList, memberCount });
  }

  // ---------------------------------------------------------------- rooms and seqs

  /** Sends a join or create; messages of the room that arrive before the reply are kept for enterRoom. */
  private async joinFrame(frame: Record<string, unknown>, roomId: string | undefined): Promise<JoinedFrame> {
    this.joining = { roomId, early: [] };
    try {
      return (await this.request(frame)) as unknown as JoinedFrame;
    } catch (error) {
      this.joining = undefined;
      throw error;
    }
  }

  /**
   * A `joined` reply: deliver what the app has not seen yet; true when a gap up to the room's last seq remains to
   * be filled through history.
   */
  private enterRoom(joined: JoinedFrame): boolean {
    const early = this.joining?.early ?? [];
    this.joining = undefined;
    this.roomKey = joined.inviteKey;
    if (this.opts.lean) {
      this.room = joined.roomId;
      this.emit('room', { roomId: joined.roomId, lastSeq: joined.lastSeq });
      this.setMembers(joined.roomId, joined.members ?? [], joined.memberCount);
      return false;
    }
    const same = joined.roomId === this.room && this.sequencer.lastSeq !== undefined;
    if (!same) {
      this.room = joined.roomId;
      this.sequencer.reset();
      this.setBaseline(joined);
      this.emit('room', { roomId: joined.roomId, lastSeq: joined.lastSeq });
    }
    for (const message of joined.history ?? []) this.sequencer.accept(message);
    for (const message of early) if (message.roomId === joined.roomId) this.sequencer.accept(message);
    this.setMembers(joined.roomId, joined.members ?? [], joined.memberCount);
    return (this.sequencer.lastSeq ?? 0) < joined.lastSeq || this.sequencer.hasGap;
  }

  /** A fresh room: the app gets its recent history (`joined.history`) and everything after. */
  private setBaseline(joined: JoinedFrame): void {
    const first = joined.history?.[0]?.seq;
    this.sequencer.setBaseline(first === undefined ? joined.lastSeq : first - 1);
  }

  private async enterLobby(): Promise<void> {
    if (this.opts.lean) {
      this.room = LOBBY;
      this.roomKey = undefined;
      this.memberList = [];
      this.emit('room', { roomId: LOBBY, lastSeq: 0 });
      return;
    }
    const fresh = this.room !== LOBBY || this.sequencer.lastSeq === undefined;
    if (fresh) {
      this.room = LOBBY;
      this.roomKey = undefined;
      this.sequencer.reset();
      this.memberList = [];
      const latest = await this.fetchHistory({ limit: this.opts.initialHistory });
      const first = latest.messages[0]?.seq;
      const last = latest.messages.at(-1)?.seq ?? 0;
      this.sequencer.setBaseline(first === undefined ? last : first - 1);
      for (const message of latest.messages) this.sequencer.accept(message);
      this.emit('room', { roomId: LOBBY, lastSeq: last });
      if (this.sequencer.hasGap) await this.catchUp();
      return;
    }
    await this.catchUp();
  }

  private fetchHistory(query: { afterSeq?: number; limit?: number }): Promise<HistoryFrame> {
    return this.request({ action: 'history', ...query }) as unknown as Promise<HistoryFrame>;
  }

  /** Pages through `history` after the last seq until a page comes back short: caught up. */
  private async catchUp(): Promise<void> {
    for (;;) {
      const room = this.room;
      const afterSeq = this.sequencer.lastSeq ?? 0;
      const page = await this.fetchHistory({ afterSeq, limit: LIMITS.historyMax });
      if (room !== this.room) return;
      for (const message of page.messages) this.sequencer.accept(message);
      if (page.messages.length < LIMITS.historyMax) break;
    }
    // What is still held above a hole is not in the history any more (expired): deliver it anyway.
    if (this.sequencer.hasGap) this.sequencer.skipHole();
  }

  private async fillGap(): Promise<void> {
    if (this.filling) return;
    this.filling = true;
    try {
      await this.catchUp();
    } catch {
      // The socket closed or the server did not answer: the resume after the reconnect fills the gap.
    } finally {
      this.filling = false;
    }
  }
}

/** Opens a roomcast connection; see RoomcastClient and docs/CLIENT.md. */
export function createRoomcastClient(options: RoomcastClientOptions): RoomcastClient {
  return new RoomcastClient(options);
}
