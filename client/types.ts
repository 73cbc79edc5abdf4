/**
 * The client's public types: the socket seam, the options, the states and the events. Every part of the client
 * (client/connection.ts, client/session.ts, client/wire.ts, ...) imports them from here, so no part imports another
 * for a type and the parts form no cycle.
 */
import type {
  Attachment,
  BroadcastFrame,
  ChangedFrame,
  ChangeFrame,
  JoinedModeration,
  KeyRotatedFrame,
  MentionFrame,
  MessageFrame,
  MutedFrame,
  Pin,
  PresenceFrame,
  ProfileFrame,
  RemovedFrame,
  ReportedFrame,
  ReportResolvedFrame,
  ResyncFrame,
  RoleChangedFrame,
  RoomChangedFrame,
  RoomClosedFrame,
  RoomEventFrame,
  SlowModeFrame,
  UnmutedFrame,
} from '../protocol';
import type { BackoffPolicy } from './backoff';
import type { RoomcastError } from './errors';

/**
 * An event handler property, compared by its parameter both ways (as a method is): a WebSocket class declares its
 * handlers with its own event types (the DOM's `MessageEvent`, ws's `WebSocket.MessageEvent`), which carry at least
 * what the client reads, so both the browser's class and `ws`'s fit `SocketFactory` without a cast.
 */
type Handler<E> = { handle(event: E): void }['handle'];

/**
 * The part of the WebSocket API the client uses: the browser's, Node 22's global, and `ws` all have it. With `ws`
 * the client also uses its `terminate`, fragmented `send` and `unexpected-response` event (client/wire.ts).
 */
/** How a message is sent (`send`): a reply (`replyTo`), with images, or a reply in a thread (`threadOf`). */
export interface SendOptions {
  replyTo?: number;
  attachments?: Attachment[];
  /** The seq of the thread's root: the message is a reply in its thread, kept out of the room's flow… */
  threadOf?: number;
  /** …unless this is true (Slack's "Also send to channel"). */
  alsoToRoom?: boolean;
}

