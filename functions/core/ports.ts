import type { Clock } from '#platform/clock';

/**
 * The ports every feature shares: connections, rooms, chat events and posts to connections. A feature's own stores
 * are declared in its folder's `ports.ts` (messages/ports.ts: messages, sends, changes; rooms/ports.ts: the join's
 * entry), each beside its DynamoDB adapter. The adapters (`core/aws/`, and the `dynamo*.ts` of each feature) implement
 * them; the local cloud runs those same adapters against its own endpoints, and the rules can be tested with fakes.
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
   * The room's connections showing `username` (a moderation's target, named as the member list shows it), from every
   * key of the room index, without returning the others.
   */
  membersNamed(roomId: string, username: string): Promise<Member[]>;
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

/** A ban's item: the `createdAt` of the room it was written in (a room made again under its code inherits none). */
export interface BanItem {
  roomCreatedAt: string;
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
  /** A hash of `inviteKey` (core/aws/rooms.ts keyIdOf), written with it: what `myrooms` compares instead of the key. */
  keyId?: string;
  /** The creator's `userId` (Connection.userId): the one member who may rotate the key, remove members, close it. */
  ownerId?: string;
  /**
   * The creator's key in the room (memberKey of senderOf: the signed-in user, else its resume token, else its
   * connection): the owner is whoever has it, so without sign-in a reconnect with the same resume token keeps the room
   * its creator's, as a moderator's key keeps its role. Absent on rooms made before it was kept (ownerId alone).
   */
  ownerKey?: string;
  /**
   * When the room ends unless a message comes first (epoch seconds; RoomIdleDays after its last message): DynamoDB's
   * TTL attribute. TTL deletes late, so the room is treated as gone from this moment whether or not the item is.
   * Absent on rooms made before rooms expired (and on the lobby, which never does).
   */
  ttl?: number;
  /** When its owner closed it (ISO 8601); a closed room is gone for good. */
  closedAt?: string;
  /**
   * The key ids (keyIdOf) of the last FORMER_KEYS invite keys a rotation replaced, oldest first: a join with one of
   * them is told KEY_REPLACED, not a failed guess (guard.ts admitJoin).
   */
  formerKeyIds?: string[];
  /** Set by the first key rotation: from then on only a join with the current key gets in (never by code alone). */
  keyRequired?: boolean;
  /**
   * Names the owner removed from the room, added in the write that rotated the key: no connection showing one of
   * them is given a later key, and no one who joins is given one of them (a newcomer is numbered past it). Kept on
   * the room's moderation item (core/moderation.ts); RoomStore.get gives them with the room.
   */
  removedNames?: Set<string>;
  /** True once the room's moderation item was written (core/moderation.ts): a send reads that item after its take. */
  moderated?: boolean;
  /**
   * A direct-message room's two members (their `userId`s, sorted; memberships.ts): only they may enter it, and it
   * has no owner. `dmNames` holds their display names in the same order ('' while unknown).
   */
  dmMembers?: string[];
  dmNames?: string[];
  /**
   * How many keys of the room index hold its members (core/aws/roomMembers.ts roomKeyLevel): grow-only, raised by a
   * join that finds the room past MEMBERS_PER_KEY per key. Absent: 1.
   */
  keyLevel?: number;
  /** The room's name and topic (protocol/directory.ts); absent `name`: a room never named, shown by its code. */
  name?: string;
  topic?: string;
  /** A public room: joined by code alone (guard.ts admitJoin) and listed in the directory under `listedAs`. */
  isPublic?: boolean;
  /** The directory entry that holds the room's name (its folded name), while the room is public (directory/dynamoDirectory.ts). */
  listedAs?: string;

  /** Slow mode: one message per this many seconds per member (core/moderation.ts); absent or 0: off. */
  slowModeSeconds?: number;
  /** The room's own filtered words, from its moderation item (core/moderation.ts withModeration); absent: none. */
  roomWords?: string[];
  /** Members pin and unpin messages too (setroom `membersPin`); absent or false: the owner and moderators only. */
  membersPin?: boolean;
}

/**
 * What the owner of a room changes in it. A removal may be a ban (`ban`: the member's key in the room and its entry,
 * core/moderation.ts), written with the key in the same transaction.
 */
