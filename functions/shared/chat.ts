import { randomInt, randomUUID } from 'node:crypto';
import { BadRequest, Busy, RateLimited, RoomNotFound, UnknownConnection } from './errors';
import type {
  ChatEvent,
  Connection,
  ConnectionInfo,
  ConnectionStore,
  EventPublisher,
  MessageStore,
  Notifier,
  PostOutcome,
  RoomStore,
  SendLog,
  SendRecord,
} from './ports';
import {
  type AckFrame,
  type ChatMessage,
  type HistoryQuery,
  type JoinedFrame,
  LIMITS,
  LOBBY,
  type MessageFrame,
  ROOM_CODE_ALPHABET,
  toMessageFrame,
  USAGE,
} from './protocol';
import { type SendRate, takeSendToken } from './rateLimit';

/** The chat domain: every rule of the protocol lives here, behind ports, with no AWS SDK in sight. */
export interface ChatDeps {
  connections: ConnectionStore;
  rooms: RoomStore;
  messages: MessageStore;
  sends: SendLog;
  events: EventPublisher;
  notifier: Notifier;
  now: () => Date;
  messageRetentionDays: number;
  /** Per-connection send rate limit of sendmessage; absent = unlimited. */
  sendRate?: SendRate;
}

const SEND_RECORD_TTL_SECONDS = 24 * 3600;
const ROOM_CODE_ATTEMPTS = 5;
/** How long a claimed send is presumed in flight before a retry may take it over. */
const IN_FLIGHT_MS = 10_000;

const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

export function newRoomCode(): string {
  let code = '';
  for (let i = 0; i < 6; i++) code += ROOM_CODE_ALPHABET[randomInt(ROOM_CODE_ALPHABET.length)];
  return code;
}

export async function connect(deps: ChatDeps, connectionId: string, username: string): Promise<Connection> {
  const now = deps.now();
  const connection: Connection = { connectionId, roomId: LOBBY, username, connectedAt: now.toISOString() };
  await deps.connections.put(connection);
  return connection;
}

export async function disconnect(deps: ChatDeps, connectionId: string): Promise<Connection | undefined> {
  const gone = await deps.connections.remove(connectionId);
  if (gone && gone.roomId !== LOBBY)
    await deps.events.publish([presence(gone.roomId, 'leave', gone.username)]);
  return gone;
}

async function requireConnection(deps: ChatDeps, connectionId: string): Promise<Connection> {
  const connection = await deps.connections.get(connectionId);
  if (!connection) throw new UnknownConnection();
  return connection;
}

function presence(roomId: string, event: 'join' | 'leave', username: string): ChatEvent {
  const frame = { type: 'presence', roomId, event, username };
  return { type: 'Presence', messageId: randomUUID(), roomId, payload: JSON.stringify(frame) };
}

/** Moves a connection and tells both rooms (the lobby is quiet: no presence there). */
async function moveTo(deps: ChatDeps, connectionId: string, roomId: string): Promise<Connection> {
  const before = await deps.connections.moveToRoom(connectionId, roomId);
  if (!before) throw new UnknownConnection();
  if (before.roomId !== roomId) {
    const events: ChatEvent[] = [];
    if (before.roomId !== LOBBY) events.push(presence(before.roomId, 'leave', before.username));
    if (roomId !== LOBBY) events.push(presence(roomId, 'join', before.username));
    if (events.length > 0) await deps.events.publish(events);
  }
  return before;
}

async function membersOf(deps: ChatDeps, roomId: string, self?: Connection) {
  const { members, count, includesConnection } = await deps.connections.listMembers(
    roomId,
    LIMITS.membersListed,
    self?.connectionId,
  );
  // The room index is eventually consistent: a connection that just moved may not be in it yet.
  const missingSelf = self !== undefined && !includesConnection;
  const names = members.map((m) => m.username);
  if (self && !names.includes(self.username)) names.unshift(self.username);
  return { members: [...new Set(names)], memberCount: count + (missingSelf ? 1 : 0) };
}

export async function createRoom(deps: ChatDeps, connectionId: string): Promise<JoinedFrame> {
  const connection = await requireConnection(deps, connectionId);
  const createdAt = deps.now().toISOString();
  for (let attempt = 0; attempt < ROOM_CODE_ATTEMPTS; attempt++) {
    const roomId = newRoomCode();
    if (await deps.rooms.create({ roomId, createdAt, createdBy: connection.username, seq: 0 })) {
      await moveTo(deps, connectionId, roomId);
      return {
        type: 'joined',
        roomId,
        members: [connection.username],
        memberCount: 1,
        history: [],
        lastSeq: 0,
      };
    }
  }
  throw new Error(`no free room code after ${ROOM_CODE_ATTEMPTS} attempts`);
}

