import type { SocketLike } from '@roomcast/client';
import type { MessageFrame } from '#protocol';

/**
 * A scripted roomcast server in memory for the client's tests: real protocol answers (rooms, seqs, history,
 * idempotent sends, requestId echo) over fake sockets, so tests run on Jest's fake clock and can drop, duplicate,
 * reorder or withhold frames on purpose. `WebSocket` behaves like a browser's; `WsWebSocket` also has what the
 * `ws` package adds (`terminate`, fragmented `send`, the `unexpected-response` event).
 */
export class FakeRoomcastServer {
  readonly sockets: FakeSocket[] = [];
  readonly rooms = new Map<string, MessageFrame[]>([['lobby', []]]);
  /** Every message a client sent, parsed (`{ raw }` when it is not a JSON object), in order. */
  readonly received: Array<Record<string, unknown> & { socket: number }> = [];
  /** The size in bytes of every frame a client sent (a message in parts is several frames). */
  readonly frameBytes: number[] = [];
  /** Answer handshakes (default) or refuse them by closing with 1006. */
  accept = true;
  /** HTTP status named in the refusal, as `ws` reports it ("Unexpected server response: 401"). */
  refuseStatus: number | undefined;
  /** The refusal's body, handed over by a `WsWebSocket` to its `unexpected-response` listener. */
  refuseBody = '';
  /** Return a frame to answer instead, `null` to send nothing, undefined for the normal answer. */
  intercept: ((frame: Record<string, unknown>, socket: FakeSocket) => object | null | undefined) | undefined;
  /** Fan out stored messages to the room (default); tests turn it off to create gaps. */
  fanOut = true;
  /** At most this many messages in a `history` or `joined` reply, with `hasMore`, as the functions cut by size. */
  pageSize = Number.POSITIVE_INFINITY;
  /** What `myrooms` answers (the member's rooms with their unread counts). */
  myRooms: Array<Record<string, unknown>> = [];
  /** The room each connection shows (its `roomId`). */
  private readonly roomOf = new Map<FakeSocket, string>();
  /** The rooms each connection follows besides the one it shows: their events reach it too. */
  private readonly follows = new Map<FakeSocket, Set<string>>();
  private readonly sends = new Map<string, { roomId: string; seq: number; messageId: string }>();
  private codes = 0;

  /** The WebSocket class to give the client. */
  readonly WebSocket = (() => {
    const server = this;
    return class extends FakeSocket {
      constructor(url: string) {
        super(url, server);
      }
    };
  })();

  /** A WebSocket class with `ws`'s extras. */
  readonly WsWebSocket = (() => {
    const server = this;
    return class extends FakeWsSocket {
      constructor(url: string) {
        super(url, server);
      }
    };
  })();

  get last(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (socket === undefined) throw new Error('no socket yet');
    return socket;
  }

  /** Frames with this action, in order. */
  sent(action: string): Array<Record<string, unknown>> {
    return this.received.filter((f) => f.action === action);
  }

  /** Stores a message as if someone sent it; fans it out unless `fanOut` is off. */
  store(roomId: string, text: string, username = 'someone'): MessageFrame {
    const list = this.rooms.get(roomId) ?? [];
    this.rooms.set(roomId, list);
    const message: MessageFrame = {
      type: 'message',
      roomId,
      seq: list.length + 1,
      messageId: `msg-${roomId}-${list.length + 1}`,
      username,
      text,
      sentAt: new Date(0).toISOString(),
      authorKey: `key-${username}`,
    };
    list.push(message);
    if (this.fanOut) this.toRoom(roomId, message);
    return message;
  }

  toRoom(roomId: string, frame: object): void {
    for (const [socket, room] of this.roomOf)
      if ((room === roomId || this.follows.get(socket)?.has(roomId)) && socket.readyState === 1)
        socket.push(frame);
  }

  /** The rooms `socket` follows, the one it shows included (the lobby never). */
  followed(socket: FakeSocket): string[] {
    const shown = this.roomOf.get(socket);
    return [
      ...new Set([...(shown && shown !== 'lobby' ? [shown] : []), ...(this.follows.get(socket) ?? [])]),
    ];
  }

  connected(socket: FakeSocket): void {
    this.roomOf.set(socket, 'lobby');
    this.follows.set(socket, new Set());
  }

  closed(socket: FakeSocket): void {
    this.roomOf.delete(socket);
    this.follows.delete(socket);
  }

