import { PING_FRAME } from '../protocol';
import type { BackoffPolicy } from './backoff';
import { fullJitterDelay } from './backoff';
import { RoomcastError } from './errors';
import type { SocketFactory, SocketLike } from './types';
import { onHandshakeRefused, sendInFrames, terminateSocket } from './wire';

const OPEN = 1;

/**
 * Where the connection manager is, as one value (ws's CONNECTING/OPEN/CLOSING/CLOSED, plus the waits between):
 * - `idle`: never started;
 * - `connecting`: fetching a token or waiting for the handshake;
 * - `open`: the socket is open (the session above resumes, then is ready);
 * - `recycling`: closing on purpose before API Gateway's 2-hour cap; the reconnect that follows waits no backoff;
 * - `backoff`: waiting to reconnect after a close;
 * - `failed`: gave up (or a lean connection closed); `retry()` or `connect()` starts again;
 * - `closing`: closed by the app, waiting for the socket's close event (`terminate()` may still cut it short);
 * - `closed`: closed by the app, for good.
 */
export type ConnectionPhase =
  | 'idle'
  | 'connecting'
  | 'open'
  | 'recycling'
  | 'backoff'
  | 'failed'
  | 'closing'
  | 'closed';

export interface ConnectionConfig {
  url: string;
  username?: string;
  /** Sent as `resume` when no token is: the scope of this client's clientMsgIds (docs/PROTOCOL.md). */
  resume?: string;
  token?: string;
  getToken?: () => string | Promise<string>;
  Socket: SocketFactory;
  keepaliveMs: number;
  maxConnectionMs: number;
  /** How long a handshake, and a pong after a ping, may take. */
  timeoutMs: number;
  backoff: BackoffPolicy;
  random: () => number;
  /** No keepalive, no recycle and no reconnect: a close fails the connection. */
  lean: boolean;
}

/** What the connection manager tells the layer above. */
export interface ConnectionHooks {
  /** A connection attempt starts (the first, or a reconnect). */
  connecting(): void;
  /** The socket is open. */
  open(socket: SocketLike): void;
  /** A text frame arrived. */
  text(text: string): void;
  /** The socket closed under the client (not by `close()`); `error` is the DISCONNECTED error to settle with. */
  closed(code: number, reason: string, error: RoomcastError): void;
  /** A reconnect is scheduled. */
  reconnecting(attempt: number, delayMs: number, reason: string): void;
  /** Gave up: no reconnect until `retry()` or `connect()`. */
  failed(error: RoomcastError): void;
  /** An error nothing waits for (a refused handshake, a failing getToken). */
  error(error: RoomcastError): void;
  /** The socket `close()` or `terminate()` let go of has closed. */
  closedByApp(code: number, reason: string): void;
}

/**
 * The socket and what keeps it up: the handshake (with a token or username), keepalive pings and their pongs,
 * reconnects with full-jitter backoff and a give-up point, and the planned reconnect before the 2-hour cap. It knows
 * nothing of rooms or requests: the layer above resumes on `open` and settles what waits on `closed`.
 */