export async function joinRoom(deps: ChatDeps, connectionId: string, roomId: string): Promise<JoinedFrame> {
  const room = roomId === LOBBY ? await deps.rooms.get(LOBBY) : await deps.rooms.get(roomId);
  if (!room && roomId !== LOBBY) throw new RoomNotFound(roomId);
  const before = await moveTo(deps, connectionId, roomId);
  const self = { ...before, roomId };
  const [{ members, memberCount }, history] = await Promise.all([
    membersOf(deps, roomId, self),
    deps.messages.latest(roomId, LIMITS.historyDefault),
  ]);
  const lastSeq = Math.max(room?.seq ?? 0, history.at(-1)?.seq ?? 0);
  return { type: 'joined', roomId, members, memberCount, history: history.map(toMessageFrame), lastSeq };
}

export async function leaveRoom(
  deps: ChatDeps,
  connectionId: string,
): Promise<{ type: 'left'; roomId: string }> {
  const before = await moveTo(deps, connectionId, LOBBY);
  return { type: 'left', roomId: before.roomId };
}

export async function history(
  deps: ChatDeps,
  connectionId: string,
  query: HistoryQuery,
): Promise<{ type: 'history'; roomId: string; messages: MessageFrame[] }> {
  const { roomId } = await requireConnection(deps, connectionId);
  const messages =
    query.afterSeq === undefined
      ? await deps.messages.latest(roomId, query.limit)
      : await deps.messages.after(roomId, query.afterSeq, query.limit);
  return { type: 'history', roomId, messages: messages.map(toMessageFrame) };
}

export async function who(deps: ChatDeps, connectionId: string) {
  const connection = await requireConnection(deps, connectionId);
  const { members, memberCount } = await membersOf(deps, connection.roomId, connection);
  return { type: 'members' as const, roomId: connection.roomId, members, memberCount };
}

/** Retries a write that must not be lost, with a growing pause (about 1.5 s in all before giving up). */
async function persist(write: () => Promise<void>, attempts = 4): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt * Math.random() + 50));
    }
  }
}

export interface SendInput {
  connectionId: string;
  text: string;
  clientMsgId?: string;
  /** Aborted when the sender was already answered Busy: then no seq is taken and nothing published (its retry does). */
  signal?: AbortSignal;
}

/**
 * Stores a message under the room's next seq and publishes it. With a clientMsgId the send is idempotent: a retry
 * returns the first ack, and publishes only if the first attempt stored the message but failed to publish it.
 */
export async function sendMessage(
  deps: ChatDeps,
  input: SendInput,
): Promise<{ ack: AckFrame; message: ChatMessage }> {
  const connection = await requireConnection(deps, input.connectionId);
  const { roomId, username } = connection;
  const now = deps.now();
  // Before the send is claimed, so a refused message leaves nothing behind and its retry starts clean.
  if (deps.sendRate) await takeSendToken(deps.connections, connection, deps.sendRate, now.getTime());
  const sendKey = input.clientMsgId ? `${roomId}#${username}#${input.clientMsgId}` : undefined;
  const fresh: SendRecord = {
    sendKey: sendKey ?? '',
    messageId: randomUUID(),
    published: false,
    claimedAt: now.getTime(),
  };
  const { record, created } = sendKey
    ? await deps.sends.claim(fresh, epochSeconds(now) + SEND_RECORD_TTL_SECONDS)
    : { record: fresh, created: true };
  if (!created && record.seq === undefined && now.getTime() - record.claimedAt < IN_FLIGHT_MS) {
    // The first attempt is still between claiming and storing; a second seq now would duplicate the message.
    throw new RateLimited('This message is still being sent. Retry with the same clientMsgId in a moment.');
  }

  let message: ChatMessage;
  const expiresAt = epochSeconds(now) + deps.messageRetentionDays * 86400;
  const compose = (seq: number, sentAt: string): ChatMessage => ({
    roomId,
    seq,
    messageId: record.messageId,
    username,
    text: input.text,
    sentAt,
    ...(input.clientMsgId ? { clientMsgId: input.clientMsgId } : {}),
  });
  if (record.seq !== undefined && record.sentAt !== undefined) {
    const [stored] = await deps.messages.after(roomId, record.seq - 1, 1);
    if (stored && stored.seq === record.seq) message = stored;
    else {
      // An earlier attempt took this seq but failed to store its message: store it now, so no seq stays empty.
      message = compose(record.seq, record.sentAt);
      await deps.messages.put(message, expiresAt).catch(async (error: unknown) => {
        const [raced] = await deps.messages.after(roomId, (record.seq as number) - 1, 1);
        if (raced?.seq !== record.seq || raced?.messageId !== record.messageId) throw error;
      });
    }
  } else {
    // A send already answered Busy must not take a seq: its retry may be taking over the claim right now.
    if (input.signal?.aborted) throw new Busy();
    const seq = await deps.rooms.nextSeq(roomId);
    message = compose(seq, now.toISOString());
    // The seq is recorded before the message is stored: if storing fails, a retry with the same clientMsgId
    // stores the message under this seq instead of leaving a gap (or, stored twice, a duplicate) in the room.
    // Once a seq is reserved, the one write that makes it recoverable (the send record, or the message itself
    // without a clientMsgId) is retried beyond the SDK's own attempts: giving up here would leave the seq empty.
    const recorded = message;
    if (sendKey) await persist(() => deps.sends.recordSeq(sendKey, seq, recorded.sentAt));
    else await persist(() => deps.messages.put(recorded, expiresAt));
    if (sendKey) await deps.messages.put(message, expiresAt);
  }

  // A send already answered Busy leaves the publishing to its retry: the message is stored, the record says so.
  if (input.signal?.aborted) throw new Busy();
  // Only one attempt publishes: a concurrent retry that loses the claim returns the same ack without publishing.
  const publishing =
    !record.published && (!sendKey || (await deps.sends.claimPublish(sendKey, now.getTime())));
  if (publishing) {
    try {
      await deps.events.publish([
        {
          type: 'MessageSent',
          messageId: message.messageId,
          roomId,
          payload: JSON.stringify(toMessageFrame(message)),
        },
      ]);
    } catch (error) {
      // Let a later retry with the same clientMsgId publish it.
      if (sendKey) await deps.sends.releasePublish(sendKey).catch(() => undefined);
      throw error;
    }
    if (sendKey) await deps.sends.markPublished(sendKey);
  }
  const ack: AckFrame = {
    type: 'ack',
    ...(input.clientMsgId ? { clientMsgId: input.clientMsgId } : {}),
    messageId: message.messageId,
    roomId,
    seq: message.seq,
  };
  return { ack, message };
}