  handle(socket: FakeSocket, text: string): void {
    const frame = parseObject(text);
    if (frame === undefined) {
      this.received.push({ raw: text, socket: this.sockets.indexOf(socket) });
      socket.push({
        type: 'error',
        code: 'BAD_REQUEST',
        message: 'Frames are JSON objects.',
        action: '$default',
      });
      return;
    }
    this.received.push({ ...frame, socket: this.sockets.indexOf(socket) });
    const custom = this.intercept?.(frame, socket);
    if (custom === null) return;
    const reply = custom ?? this.answer(socket, frame);
    const requestId = frame.requestId;
    if (reply !== undefined) socket.push(requestId === undefined ? reply : { ...reply, requestId });
  }

  private answer(socket: FakeSocket, frame: Record<string, unknown>): object | undefined {
    const shown = this.roomOf.get(socket) ?? 'lobby';
    // A room route acts on the room it names, when the connection follows it, else on the room shown.
    const named = typeof frame.roomId === 'string' && frame.action !== 'joinroom' ? frame.roomId : undefined;
    if (named !== undefined && !this.followed(socket).includes(named))
      return {
        type: 'error',
        code: 'NOT_SUBSCRIBED',
        message: `This connection does not follow ${named}.`,
        action: frame.action,
      };
    const room = named ?? shown;
    const list = this.rooms.get(room) ?? [];
    switch (frame.action) {
      case 'ping':
        return { type: 'pong' };
      case 'createroom':
      case 'joinroom': {
        const roomId =
          frame.action === 'createroom' ? `NEWRM${'ABCDEFGH'[++this.codes % 8]}` : String(frame.roomId);
        if (frame.action === 'createroom') this.rooms.set(roomId, []);
        const messages = this.rooms.get(roomId);
        if (messages === undefined) {
          return {
            type: 'error',
            code: 'ROOM_NOT_FOUND',
            message: `Room ${roomId} does not exist.`,
            action: 'joinroom',
          };
        }
        // The room shown before stays followed.
        if (shown !== 'lobby') this.follows.get(socket)?.add(shown);
        this.roomOf.set(socket, roomId);
        this.follows.get(socket)?.delete(roomId);
        return {
          type: 'joined',
          roomId,
          members: ['me'],
          memberCount: 1,
          memberKey: 'key-me',
          history: messages.slice(-50).slice(0, this.pageSize),
          hasMore: messages.slice(-50).length > this.pageSize,
          lastSeq: messages.length,
          // A 16-character invite key per room, as the functions give every room but the lobby.
          ...(roomId !== 'lobby' && { inviteKey: `${roomId}-invitekey` }),
        };
      }
      case 'leaveroom':
        if (room === shown) this.roomOf.set(socket, 'lobby');
        else this.follows.get(socket)?.delete(room);
        return { type: 'left', roomId: room };
      case 'subscribe': {
        const rooms: object[] = [];
        const refused: object[] = [];
        for (const wanted of frame.rooms as Array<{ roomId: string; afterSeq?: number }>) {
          const messages = this.rooms.get(wanted.roomId);
          if (messages === undefined || wanted.roomId === 'lobby') {
            refused.push({ roomId: wanted.roomId, code: 'ROOM_NOT_FOUND', message: 'No such room.' });
            continue;
          }
          this.follows.get(socket)?.add(wanted.roomId);
          const after =
            wanted.afterSeq === undefined ? [] : messages.filter((m) => m.seq > Number(wanted.afterSeq));
          const events = after.slice(0, this.pageSize);
          rooms.push({
            roomId: wanted.roomId,
            lastSeq: messages.length,
            memberCount: 1,
            memberKey: 'key-me',
            events,
            hasMore: events.length < after.length,
          });
        }
        return { type: 'subscribed', rooms, refused };
      }
      case 'myrooms':
        return { type: 'myrooms', rooms: this.myRooms };
      case 'markread':
        return { type: 'read', roomId: room, lastReadSeq: Number(frame.seq) };
      case 'history': {
        const limit = Number(frame.limit ?? 50);
        const after = frame.afterSeq === undefined ? [] : list.filter((m) => m.seq > Number(frame.afterSeq));
        const asked = frame.afterSeq === undefined ? list.slice(-limit) : after.slice(0, limit);
        const page = asked.slice(0, this.pageSize);
        const hasMore = page.length < asked.length || after.length > limit;
        return { type: 'history', roomId: room, messages: page, hasMore };
      }
      case 'typing':
        return undefined; // a one-way route: no reply
      case 'who':
        return { type: 'members', roomId: room, members: ['me'], memberCount: 1 };
      case 'sendmessage': {
        const clientMsgId = String(frame.clientMsgId);
        let sent = this.sends.get(clientMsgId);
        if (sent === undefined) {
          const message = this.store(room, String(frame.message), 'me');
          sent = { roomId: room, seq: message.seq, messageId: message.messageId };
          this.sends.set(clientMsgId, sent);
        }
        return { type: 'ack', clientMsgId, ...sent };
      }
      default:
        return { type: 'info', connectionId: 'fake', usage: 'fake' };
    }
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export class FakeSocket implements SocketLike {
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  /** How the connection ended, once it has: its close code and reason, and who ended it. */
  ended: { code: number; reason: string; by: 'client' | 'terminate' | 'server' } | undefined;

  constructor(
    readonly url: string,
    protected readonly server: FakeRoomcastServer,
  ) {
    server.sockets.push(this);
    setTimeout(() => {
      if (this.readyState !== 0) return;
      if (!server.accept) {
        this.refuse();
        return;
      }
      this.readyState = 1;
      server.connected(this);
      this.onopen?.({});
    }, 1);
  }

  /** A refused handshake, as a browser tells it: nothing but an error (with ws's words when a status is set). */
  protected refuse(): void {
    if (this.server.refuseStatus !== undefined)
      this.onerror?.({ message: `Unexpected server response: ${this.server.refuseStatus}` });
    this.drop(1006, '');
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    this.server.frameBytes.push(Buffer.byteLength(data));
    this.server.handle(this, data);
  }

  /** The client closes: the close event follows, as in browsers (1006 when the handshake had not finished). */
  close(code = 1000, reason = ''): void {
    if (this.readyState >= 2) return;
    const connecting = this.readyState === 0;
    this.readyState = 2;
    setTimeout(() => this.drop(connecting ? 1006 : code, connecting ? '' : reason, 'client'), 1);
  }

  /** The server (or the network) ends the connection. */
  drop(code = 1001, reason = 'Going away', by: 'client' | 'terminate' | 'server' = 'server'): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.ended = { code, reason, by };
    this.server.closed(this);
    this.onclose?.({ code, reason });
  }

  /** A frame from the server: JSON for objects, as it is for strings. */
  push(frame: object | string): void {
    if (this.readyState !== 1) return;
    const data = typeof frame === 'string' ? frame : JSON.stringify(frame);
    setTimeout(() => this.onmessage?.({ data }), 0);
  }
}

type ResponseListener = (chunk?: Uint8Array) => void;

/** A socket with what `ws` adds to the browser's API, behaving as `ws` 8 does. */
export class FakeWsSocket extends FakeSocket {
  private refusedListener: ((request: unknown, response: unknown) => void) | undefined;
  private parts: Buffer[] = [];

