import type { Clock } from './clock';
import type { ChatMessage } from './protocol';

/**
 * Ports of the chat domain. The AWS adapters in adapters/ implement them; the local cloud runs those same adapters
 * against its own endpoints, and the domain can be tested with fakes.
 */

export interface Connection {
  connectionId: string;
  roomId: string;
  /**
   * The name this member shows in its current room, on every frame that names it (presence, messages, member
   * lists): the chosen name, or the chosen name numbered ("alice (2)") when another member of the room already
   * shows it or a confusable one (names.ts). Set when the connection enters a room.
   */
  username: string;
  /** The name the member connected with (NFKC, checked); absent on records made before it was kept. */
  chosenName?: string;
  /**
   * The member's stable, unique identity: `user:` + a hash of the token's (`iss`, `sub`) in the token modes,
   * `connection:<connectionId>` in AuthMode=none. Never a display name. Absent on records made before it was kept.
   */
  userId?: string;
  connectedAt: string;
  /** The send rate limit's token bucket; absent until the first message. */
  sendBucket?: SendBucket;
}

/** Tokens left and when they were counted (epoch ms). */
export interface SendBucket {
  tokens: number;
  at: number;
}

export interface Member {
  connectionId: string;
  username: string;
}

export interface ConnectionStore {
  put(connection: Connection): Promise<void>;
  get(connectionId: string): Promise<Connection | undefined>;
  /** Removes the connection and returns what it was, if it existed. */
  remove(connectionId: string): Promise<Connection | undefined>;
  /**
   * Moves an existing connection to a room, noting `at` (ISO 8601) as its last activity, with `username` as the
   * name it shows there (absent: its chosen name again), and returns it as it was before; undefined when it does
   * not exist.
   */
  moveToRoom(
    connectionId: string,
    roomId: string,
    at: string,
    username?: string,
  ): Promise<Connection | undefined>;
  /**
   * Members of a room, up to `limit`, how many there are in all, and whether `connectionId` is among all of them
   * (not only the listed ones).
   */
  listMembers(
    roomId: string,
    limit: number,
    connectionId?: string,
  ): Promise<{ members: Member[]; count: number; includesConnection: boolean }>;
  /**
   * Stores the send bucket only if it is still the one read (`previousAt`, undefined = none yet) and the connection
   * exists; false when another send changed it first or the connection is gone.
   */
  saveSendBucket(connectionId: string, bucket: SendBucket, previousAt: number | undefined): Promise<boolean>;
}

export interface Room {
  roomId: string;
  createdAt: string;
  createdBy?: string;
  /** The seq of the last message; 0 before the first. */
  seq: number;
  /** The room's 96-bit invite key (guard.ts): a join that carries it takes no guess. Absent on older rooms. */
  inviteKey?: string;
}

export interface RoomStore {
  /** Creates a room if its id is free; false when the id is taken. */
  create(room: Room): Promise<boolean>;
  /** The room as it is now (a strongly consistent read). The lobby has no row until its first message. */
  get(roomId: string): Promise<Room | undefined>;
}

export interface MessageStore {
  /** Messages with seq > afterSeq in seq order, at most `limit`. */
  after(roomId: string, afterSeq: number, limit: number): Promise<ChatMessage[]>;
  /** The newest `limit` messages, returned in seq order. */
  latest(roomId: string, limit: number): Promise<ChatMessage[]>;
}

/** A send with a clientMsgId as recorded with its message, keyed by room, username and clientMsgId. */
export interface SendRecord {
  sendKey: string;
  messageId: string;
  seq: number;
  sentAt: string;
  /**
   * The attempt that publishes the message: the one that stored it, until it hands publishing back because its
   * PutEvents failed; absent while nobody does.
   */
  publisher?: string;
}

/** What appending a message found: it is stored, or why not. */
export type AppendOutcome =
  | { kind: 'stored' }
  /** The room's seq is no longer the one read: another message took the next seq first. */
  | { kind: 'seqTaken'; roomSeq: number }
  /** The clientMsgId was sent before: this is its record, and nothing was written. */
  | { kind: 'sentBefore'; record: SendRecord }
  /** Another transaction held one of the items (DynamoDB's TransactionConflict): nothing was written. */
  | { kind: 'conflict' };

export interface SendStore {
  /**
   * Stores the message under its seq in one transaction: the room's seq moves from `roomSeq` (undefined: the lobby's
   * row does not exist yet) to the message's, the message is stored, and with `record` the send is recorded, all or
   * nothing. A seq is thus never taken without its message, nor a clientMsgId sent twice.
   */
  append(
    message: ChatMessage,
    roomSeq: number | undefined,
    expiresAt: number,
    record?: { sendKey: string; publisher: string; expiresAt: number },
  ): Promise<AppendOutcome>;
  /** The stored message under this seq, if any. */
  message(roomId: string, seq: number): Promise<ChatMessage | undefined>;
  /** Hands publishing back after a failed publish, if `publisher` still holds it. */
  releasePublishing(sendKey: string, publisher: string): Promise<void>;
  /** Takes publishing of a send that nobody publishes; false when someone does. */
  takePublishing(sendKey: string, publisher: string): Promise<boolean>;
}

export type ChatEventType = 'MessageSent' | 'Presence' | 'Broadcast';

export interface ChatEvent {
  type: ChatEventType;
  messageId: string;
  /** Absent for a broadcast to every connection. */
  roomId?: string;
  /** The serialized frame every recipient gets, serialized once here. */
  payload: string;
}

export interface EventPublisher {
  /** Publishes every event or throws PublishFailed. */
  publish(events: ChatEvent[]): Promise<void>;
}

export type PostOutcome = 'delivered' | 'gone' | 'retry' | 'failed';

export interface ConnectionInfo {
  connectedAt?: string;
  lastActiveAt?: string;
  sourceIp?: string;
  userAgent?: string;
}

export interface Notifier {
  post(connectionId: string, payload: string): Promise<PostOutcome>;
  info(connectionId: string): Promise<ConnectionInfo | undefined>;
}

/**
 * Everything a use case may need. Each one asks for only the ports it uses (`Pick<ChatPorts, ...>`), and each
 * function's entry point wires only those, so a bundle holds only the SDK clients its function calls.
 */
export interface ChatPorts {
  connections: ConnectionStore;
  rooms: RoomStore;
  messages: MessageStore;
  sends: SendStore;
  events: EventPublisher;
  notifier: Notifier;
  now: Clock;
}

/** At most `limit` messages per `windowSeconds` per connection, with bursts of up to `limit`. */
export interface SendRate {
  limit: number;
  windowSeconds: number;
}

/** The send path's settings from the template (MessageRetentionDays, SendRateLimit/SendRateWindowSeconds). */
export interface SendSettings {
  messageRetentionDays: number;
  /** Per-connection send rate limit of sendmessage; absent = unlimited. */
  sendRate?: SendRate;
}