export class Connection {
  private phase: ConnectionPhase = 'idle';
  private socket: SocketLike | undefined;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private keepaliveTimer: ReturnType<typeof setTimeout> | undefined;
  private pongTimer: ReturnType<typeof setTimeout> | undefined;
  private ageTimer: ReturnType<typeof setTimeout> | undefined;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly config: ConnectionConfig,
    private readonly hooks: ConnectionHooks,
  ) {}

  get state(): ConnectionPhase {
    return this.phase;
  }

  /** True while the socket is open and the app has not closed it. */
  get isOpen(): boolean {
    return (this.phase === 'open' || this.phase === 'recycling') && this.socket?.readyState === OPEN;
  }

  /** Starts connecting, unless a connection is under way or the app closed it. */
  connect(): void {
    if (this.phase !== 'idle' && this.phase !== 'failed') return;
    this.attempt = 0;
    void this.open();
  }

  /** Reconnects now: after giving up, or to skip the backoff wait. */
  retry(): void {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.attempt = 0;
    if (this.socket === undefined) void this.open();
  }

  /** The layer above is ready on this connection: the next close starts the backoff from its first step. */
  settled(): void {
    this.attempt = 0;
  }

  /** Sends a text frame now; throws DISCONNECTED when the socket is not open. Restarts the keepalive clock. */
  send(text: string): void {
    this.openSocket().send(text);
    if (!this.config.lean) this.touch();
  }

  /** Sends one message in frames of at most `maxFrameBytes` bytes; false when the WebSocket class cannot. */
  sendInFrames(bytes: Uint8Array, maxFrameBytes: number): boolean {
    if (!sendInFrames(this.openSocket(), bytes, maxFrameBytes)) return false;
    if (!this.config.lean) this.touch();
    return true;
  }

  /** A pong arrived: the connection is alive. */
  pong(): void {
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
  }

  /** True while `socket` is the open socket of this connection (not one that closed since). */
  isCurrent(socket: SocketLike): boolean {
    return this.socket === socket && this.isOpen;
  }

  /** Closes `socket` if it is still the open one (a resume that could not finish on it); a reconnect follows. */
  drop(socket: SocketLike, code: number, reason: string): void {
    if (this.isCurrent(socket)) socket.close(code, reason);
  }

  /** Closes for good with a closing handshake; `closedByApp` follows once the socket has closed. */
  close(code: number, reason: string): void {
    this.release()?.close(code, reason);
  }

  /** Closes for good at once, without the closing handshake where the WebSocket class can (ws). */
  terminate(): void {
    this.release();
    const socket = this.phase === 'closing' ? this.socket : undefined;
    if (socket !== undefined && !terminateSocket(socket)) socket.close(1000, 'bye');
  }

  /** Enters `closing` (or `closed` without a socket); returns the socket to close when there is one to close now. */
  private release(): SocketLike | undefined {
    if (this.phase === 'closing' || this.phase === 'closed') return undefined;
    this.stopTimers();
    clearTimeout(this.reconnectTimer);
    const socket = this.socket;
    if (socket === undefined) {
      this.phase = 'closed';
      return undefined;
    }
    this.phase = 'closing';
    socket.onmessage = null;
    socket.onclose = (event) => {
      if (this.socket === socket) {
        this.socket = undefined;
        this.phase = 'closed';
      }
      this.hooks.closedByApp(event.code, event.reason);
    };
    return socket;
  }

  private openSocket(): SocketLike {
    const socket = this.socket;
    if (!this.isOpen || socket === undefined) throw new RoomcastError('DISCONNECTED', 'Not connected.');
    return socket;
  }

  private async open(): Promise<void> {
    if (this.phase === 'closing' || this.phase === 'closed') return;
    this.phase = 'connecting';
    this.hooks.connecting();
    let url: string;
    try {
      url = await this.socketUrl();
    } catch (error) {
      this.hooks.error(new RoomcastError('HANDSHAKE_REFUSED', `getToken failed: ${String(error)}`));
      this.scheduleReconnect('getToken failed');
      return;
    }
    // close() may have run while getToken was awaited (TypeScript cannot see that the field changed).
    if ((this.phase as ConnectionPhase) !== 'connecting') return;
    const socket = new this.config.Socket(url);
    this.socket = socket;
    let refusal: RoomcastError | undefined;
    this.handshakeTimer = setTimeout(() => socket.close(), this.config.timeoutMs);
    socket.onopen = () => {
      clearTimeout(this.handshakeTimer);
      if (this.socket !== socket || this.phase !== 'connecting') return;
      this.phase = 'open';
      if (!this.config.lean) {
        this.touch();
        this.ageTimer = setTimeout(() => this.recycle(), this.config.maxConnectionMs);
      }
      this.hooks.open(socket);
    };
    socket.onmessage = (event) => {
      if (this.socket === socket)
        this.hooks.text(typeof event.data === 'string' ? event.data : String(event.data));
    };
    // `ws` hands over a refused handshake's answer; browsers tell a script nothing about it.
    onHandshakeRefused(socket, (status, body) => {
      const said = body.trim() === '' ? '' : `: ${body.trim().slice(0, 200)}`;
      refusal = new RoomcastError(
        'HANDSHAKE_REFUSED',
        `The server refused the connection (HTTP ${status}${said}).`,
        { status, body },
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
    const { getToken, token: fixed, username, url, resume } = this.config;
    const token = getToken ? await getToken() : fixed;
    // Without a token the server scopes clientMsgIds by the resume token, else by the connection alone.
    const withResume = token === undefined && resume !== undefined;
    // Nothing else to add: the URL goes out byte for byte as given (a caller's query string stays as it is).
    if (token === undefined && username === undefined)
      return withResume ? `${url}${url.includes('?') ? '&' : '?'}resume=${resume}` : url;
    const withAuth = new URL(url);
    if (token !== undefined) withAuth.searchParams.set('token', token);
    else if (username !== undefined) withAuth.searchParams.set('username', username);
    if (withResume) withAuth.searchParams.set('resume', resume);
    return withAuth.toString();
  }

  private onClosed(code: number, reason: string, refusal: RoomcastError | undefined): void {
    const planned = this.phase === 'recycling';
    this.socket = undefined;
    this.stopTimers();
    const said = `${code}${reason ? ` ${reason}` : ''}`;
    this.hooks.closed(code, reason, new RoomcastError('DISCONNECTED', `The connection closed (${said}).`));
    if (this.config.lean) {
      this.fail(refusal ?? new RoomcastError('DISCONNECTED', `The connection closed (${said}).`));
      return;
    }
    if (planned) {
      void this.open();
      return;
    }
    const status = refusal?.details.status;
    if (refusal !== undefined && status !== undefined && status < 500 && status !== 429) {
      this.hooks.error(refusal);
      // A new token may fix a 401/403; a bad username will not.
      if (this.config.getToken === undefined || status === 400) {
        this.fail(refusal);
        return;
      }
    }
    this.scheduleReconnect(reason || `closed with ${code}`);
  }

  private scheduleReconnect(reason: string): void {
    this.attempt += 1;
    const { backoff, random } = this.config;
    if (this.attempt > backoff.maxAttempts) {
      this.fail(new RoomcastError('GAVE_UP', `Gave up after ${backoff.maxAttempts} reconnects.`));
      return;
    }
    const delayMs = fullJitterDelay(backoff, this.attempt - 1, random);
    this.phase = 'backoff';
    this.hooks.reconnecting(this.attempt, delayMs, reason);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.open();
    }, delayMs);
  }

  private fail(error: RoomcastError): void {
    this.phase = 'failed';
    this.hooks.failed(error);
  }

  /** Before API Gateway's 2-hour cap: close on purpose and reconnect at once (the resume fills the gap). */
  private recycle(): void {
    if (this.phase !== 'open' || this.socket === undefined) return;
    this.phase = 'recycling';
    this.socket.close(1000, 'connection age');
  }

  /** Restarts the keepalive clock: a ping goes out only after `keepaliveMs` without any frame sent. */
  private touch(): void {
    clearTimeout(this.keepaliveTimer);
    this.keepaliveTimer = setTimeout(() => this.ping(), this.config.keepaliveMs);
  }

  private ping(): void {
    try {
      this.send(PING_FRAME);
    } catch {
      return;
    }
    // No pong in time: the connection is dead without having said so (a half-open TCP connection).
    this.pongTimer ??= setTimeout(() => this.socket?.close(4001, 'no pong'), this.config.timeoutMs);
  }

  private stopTimers(): void {
    clearTimeout(this.keepaliveTimer);
    clearTimeout(this.pongTimer);
    clearTimeout(this.ageTimer);
    clearTimeout(this.handshakeTimer);
    this.pongTimer = undefined;
  }
}
