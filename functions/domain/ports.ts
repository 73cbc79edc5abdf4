import type { Clock } from '../platform/clock';
import type { ChatMessage } from '../platform/protocol';

/**
 * Ports of the chat domain. The AWS adapters (`platform/aws/`, and the `dynamo*.ts` beside each domain) implement
 * them; the local cloud runs those same adapters against its own endpoints, and the domain can be tested with fakes.
 */

/** A room a connection follows, and the name it shows there. */
export interface Subscribed {
  roomId: string;
  username: string;
}

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
  /**
   * Epoch ms by which its handshake is over: when `$connect`'s invocation ends, plus a second for API Gateway to act
   * on its answer. Set at `$connect` only; the store turns it into `prunableAfter` (subscriptions.ts).
   */
  handshakeEndsAt?: number;
  /** The send rate limit's token bucket; absent until the first message. */
  sendBucket?: SendBucket;
  /** The bucket of reactions, apart from messages (rateLimit.ts, REACTION_RATE). */
  reactBucket?: SendBucket;
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
  /**
   * Removes the connection and every subscription, and returns what it was, if it existed, with the rooms it
   * followed (`followed`, each with the name it showed there).
   */
  remove(connectionId: string): Promise<(Connection & { followed?: Subscribed[] }) | undefined>;
  /** The connection's subscription to `roomId` (the name it shows there), read strongly consistent; undefined: none. */
  subscription(connectionId: string, roomId: string): Promise<Subscribed | undefined>;
  /** Every room the connection follows (the shown one included), read strongly consistent. */
  followed(connectionId: string): Promise<Subscribed[]>;
  /**
   * Counts `count` more rooms followed, all or none: TooManyRooms when that would take the connection past
   * LIMITS.subscriptionsMax; false when the connection is gone. A count that did not become a subscription is
   * given back with `uncountRooms`.
   */
  countRooms(connectionId: string, count: number): Promise<boolean>;
  /** Gives back `count` rooms counted by countRooms that were not followed after all. */
  uncountRooms(connectionId: string, count: number): Promise<void>;
  /** Stops following a room the connection does not show; the subscription as it was, undefined when there was none. */
  unsubscribe(connectionId: string, roomId: string): Promise<Subscribed | undefined>;
  /**
   * Shows a room on an existing connection (its `roomId`), following it (TooManyRooms past LIMITS.subscriptionsMax)
   * and still following the rooms it followed, but the lobby, noting `at` (ISO 8601) as its last activity, with `username` as the
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
   * Takes `roomId` from a connection (an owner removing it, or closing the room): the lobby shown instead if it shows
   * that room, else the room's subscription deleted. Returns it as it was; undefined when it is gone or does not
   * follow the room.
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
  saveSendBucket(
    connectionId: string,
    bucket: SendBucket,
    previousAt: number | undefined,
    kind?: BucketKind,
  ): Promise<boolean>;
}

/** Which of a connection's token buckets: messages (and edits, deletes) or reactions. */
export type BucketKind = 'send' | 'react';

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
   * transaction held one of the items, `tooManyRooms` when the room is not followed yet and the connection follows
   * LIMITS.subscriptionsMax rooms. The rooms followed before stay followed, but the lobby.
   */
  enter(entry: {
    connectionId: string;
    from: string;
    roomId: string;
    username: string;
    /**
     * Who the member is and when it connected: its subscription's `userId` and end of life (the connection's; from
     * `at` when not given).
     */
    userId?: string;
    connectedAt?: string;
    inviteKey: string | undefined;
    at: string;
    nowSeconds: number;
  }): Promise<'entered' | 'keyChanged' | 'connectionMoved' | 'conflict' | 'tooManyRooms'>;
  /**
   * Follows `roomId` without showing it (`subscribe`): writes the connection's subscription under `username` if it
   * has none, in one transaction with the same check of the room as `enter` (its invite key still `inviteKey`, not
   * ended by `nowSeconds`). Counts nothing: the caller counted the room first (ConnectionStore.countRooms).
   * `followed` when written, `followedAlready` when the connection had a subscription to it already (nothing
   * written), `keyChanged` when the room's check failed, `conflict` when another transaction held an item.
   */
  follow(entry: {
    connectionId: string;
    roomId: string;
    username: string;
    userId?: string;
    connectedAt: string;
    inviteKey: string | undefined;
    at: string;
    nowSeconds: number;
  }): Promise<'followed' | 'followedAlready' | 'keyChanged' | 'conflict'>;
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
  /** The newest `limit` live messages before `beforeSeq`, returned in seq order. */
  before(roomId: string, beforeSeq: number, limit: number, nowSeconds: number): Promise<ChatMessage[]>;
  /**
   * How the messages under these seqs read now, for the quotes of replies (at most 100 seqs): their text and whether
   * they were deleted. A seq that holds no live message (expired, a change) is not in the answer.
   */
  quoted(
    roomId: string,
    seqs: readonly number[],
    nowSeconds: number,
  ): Promise<Map<number, { text: string; deleted: boolean }>>;
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