export interface SocketLike {
  readonly readyState: number;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type SocketFactory = new (url: string) => SocketLike;

export interface RoomcastClientOptions {
  /** Ask `myrooms` after every connect, so `client.rooms` tells each room's unread count (client/members.ts). */
  trackRooms?: boolean;
  /** `markRead` sends a room's position at most once per this many ms (default 5000; longer in a big room). */
  readIntervalMs?: number;
  /** The stage URL: `wss://<api>.execute-api.<region>.amazonaws.com/<stage>` or `ws://127.0.0.1:3001/prod`. */
  url: string;
  /** AuthMode=open: the name to connect with. */
  username?: string;
  /**
   * Without a token: the resume token presented on every (re)connect, so the server keeps this client's
   * `clientMsgId`s its own across reconnects and apart from anyone else's with the same name. 22 base64url
   * characters (128 random bits); default a new random one per client. Pass a stored one to keep it across reloads.
   */
  resumeToken?: string;
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
   * the client and its unsent messages), no member list from presence frames, and every message handed over as it
   * arrives (a `batch` frame's one by one), whatever its room, each copy (duplicates and gaps stay visible to a
   * delivery audit), with no history fill, not even on `resync`. Protocol
   * tests use it with `sendRaw` and the `frame` event to see exactly what the server sent. Default false.
   */
  lean?: boolean;
  /** `typing.keystroke()` sends at most once per this many ms: the deployment's TypingIntervalSeconds. Default 5 s. */
  typingHeartbeatMs?: number;
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

/** A moderation frame the server pushed (not a reply): see the `moderation` event. */
export type ModerationNotice = RoleChangedFrame | MutedFrame | UnmutedFrame | SlowModeFrame;

export interface MembersUpdate {
  roomId: string;
  members: string[];
  /** Connections in the room (one person may have several); undefined when a presence frame changed the list. */
  memberCount?: number;
  /**
   * Present when `memberCount` moved by joins and leaves counted, not named (a room that has held more than 100
   * members): show the count, since `members` lists only the names last asked for.
   */
  counted?: true;
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

/**
 * A room event as the client hands it over. `late: true`: it came after later seqs were handed over (it was stored
 * after its hole had been skipped, or, for a followed room not on screen, it arrived after a later one); put it in
 * its place by `seq`, not at the end. Still each seq once.
 */
export type Handed<T> = T & { late?: true };

export interface RoomcastEvents {
  /**
   * A message of the current room, each seq once and in seq order, whether it came alone, in a `batch` frame or
   * from history (lean: every message as it arrives, a batch's in its order, copies and gaps included). A message
   * stored after its hole was skipped comes once when it arrives, with `late: true`, below the last seq.
   */
  message: Handed<MessageFrame>;
  /**
   * A change to a message of the current room (`edited`, `deleted`, `reaction`), in seq order with the messages
   * (`late: true` as for a message); `RoomMessages` (client/messages.ts) applies them to the messages it keeps.
   */
  change: Handed<ChangeFrame>;
  /** The reply to this client's own change (`messages.edit` ...): the message as it left it, `mine` marked. */
  changed: ChangedFrame;
  /**
   * The server could not deliver this room's messages after `afterSeq` for a while; the client is fetching them from
   * history and hands them over as `message` events (lean: it fetches nothing, the tool must).
   */
  resync: ResyncFrame;
  presence: PresenceFrame;
  broadcast: BroadcastFrame;
  /**
   * A signed-in user was named (`@name`) in a message of a room this device does not show: who, where, the start of
   * the message. The message itself carries `mentions` in its room.
   */
  mention: MentionFrame;
  members: MembersUpdate;
  /** The room's owner rotated its invite key: `inviteKey` is the new one (share it instead of the old link). */
  keyrotated: KeyRotatedFrame;
  /** The room's owner removed this client from the room: it is in the lobby now (a `room` event follows). */
  removed: RemovedFrame;
  /** The room's owner closed the room: the client is in the lobby now (a `room` event follows). */
  roomclosed: RoomClosedFrame;
  /**
   * A moderation notice pushed to this client (protocol/moderation.ts): a member's role changed (`rolechanged`, to
   * every member), you were muted or unmuted (`muted`, `unmuted`), the room's slow mode changed (`slowmode`). Each
   * names its `roomId`.
   */
  moderation: ModerationNotice;
  /**
   * The room changed (join, create, leave, or back to the lobby after a failed rejoin); `memberKey` is yours in it
   * (messages whose `authorKey` is this are yours), absent for the lobby entered after a leave; `pins`: the room's
   * pinned messages as the join found them (absent in the lobby).
   */
  room: {
    roomId: string;
    lastSeq: number;
    memberKey?: string;
    pins?: Pin[];
    /** The room's moderators, slow mode, and your role and mute, as the join found them (absent in the lobby). */
    moderation?: JoinedModeration;
  };
  state: StateChange;
  /** An error no request is waiting for (an unsolicited error frame, a gateway error, a refused handshake). */
  error: RoomcastError;
  /** Someone reported a message of a room this user owns or moderates (client/safety.ts; `safety.reports()` lists them). */
  reported: ReportedFrame;
  /** A frame the client does not understand; it is never thrown. */
  unknown: UnknownFrame;
  /** A followed room's name, topic or visibility changed (its owner's `setRoom`): every member gets it. */
  roomchanged: RoomChangedFrame;
  /** A member of a followed room changed its profile: `username` is the name it shows in `roomId`. */
  profile: ProfileFrame;
  /** Every frame received, parsed when it is JSON, before the client acts on it (debugging, tools, tests). */
  frame: ReceivedFrame;
  /** A connection closed: by the server, the network, the client itself (a planned reconnect) or the app. */
  close: Closed;
  /** The owner or a moderator closed a report of a room this user owns or moderates: take it off the list. */
  reportresolved: ReportResolvedFrame;
}

/**
 * What the room session tells the client: the app's events, and `otherroom`, the events of a followed room not on
 * screen, which the client hands to that room's object (`client.rooms.get(roomId)`), never to its own `message`.
 */
export type SessionEvents = RoomcastEvents & { otherroom: { roomId: string; events: RoomEventFrame[] } };
