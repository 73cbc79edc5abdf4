import type { Clock } from './clock';
import type { ChatMessage } from './protocol';
import type { SendRate } from './rateLimit';

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
  get(roomId: string): Promise<Room | undefined>;
  /** Reserves the room's next seq atomically. The lobby exists implicitly; other rooms must exist. */
  nextSeq(roomId: string): Promise<number>;
}

export interface MessageStore {
  put(message: ChatMessage, expiresAt: number): Promise<void>;
  /** Messages with seq > afterSeq in seq order, at most `limit`. */
  after(roomId: string, afterSeq: number, limit: number): Promise<ChatMessage[]>;
  /** The newest `limit` messages, returned in seq order. */
  latest(roomId: string, limit: number): Promise<ChatMessage[]>;
  /** Deletes the message under this seq if it is this messageId (a copy stored by an attempt that lost its claim). */
  remove(roomId: string, seq: number, messageId: string): Promise<void>;
}

/** The progress of one idempotent send, keyed by room, username and clientMsgId. */
export interface SendRecord {
  sendKey: string;
  messageId: string;
  seq?: number;
  sentAt?: string;
  published: boolean;
  /** When the attempt holding the claim took it (epoch ms). */
  claimedAt: number;
  /**
   * Which attempt holds the claim: a fresh claim and every take-over write a new one, and only its holder may record
   * a seq. Absent on records written before claims had one.
   */
  claimId?: string;
  /** The end of the holder's life (epoch ms; its function's timeout): no write of it starts later. */
  liveUntil?: number;
}

export interface SendLog {
  /** Creates the record for the key with this messageId, or returns the one that exists (`created: false`). */
  claim(record: SendRecord, expiresAt: number): Promise<{ record: SendRecord; created: boolean }>;
  /**
   * Takes over a claim whose holder has outlived its life without recording a seq: writes the new holder's claimId
   * only if `fromClaimId` still holds it and no seq is recorded. False when either changed (re-read the record).
   */
  takeOver(
    sendKey: string,
    fromClaimId: string | undefined,
    to: Pick<SendRecord, 'claimId' | 'claimedAt' | 'liveUntil'>,
  ): Promise<boolean>;
  /**
   * Records the seq the send took, if `claimId` still holds the claim (false when it was taken over). With
   * `publishClaimAt` (epoch ms) it also takes the publish claim in the same write: the attempt that stores the message
   * is the one that publishes it.
   */
  recordSeq(
    sendKey: string,
    claimId: string,
    seq: number,
    sentAt: string,
    publishClaimAt?: number,
  ): Promise<boolean>;
  /** Deletes a claim that never took a seq (its send was refused or abandoned), if `claimId` still holds it. */
  forget(sendKey: string, claimId: string): Promise<void>;
  /**
   * Claims the right to publish: true for exactly one caller while the send is unpublished and no other claim is
   * younger than `staleAfterMs` (the holder's life and a margin). `takeOver` ignores the age of another claim: for the
   * retry that stored the message itself, which proves the attempt holding the claim never stored it, so never
   * publishes it.
   */
  claimPublish(
    sendKey: string,
    nowMs: number,
    options?: { takeOver?: boolean; staleAfterMs?: number },
  ): Promise<boolean>;
  /** Gives the claim back after a failed publish, so a retry can publish. */
  releasePublish(sendKey: string, heldSince?: number): Promise<void>;
  /**
   * Marks the send published; with the seq and sentAt too, for a send whose recordSeq never got through (then only
   * if `claimId` still holds the claim: false when it was taken over).
   */
  markPublished(sendKey: string, seq?: { seq: number; sentAt: string; claimId: string }): Promise<boolean>;
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
  sends: SendLog;
  events: EventPublisher;
  notifier: Notifier;
  now: Clock;
}

/** The send path's settings from the template (MessageRetentionDays, SendRateLimit/SendRateWindowSeconds). */
export interface SendSettings {
  messageRetentionDays: number;
  /** Per-connection send rate limit of sendmessage; absent = unlimited. */
  sendRate?: SendRate;
}