/** The seq an append took from its room's counter, or why it took none (nothing was written). */
export type SeqTaken =
  | { kind: 'taken'; seq: number }
  /** The room expired or was closed (Room.ttl passed, or Room.closedAt set). */
  | { kind: 'roomGone'; room: Room }
  /** No such room (only the lobby's row appears with its first event). */
  | { kind: 'noRoom' };

/**
 * A room's life as a send sees it: the seq is taken only if the room has not ended by `nowSeconds`, and the same
 * write moves its end to `ttl` (the message is activity). Absent for the lobby, which never ends.
 */
export interface RoomLife {
  nowSeconds: number;
  ttl: number;
}

/** A send's idempotency record as an attempt writes it: its key, who publishes the event, when it expires. */
export interface NewSendRecord {
  sendKey: string;
  publisher: string;
  /** When the publisher's invocation ends (epoch ms; SendRecord.publishUntil). */
  publishUntil?: number;
  expiresAt: number;
}

/**
 * The send path's writes (docs/RELIABILITY.md, "The send path"): no transaction and no read of the room, so senders
 * of one room never wait for or conflict with each other. Each write is conditional, so any of them can be repeated
 * and a crash between two of them leaves what a retry with the same clientMsgId completes.
 */
export interface SendStore {
  /**
   * Takes the room's next seq with an atomic counter (`ADD seq :1`), only while the room lives (`life`), moving its
   * end on in the same write; `at` (epoch ms) is when, for the fan-out's bound on a seq never stored (gaps.ts).
   */
  takeSeq(roomId: string, at: number, life?: RoomLife): Promise<SeqTaken>;
  /**
   * Moves the room's counter up to `seq` if it is below (a room re-created after its item expired, whose stored
   * messages hold higher seqs), and the fan-out's cursor with it when it has none, so old messages are not posted.
   */
  raiseSeq(roomId: string, seq: number): Promise<void>;
  /** The highest seq stored in the room (messages, changes, gap markers), 0 for none. */
  newestSeq(roomId: string): Promise<number>;
  /** The record of a clientMsgId sent before, read strongly; undefined if none. */
  recorded(sendKey: string): Promise<SendRecord | undefined>;
  /**
   * Records the send under its key with the event's seq and messageId, only if the key is free: undefined when this
   * attempt recorded it, else the record found (the clientMsgId was sent before; nothing was written).
   */
  record(
    event: { seq: number; messageId: string; sentAt: string },
    record: NewSendRecord,
  ): Promise<SendRecord | undefined>;
  /** Moves this publisher's record to a new seq (its first seq was found occupied); false if it is not its own. */
  moveRecord(sendKey: string, publisher: string, from: number, to: number): Promise<boolean>;
  /** Stores the message under its seq if the seq is free: false when an item already holds it. */
  put(message: ChatMessage, expiresAt: number): Promise<boolean>;
  /** Marks a seq this attempt took and will never store as a gap, so history and the fan-out skip it at once. */
  markGap(roomId: string, seq: number, expiresAt: number): Promise<void>;
  /** The stored message under this seq, if any. */
  message(roomId: string, seq: number): Promise<ChatMessage | undefined>;
  /**
   * What a reply needs of the message it answers (an eventually consistent read, a few attributes): its author's
   * name and whether it was deleted; undefined when the seq holds no live message (never sent, a change, a gap,
   * past its retention at `nowSeconds`).
   */
  replyTarget(
    roomId: string,
    seq: number,
    nowSeconds: number,
  ): Promise<{ username: string; deleted: boolean } | undefined>;
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

/** The chat bus's events: a room's go through the fan-out queue, a broadcast without a room through its own rule. */
export type ChatEventType = 'MessageSent' | 'Presence' | 'Broadcast';

export interface ChatEvent {
  type: ChatEventType;
  messageId: string;
  /** Absent for a broadcast to every connection. */
  roomId?: string | null;
  /** A message's seq in its room: the fan-out orders a batch of the room's events by it (functions/deliver/prepare.ts). */
  seq?: number;
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

/** The send path's settings from the template (MessageRetentionDays, RoomIdleDays, SendRateLimit/SendRateWindowSeconds). */
export interface SendSettings {
  messageRetentionDays: number;
  /** Days a room lives after its last message (template setting RoomIdleDays). */
  roomIdleDays: number;
  /** Per-connection send rate limit of sendmessage; absent = unlimited. */
  sendRate?: SendRate;
}