  /** Only `unexpected-response` is needed: with a listener, ws leaves the refused attempt open to it. */
  on(event: string, listener: (request: unknown, response: unknown) => void): this {
    if (event === 'unexpected-response') this.refusedListener = listener;
    return this;
  }

  /** Drops the connection without a closing handshake: the close event says 1006. */
  terminate(): void {
    if (this.readyState === 3) return;
    this.readyState = 2;
    setTimeout(() => this.drop(1006, '', 'terminate'), 1);
  }

  /** `send(data, { fin: false })` sends one part of a message; the server gets the message once `fin` comes. */
  override send(data: string | Uint8Array, options: { binary?: boolean; fin?: boolean } = {}): void {
    if (this.readyState !== 1) throw new Error('send on a socket that is not open');
    if (options.binary === true) throw new Error('the client sends text frames only');
    const part = Buffer.from(data);
    this.server.frameBytes.push(part.length);
    this.parts.push(part);
    if (options.fin === false) return;
    const text = Buffer.concat(this.parts).toString('utf8');
    this.parts = [];
    this.server.handle(this, text);
  }

  /** With an `unexpected-response` listener: the HTTP answer goes to it, in chunks of 1,000 bytes. */
  protected override refuse(): void {
    const listener = this.refusedListener;
    if (listener === undefined || this.server.refuseStatus === undefined) {
      super.refuse();
      return;
    }
    const listeners = new Map<string, ResponseListener[]>();
    const response = {
      statusCode: this.server.refuseStatus,
      on(event: string, fn: ResponseListener) {
        listeners.set(event, [...(listeners.get(event) ?? []), fn]);
        return response;
      },
    };
    listener({}, response);
    const body = Buffer.from(this.server.refuseBody);
    setTimeout(() => {
      for (let at = 0; at < body.length; at += 1000)
        for (const fn of listeners.get('data') ?? []) fn(body.subarray(at, at + 1000));
      for (const fn of listeners.get('end') ?? []) fn();
      for (const fn of listeners.get('close') ?? []) fn();
    }, 1);
  }
}
