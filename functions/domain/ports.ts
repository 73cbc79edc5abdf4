import type { Clock } from '../platform/clock';
import type { ChatMessage } from '../platform/protocol';

/**
 * Ports of the chat domain. The AWS adapters (`platform/aws/`, and the `dynamo*.ts` beside each domain) implement
 * them; the local cloud runs those same adapters against its own endpoints, and the domain can be tested with fakes.
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
  /**
   * Whose `clientMsgId`s this connection's sends are, without sign-in: `resume:` + the client's resume token (kept
   * across its reconnects), else `connection:<connectionId>` (sending.ts).
   */
  sendScope?: string;
  connectedAt: string;
  /** The send rate limit's token bucket; absent until the first message. */
  sendBucket?: SendBucket;
  /** Set when the guard closes the connection for abuse: its frames still in flight are refused with no more work. */
  closing?: boolean;
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
   * Moves a connection to the lobby only if it is still in `roomId` (an owner removing it, or closing the room),
   * and returns it as it was; undefined when it is gone or already elsewhere.
   */
  moveOutOf(connectionId: string, roomId: string, at: string): Promise<Connection | undefined>;
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
  /** The creator's `userId` (Connection.userId): the one member who may rotate the key, remove members, close it. */
  ownerId?: string;
  /**
   * When the room ends unless a message comes first (epoch seconds; RoomIdleDays after its last message): DynamoDB's
   * TTL attribute. TTL deletes late, so the room is treated as gone from this moment whether or not the item is.
   * Absent on rooms made before rooms expired (and on the lobby, which never does).
   */
  ttl?: number;
  /** When its owner closed it (ISO 8601); a closed room is gone for good. */
  closedAt?: string;
  /** Set by the first key rotation: from then on only a join with the current key gets in (never by code alone). */
  keyRequired?: boolean;
  /**
   * Names the owner removed from the room, added in the write that rotated the key: no connection showing one of
   * them is given a later key, and no one who joins is given one of them (a newcomer is numbered past it).
   */
  removedNames?: Set<string>;
  /**
   * A direct-message room's two members (their `userId`s, sorted; memberships.ts): only they may enter it, and it
   * has no owner. `dmNames` holds their display names in the same order ('' while unknown).
   */
  dmMembers?: string[];
  dmNames?: string[];
}

/** What the owner of a room changes in it. */
export type OwnerChange =
  | { kind: 'rotateKey'; inviteKey: string; removedName?: string }
  | { kind: 'close'; closedAt: string };

export interface RoomStore {
  /** Creates a room if its id is free; false when the id is taken. */
  create(room: Room): Promise<boolean>;
  /** The room as it is now (a strongly consistent read). The lobby has no row until its first message. */
  get(roomId: string): Promise<Room | undefined>;
  /**
   * Applies an owner's change only if `ownerId` owns the room and it has not ended by `nowSeconds` (one conditional
   * write): a new invite key (which also makes the key required), or closing it (its TTL set to now, so DynamoDB
   * deletes it), with the name of a removed member added to `removedNames`. Returns the room as the write left it;
   * undefined when the condition failed, for whatever reason.
   */
  changeAsOwner(
    roomId: string,
    ownerId: string,
    nowSeconds: number,
    change: OwnerChange,
  ): Promise<Room | undefined>;
}

/** One join's move into a room (joining.ts). */
export interface RoomEntry {
  /**
   * Moves `connectionId` from room `from` into `roomId`, showing `username` there, in one transaction with a check
   * that the room still has the invite key the join was admitted by (`inviteKey`; undefined: it has none) and has
   * not ended by `nowSeconds`. `keyChanged` when the room's check failed (a key rotation, a removal or a close came
   * first), `connectionMoved` when the connection is no longer in `from` (or gone), `conflict` when another
   * transaction held one of the items.
   */
  enter(entry: {
    connectionId: string;
    from: string;
    roomId: string;
    username: string;
    inviteKey: string | undefined;
    at: string;
    nowSeconds: number;
  }): Promise<'entered' | 'keyChanged' | 'connectionMoved' | 'conflict'>;
}