export type OwnerChange =
  | {
      kind: 'rotateKey';
      inviteKey: string;
      removedName?: string;
      /**
       * The other names the removed person shows in the room (its other signed-in devices): refused with
       * `removedName` in the same write, so no key or fan-out reaches any of them.
       */
      otherNames?: string[];
      /** A ban: its item and roster entry go in the same transaction, with the room's `createdAt` (core/moderation.ts). */
      ban?: { key: string; name: string; at: string; userId?: string; roomCreatedAt: string };
    }
  | { kind: 'close'; closedAt: string };

/**
 * Who acts on a room: its user id (the owner is its creator's) and its key in the room (a moderator's entry,
 * core/moderation.ts). `moderator: false`: only the owner may.
 */
export interface RoomActor {
  userId?: string;
  key: string;
  moderator: boolean;
  /** The `createdAt` of the room as the actor read it: the change holds only for that room, not one made again. */
  roomCreatedAt: string;
}

/**
 * A moderation change (core/moderation.ts): slow mode on the room's item, the others on its moderation item, in a
 * transaction that marks the room `moderated`. The target (`key`, its member key in the room; `userId`, so the owner
 * is never a target) is never the owner, and a mute's target is no moderator. `expired`: keys of mutes already over, removed in the same write.
 */
export type ModerationChange =
  | { kind: 'role'; key: string; userId?: string; name: string; role: 'moderator' | 'member' }
  | { kind: 'mute'; key: string; userId?: string; name: string; until: number; expired: string[] }
  | { kind: 'unmute'; key: string }
  | { kind: 'unban'; key: string; name: string; roomCreatedAt: string }
  | { kind: 'slowMode'; seconds: number }
  /** The room's own filtered words (core/moderation.ts `roomWords`); [] removes them. */
  | { kind: 'words'; words: string[] };

export interface RoomStore {
  /** Creates a room if its id is free; false when the id is taken. */
  create(room: Room): Promise<boolean>;
  /** The room as it is now (a strongly consistent read). The lobby has no row until its first message. */
  get(roomId: string): Promise<Room | undefined>;
  /**
   * Applies an owner's change only if `ownerId` owns the room and it has not ended by `nowSeconds` (one transaction
   * with the room's gates): a new invite key (which also makes the key required), or closing it (its TTL set to now,
   * so DynamoDB deletes it), with the name of a removed member added to `removedNames`. Returns the room with the
   * change applied; undefined when the condition failed, for whatever reason.
   */
  changeAsOwner(
    roomId: string,
    ownerId: string,
    nowSeconds: number,
    change: OwnerChange,
    /** A moderator's key in the room: its entry lets the change through too (a ban). */
    moderatorKey?: string,
    /** The caller's key in the room: the room's `ownerKey` lets the change through too. */
    callerKey?: string,
  ): Promise<Room | undefined>;
  /**
   * Applies a moderation change if `actor` may (the owner; a moderator too where `actor.moderator`) and the room has
   * not ended by `nowSeconds`. Returns the room as the write left it; undefined when the condition failed.
   */
  moderate(
    roomId: string,
    actor: RoomActor,
    nowSeconds: number,
    change: ModerationChange,
  ): Promise<Room | undefined>;
  /**
   * The ban item of `key` in the room (core/moderation.ts banItemId), strongly consistent, by key: read beside the
   * room at each way in (bannedBy compares its room's `createdAt`).
   */
  banOf(roomId: string, key: string): Promise<BanItem | undefined>;
  /** The keys the room's ban roster holds under `name` (core/moderation.ts banRosterId), for unban by name. */
  bannedNamed(room: Pick<Room, 'roomId' | 'createdAt'>, name: string): Promise<string[]>;
  /** Every ban of the room's roster: its key and the name it was given (one read of the roster, ≤ bannedPerRoom). */
  bans(room: Pick<Room, 'roomId' | 'createdAt'>): Promise<{ key: string; name: string }[]>;
  /**
   * Raises the room's key level to `level` unless it is that high already (it never falls: a subscription written at
   * a lower level stays under a key the higher one reads). Nothing for a room that is gone.
   */
  raiseKeyLevel(roomId: string, level: number): Promise<void>;
}

/**
 * A room's life as a send sees it: the seq is taken only if the room has not ended by `nowSeconds`, and the same
 * write moves its end to `ttl` (the message is activity). Absent for the lobby, which never ends.
 */