export async function connectionInfo(deps: ChatDeps, connectionId: string) {
  const [info, connection] = await Promise.all([
    deps.notifier.info(connectionId).catch((): ConnectionInfo | undefined => undefined),
    deps.connections.get(connectionId),
  ]);
  return {
    type: 'info' as const,
    connectionId,
    username: connection?.username,
    roomId: connection?.roomId,
    connectedAt: info?.connectedAt ?? connection?.connectedAt,
    sourceIp: info?.sourceIp,
    userAgent: info?.userAgent,
    lastActiveAt: info?.lastActiveAt,
    usage: USAGE,
  };
}

export interface DeliveryReport {
  delivered: number;
  goneIds: string[];
  /** Worth another post: answered 429/5xx, or not confirmed before the deadline. */
  retryIds: string[];
  failedIds: string[];
}

/** Posts a chunk may have in flight at once when it has a deadline: at the deadline, only these are unconfirmed. */
export const POSTS_IN_FLIGHT = 50;

/**
 * Posts one payload to a chunk of connections; sorts them by what the management API answered. Without a deadline
 * every post starts at once. With one, at most POSTS_IN_FLIGHT run at a time, none starts after `deadline.stopAt`
 * (epoch ms), and posts still unanswered at `deadline.giveUpAt` are not waited for: both go back in retryIds, so a
 * chunk cut off mid-way is posted again only to the connections that did not confirm. (A post given up in flight
 * may still arrive; the client drops a seq it already holds.)
 */
export async function postToConnections(
  notifier: Notifier,
  connectionIds: readonly string[],
  payload: string,
  deadline?: { stopAt: number; giveUpAt: number },
): Promise<DeliveryReport & { unconfirmed: number }> {
  const outcomes: (PostOutcome | undefined)[] = new Array(connectionIds.length);
  if (deadline === undefined) {
    await Promise.all(
      connectionIds.map(async (id, i) => {
        outcomes[i] = await notifier.post(id, payload);
      }),
    );
  } else {
    let next = 0;
    const poster = async () => {
      while (next < connectionIds.length && Date.now() < deadline.stopAt) {
        const i = next++;
        outcomes[i] = await notifier.post(connectionIds[i] as string, payload);
      }
    };
    const posts = Promise.all(
      Array.from({ length: Math.min(POSTS_IN_FLIGHT, connectionIds.length) }, poster),
    );
    // A post that fails after we stopped waiting must not surface as an unhandled rejection later.
    posts.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const givenUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline.giveUpAt - Date.now()));
    });
    await Promise.race([posts, givenUp]);
    clearTimeout(timer);
  }
  const report = {
    delivered: 0,
    goneIds: [] as string[],
    retryIds: [] as string[],
    failedIds: [] as string[],
  };
  let unconfirmed = 0;
  connectionIds.forEach((id, i) => {
    const outcome = outcomes[i];
    if (outcome === 'delivered') report.delivered++;
    else if (outcome === 'gone') report.goneIds.push(id);
    else if (outcome === 'failed') report.failedIds.push(id);
    else {
      report.retryIds.push(id);
      if (outcome === undefined) unconfirmed++;
    }
  });
  return { ...report, unconfirmed };
}

export function requireString(body: Record<string, unknown>, field: string): unknown {
  if (!(field in body)) throw new BadRequest(`"${field}" is required.`);
  return body[field];
}