/**
 * Messages live until their TTL (`expiresAt`, MessageRetentionDays after sending). DynamoDB deletes an expired item
 * up to days later, so a read leaves out every message whose TTL is at or before `nowSeconds`.
 */
export interface MessageStore {
  /** Live messages with seq > afterSeq in seq order, at most `limit`. */
  after(roomId: string, afterSeq: number, limit: number, nowSeconds: number): Promise<ChatMessage[]>;
  /** The newest `limit` live messages, returned in seq order. */
  latest(roomId: string, limit: number, nowSeconds: number): Promise<ChatMessage[]>;
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
  /**
   * When the publisher's invocation ends (epoch ms): past it, the publisher can no longer be running (it timed out, or
   * it answered and its environment was frozen or shut down before PutEvents), so a retry takes publishing over.
   */
  publishUntil?: number;
}

/** What appending a message found: it is stored, or why not. */
export type AppendOutcome =
  | { kind: 'stored' }
  /** The room's seq is no longer the one read: another message took the next seq first. */
  | { kind: 'seqTaken'; roomSeq: number }
  /** The clientMsgId was sent before: this is its record, and nothing was written. */
  | { kind: 'sentBefore'; record: SendRecord }
  /** The room expired or was closed (Room.ttl passed, or Room.closedAt set): nothing was written. */
  | { kind: 'roomGone'; room: Room }
  /** Another transaction held one of the items (DynamoDB's TransactionConflict): nothing was written. */
  | { kind: 'conflict' };

/**
 * A room's life as a send sees it: the write goes through only if the room has not ended by `nowSeconds`, and moves
 * its end to `ttl` (the message is activity). Absent for the lobby, which never ends.
 */
export interface RoomLife {
  nowSeconds: number;
  ttl: number;
}

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
    record?: { sendKey: string; publisher: string; publishUntil?: number; expiresAt: number },
    life?: RoomLife,
  ): Promise<AppendOutcome>;
  /** The stored message under this seq, if any. */
  message(roomId: string, seq: number): Promise<ChatMessage | undefined>;
  /** Hands publishing back after a failed publish, if `publisher` still holds it. */
  releasePublishing(sendKey: string, publisher: string): Promise<void>;
  /**
   * Takes publishing of a send that nobody publishes, or (with `lapse`) whose publisher's invocation ended before
   * `lapse.now` (epoch ms), for an invocation that ends at `lapse.until`; false when someone still may.
   */
  takePublishing(
    sendKey: string,
    publisher: string,
    lapse?: { now: number; until: number },
  ): Promise<boolean>;
}

/**
 * FanoutRepost and FanoutHandOver are the fan-out's own: a cycle's owed posts handed to an execution of their own,
 * and a lease holder's successor (functions/deliver/handOver.ts).
 */
export type ChatEventType = 'MessageSent' | 'Presence' | 'Broadcast' | 'FanoutRepost' | 'FanoutHandOver';

export interface ChatEvent {
  type: ChatEventType;
  messageId: string;
  /** Absent for a broadcast to every connection (null in the FanoutRepost of one). */
  roomId?: string | null;
  /** A message's seq in its room: the fan-out delivers it through the room's lease (coalescing.ts); 0 in the FanoutRepost of a presence change or broadcast. */
  seq?: number;
  /** The serialized frame every recipient gets, serialized once here. */
  payload: string;
  /** FanoutRepost: the members still owed messages (ids and seqs only), retried without the room's lease. */
  groups?: {
    afterSeq: number;
    uptoSeq: number;
    connectionIds: string[];
    attempt?: number;
    retryUntil?: number;
  }[];
  /** FanoutHandOver of a holder's pages: the holder whose lease the successor takes over, and its next page's key. */
  handedBy?: string;
  startKey?: Record<string, unknown>;
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

/** The send path's settings from the template (MessageRetentionDays, RoomIdleDays, SendRateLimit/SendRateWindowSeconds). */
export interface SendSettings {
  messageRetentionDays: number;
  /** Days a room lives after its last message (template setting RoomIdleDays). */
  roomIdleDays: number;
  /** Per-connection send rate limit of sendmessage; absent = unlimited. */
  sendRate?: SendRate;
}