export interface RoomLife {
  nowSeconds: number;
  ttl: number;
  /**
   * The name the author shows in the room: the write refuses it when the owner removed that name (`removedNames`,
   * written with the removal), read by the write itself, whatever the room index says.
   */
  shownAs?: string;
  /**
   * The author's key in the room (memberKey): the write refuses a member muted there (core/moderation.ts), and tells
   * whether it is exempt from slow mode (a moderator), with `userId` (the owner).
   */
  memberKey?: string;
  userId?: string;
  /** The text the event stores (a message, an edit): refused when it holds a word of the room's own (roomWords). */
  text?: string;
}

/** The chat bus's events: a room's go through the fan-out queue, a broadcast without a room through its own rule. */
type ChatEventType = 'MessageSent' | 'Presence' | 'Broadcast' | 'Seen';

export interface ChatEvent {
  type: ChatEventType;
  messageId: string;
  /** Absent for a broadcast to every connection. */
  roomId?: string | null;
  /** A message's seq in its room: the fan-out orders a batch of the room's events by it (functions/deliver/prepare.ts). */
  seq?: number;
  /** The serialized frame every recipient gets, serialized once here. */
  payload: string;
  /** `MessageSent` of a chat message that can be pushed to someone: the push rule matches only these. */
  mayPush?: boolean;
  /**
   * With `mayPush`: the room's name as the send's seq take found it (null: the room has none), which the push names
   * the room by; absent when the publish took no seq (a retry), and the push function reads it.
   */
  roomName?: string | null;
  /**
   * A room's `Broadcast` that ends its membership (closeroom): the fan-out moves each member it posts the frame to
   * out of the room to the lobby, at this time (ISO 8601), each before its post (functions/deliver/post.ts).
   */
  movesOut?: string;
}

/**
 * A room's wake (docs/DECISIONS.md, "The fan-out at AWS's scale"): the room has news in its log, which the fan-out
 * reads from its cursor on. No frame: the messages are read from the log. `seq`: the seq of the send that woke it (a
 * room new to the fan-out is read from there).
 */
export interface RoomWake {
  type: 'RoomWake';
  messageId: string;
  roomId: string;
  seq: number;
}

/**
 * A room's presence board has changes (docs/DECISIONS.md, "Presence collected per room, told once a turn"): the
 * fan-out takes the board (core/identity/dynamoPresence.ts) and tells the turn's joins and leaves in one frame. It goes on
 * the bus as a `Presence` event without a frame; only the write that opens the board publishes one.
 */
export interface PresenceWake {
  type: 'Presence';
  messageId: string;
  roomId: string;
  board: true;
}

/**
 * A chunk's members the fan-out's first post found throttled (429/5xx), for the repost machine
 * (statemachines/repost.asl.json): the chunk's frames, where each member resumes in them, and the pause before.
 */
interface RoomRepost {
  type: 'Repost';
  messageId: string;
  roomId: string;
  frames: { payload: string; firstSeq?: number; lastSeq: number; messages: number }[];
  retry: Record<string, number>;
  waitSeconds: number;
}

/**
 * A connection that closed, for the departure machine (statemachines/departure.asl.json): every room it followed and
 * the name it showed there, its signed-in user (whose other connections may still follow them), and the pause before
 * the rooms are told (core/identity/departure.ts). One event, whatever the number of rooms.
 */
export interface Departure {
  type: 'Departed';
  messageId: string;
  /** The signed-in user's id (`user:`...); absent without sign-in: no later connection can be told to be the same person. */
  userId?: string;
  rooms: Subscribed[];
  waitSeconds: number;
  /**
   * Epoch ms of the `$disconnect` that made it: the settle reads the storm counters around this close and counts the
   * stretch from it, however late the machine started (core/identity/departure.ts settleDeparture).
   */
  closedAt?: number;
}

export interface EventPublisher {
  /** Publishes every event or throws PublishFailed. */
  publish(events: (ChatEvent | RoomWake | PresenceWake | RoomRepost | Departure)[]): Promise<void>;
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
  events: EventPublisher;
  notifier: Notifier;
  now: Clock;
}

/** At most `limit` messages per `windowSeconds` per connection, with bursts of up to `limit`. */
export interface SendRate {
  limit: number;
  windowSeconds: number;
}
