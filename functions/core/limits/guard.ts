import { randomBytes, timingSafeEqual } from 'node:crypto';
import { keyIdOf } from '#core/aws/rooms';
import {
  BadRequest,
  Banned,
  type ChatError,
  KeyReplaced,
  RateLimited,
  RoomClosed,
  RoomNotFound,
  UnknownConnection,
} from '#core/errors';
import { type BanItem, bannedBy } from '#core/moderation';
import type { Connection, ConnectionStore, Room, RoomStore, SendRate, Subscribed } from '#core/ports';
import { LOBBY } from '#core/protocol';
import { roomEnd } from '#core/roomLife';
import type { Clock } from '#platform/clock';
import { PATTERNS, ROOM_CODE_ALPHABET, ROOM_CODE_LENGTH } from '#protocol';

/**
 * Abuse limits of the WebSocket routes (docs/SECURITY.md):
 * - every Lambda-backed frame of every route (sendmessage too, before its own token bucket) counts against a
 *   per-connection budget per window; over it, the frame is answered RATE_LIMITED;
 * - a join by code alone takes a guess from its owner (the signed-in user, else the source: an IPv4 address or
 *   IPv6 /64; limitOwner) before the room is looked up, atomically, and gets it back unless it failed (admitJoin),
 *   so however many joins a source sends at once, no more codes are looked up than it has guesses. A source that
 *   used up its guesses is told RATE_LIMITED whether or not its code is right, so the limit is no oracle;
 * - a room has a 96-bit invite key beside its short code; a join with the right key takes no guess, nor does one
 *   with a key the room had before a rotation (KEY_REPLACED: an honest reconnect after a rotation);
 * - a `subscribe` admits each of its rooms as a join, and each failed one is a strike as a failed join is;
 * - every RATE_LIMITED, malformed frame (BAD_REQUEST, MESSAGE_TOO_LARGE) or failed join is a strike on the
 *   connection; at the strike limit within one strike window it is closed, so a connection that keeps sending
 *   frames it is refused for costs a bounded number of invocations. Strikes count per window: a long-lived
 *   connection that makes an occasional mistake over hours is never closed for their sum.
 */

export interface GuardLimits {
  /** Frames per window for each connection (every route, sendmessage included); absent = unlimited. */
  frames?: { limit: number; windowSeconds: number };
  /**
   * Failed joins by code per source: a bucket of `limit` refilled over `windowSeconds` for codes of the current
   * length (slower for shorter codes, see guessBucketOf); absent = unlimited.
   */
  joinGuesses?: SendRate;
  /** Refusals within one window after which a connection is closed; absent = never. */
  strikes?: { limit: number; windowSeconds: number };
}

/** Where the counters live (DynamoDB on AWS: the connection item and the Limits table). */
export interface GuardStore {
  /**
   * Counts one frame (or `frames`, a frame that costs as much as several) in the connection's current window, whatever the count (a frame over the limit is counted too,
   * so exactly one frame is the first over it), and returns the count with the connection as it is now; undefined
   * when the connection does not exist. One conditional write in the usual case.
   */
  countFrame(
    connectionId: string,
    window: number,
    frames?: number,
  ): Promise<{ count: number; connection: Connection } | undefined>;
  /** Marks the connection as being closed (Connection.closing), if it exists. */
  markClosing(connectionId: string): Promise<void>;
  /**
   * Adds a strike in strike window `window` and returns the connection's strikes in that window so far (a strike in
   * a later window than the stored one starts the count again at 1).
   */
  strike(connectionId: string, window: number): Promise<number>;
  /**
   * Takes one guess from a bucket (`bucket`: a source and code length, see guessBucketOf) if it has one left, in one
   * conditional write per attempt, so joins of a source at once never take more than the bucket holds; false when it
   * is empty (taking nothing).
   */
  takeGuess(bucket: string, nowMs: number, intervalMs: number, limit: number): Promise<boolean>;
  /** Gives one guess back to a bucket (a join that took one and did not fail); one write, nothing if there is none. */
  giveGuessBack(bucket: string, intervalMs: number): Promise<void>;
}

/** Tells a connection why it is closed, then closes it (management API DeleteConnection). */
export interface ConnectionCloser {
  close(connectionId: string, frame: object): Promise<void>;
}

export interface GuardDeps {
  store: GuardStore;
  closer: ConnectionCloser;
  limits: GuardLimits;
  now: Clock;
}

/** Bytes of a room's invite key: 96 bits, beyond guessing at any rate API Gateway allows. */
const INVITE_KEY_BYTES = 12;
const INVITE_KEY = new RegExp(PATTERNS.inviteKey);

export const newInviteKey = () => randomBytes(INVITE_KEY_BYTES).toString('base64url');

/** An optional `key` of joinroom: 16 base64url characters. */
export function parseInviteKey(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !INVITE_KEY.test(value))
    throw new BadRequest('"key" must be the 16-character invite key of the room.');
  return value;
}

/** The unit of the per-source limit: an IPv4 address, or the /64 an IPv6 address belongs to. */
export function sourceOf(ip: string | undefined): string {
  if (!ip) return 'unknown';
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const full = ip.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${full
    .slice(0, 4)
    .map((h) => h.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * The owner a per-owner limit counts for: the signed-in user (`userId` from (`iss`, `sub`)) where there is sign-in,
 * else the source. With sign-in, people behind one NAT address never share a budget with a script there.
 */
export function limitOwner(userId: string | undefined, sourceIp: string | undefined): string {
  return userId?.startsWith('user:') ? userId : sourceOf(sourceIp);
}

const keysMatch = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Admits one frame of a connection or throws RateLimited (UnknownConnection when it is not registered). Returns the
 * connection as the count left it, so `servedFrom` can answer the handler's own read of it without a second read;
 * undefined when frames are not limited.
 *
 * The first frame over the limit closes the connection: a client that follows the protocol stays under it, and a
 * flood must end at once rather than after its strikes. The frames of the flood still in flight are each refused
 * after their one counting write, with no strike, no answer and no close of their own; they close it again only at
 * each further multiple of the limit, in case the first close did not land.
 */
export async function admitFrame(guard: GuardDeps, connectionId: string): Promise<Connection | undefined> {
  return countFrames(guard, connectionId, 1);
}

/**
 * Counts `frames - 1` more frames of a frame already admitted that costs as much as `frames` (a `subscribe` of many
 * rooms), with admitFrame's rule: past the limit it is refused RATE_LIMITED, and the connection is closed by the
 * count that crosses the limit (or a further multiple of it).
 */
export async function chargeFrames(guard: GuardDeps, connectionId: string, frames: number): Promise<void> {
  if (frames > 1) await countFrames(guard, connectionId, frames - 1);
}

async function countFrames(
  guard: GuardDeps,
  connectionId: string,
  frames: number,
): Promise<Connection | undefined> {
  const limits = guard.limits.frames;
  if (!limits) return undefined;
  const window = Math.floor(guard.now().getTime() / 1000 / limits.windowSeconds);
  const counted = await guard.store.countFrame(connectionId, window, frames);
  if (!counted) throw new UnknownConnection();
  // A frame of a connection the guard is closing costs its count alone: no strike, no answer worth sending.
  if (counted.connection.closing) throw new RateLimited('This connection is closed.', false);
  const over = counted.count - limits.limit;
  if (over <= 0) return counted.connection;
  const message = `You can send ${limits.limit} requests every ${limits.windowSeconds} s, messages included.`;
  // The multiples of the limit past it that this count reached: the first crossing closes, and each further one.
  const crossed = (n: number) => (n <= 0 ? -1 : Math.floor((n - 1) / limits.limit));
  if (crossed(over) > crossed(over - frames)) {
    await closeForAbuse(guard, connectionId, {
      type: 'error',
      code: 'RATE_LIMITED',
      message: `${message} This connection is closed: slow down before reconnecting.`,
    });
  }
  throw new RateLimited(message, false);
}

/** Marks the connection as closing, so its frames in flight cost one write each, then tells it why and closes it. */
async function closeForAbuse(guard: GuardDeps, connectionId: string, frame: object): Promise<void> {
  await guard.store.markClosing(connectionId).catch(() => undefined);
  await guard.closer.close(connectionId, frame).catch(() => undefined);
}

/**
 * A handler's ports whose `connections.get` answers the frame's own connection once from the item the frame count
 * returned (`admitted`), so the gate costs no extra read in handlers that read the connection anyway. A second read
 * in the same frame wants the item as it is now, and goes to the store.
 *
 * A frame acting in a followed room it names (`room`, core/websocket.ts) sees its connection in that room on
 * every read, the first and the later ones alike: `roomId` that room and `username` the name shown there. That view
 * is for reading only: no store writes a whole connection back (each write names its own attributes), so the shown
 * room stays the shown room.
 */
export function servedFrom<T extends { connections: Pick<ConnectionStore, 'get'> }>(
  deps: T,
  frame: { connectionId: string; admitted?: Connection; room?: Subscribed },
): T {
  let known = frame.admitted;
  const { room } = frame;
  if (!known && !room) return deps;
  const store = deps.connections;
  const connections = Object.create(store) as T['connections'];
  connections.get = async (id: string) => {
    if (id !== frame.connectionId) return store.get(id);
    if (known) {
      const connection = known;
      known = undefined;
      return connection;
    }
    const now = await store.get(id);
    return now && room ? { ...now, roomId: room.roomId, username: room.username } : now;
  };
  return { ...deps, connections };
}

/**
 * The guess bucket a join by code draws from, and how long one guess takes to come back. Codes of the current
 * length share one bucket per source; each character fewer makes a random guess 32 times likelier to hit, so the
 * shorter codes of older rooms have a bucket of their own that refills 32 times slower per character, which keeps
 * the expected time to find a room the same for both (docs/SECURITY.md).
 */
function guessBucketOf(
  rate: SendRate,
  source: string,
  roomId: string,
): { bucket: string; intervalMs: number } {
  const shorter = Math.max(0, ROOM_CODE_LENGTH - roomId.length);
  return {
    bucket: shorter === 0 ? source : `${source}#${roomId.length}`,
    intervalMs: ((rate.windowSeconds * 1000) / rate.limit) * ROOM_CODE_ALPHABET.length ** shorter,
  };
}

interface JoinAttempt {
  roomId: string;
  key?: string;
  sourceIp?: string;
  /** The joining connection's `userId`: a signed-in user's guesses are counted for that user (limitOwner). */
  userId?: string;
  /** The joiner's key in a room (memberKey), when the connection is known: a banned one is refused BANNED. */
  memberKey?: (roomId: string) => string;
}

/** Whether `key` was once the room's invite key and a rotation replaced it (Room.formerKeyIds). */
const wasKeyOf = (room: Room, key: string) => room.formerKeyIds?.includes(keyIdOf(key)) === true;

/**
 * Decides whether a join may go ahead, before the use case moves the connection. Returns a room store that answers
 * the use case's first read of the room from the lookup made here (no second read for it), and the room's invite
 * key to hand to the member.
 * Throws RoomNotFound (unknown code or wrong key: the same answer), KeyReplaced (a key the room had before a
 * rotation) or RateLimited (the owner has no guesses left).
 *
 * The guess bucket is a token bucket kept as the time it is full again (the generic cell rate algorithm, the
 * store's takeGuess), and a guess is taken with one conditional write that fails on an empty bucket, so the joins of
 * a source at once, in any number of connections and frames, are answered at most the bucket's size:
 * - a join by code alone takes a guess **before** the room is read, and gives it back unless it failed: a right
 *   code costs nothing in the end, but holds a guess while it is looked up, so a source with k guesses left has k
 *   joins by code looked up at once at most;
 * - a join with a key reads the room first: the room's current key takes nothing; a key the room had before a
 *   rotation is refused KEY_REPLACED and takes nothing (only someone who once held the room's link can bring one,
 *   so it tells nothing a guess could learn); any other key takes a guess, refused RATE_LIMITED when there is none,
 *   so it is answered exactly as an unknown code is, whether or not the room exists.
 */
export async function admitJoin<T extends { rooms: Pick<RoomStore, 'get' | 'banOf'> }>(
  deps: T,
  guard: GuardDeps,
  attempt: JoinAttempt,
): Promise<{ deps: T; inviteKey?: string }> {
  if (attempt.roomId === LOBBY) return { deps };
  const rate = guard.limits.joinGuesses;
  const { bucket, intervalMs } = rate
    ? guessBucketOf(rate, limitOwner(attempt.userId, attempt.sourceIp), attempt.roomId)
    : { bucket: '', intervalMs: 0 };
  const nowMs = guard.now().getTime();
  const take = async () => {
    if (rate && !(await guard.store.takeGuess(bucket, nowMs, intervalMs, rate.limit)))
      throw tooManyFailedJoins();
  };
  const byCode = attempt.key === undefined;
  if (byCode) await take();
  let room: Room | undefined;
  let failed = false;
  try {
    // The member's ban item is read beside the room (core/moderation.ts): one round trip, as the room alone.
    const key = attempt.memberKey?.(attempt.roomId);
    let ban: BanItem | undefined;
    [room, ban] = await Promise.all([
      deps.rooms.get(attempt.roomId),
      key === undefined ? undefined : deps.rooms.banOf(attempt.roomId, key),
    ]);
    // A banned member is told so before its key is looked at: an old key is what it holds.
    if (room && key !== undefined && bannedBy(room, key, ban)) throw new Banned(attempt.roomId);
    const keyOk =
      room?.inviteKey !== undefined && !byCode && keysMatch(room.inviteKey, attempt.key as string);
    // A public room (protocol/directory.ts) is listed for anyone to join: its code lets in with any key or none, so
    // a member back with a key its owner since replaced (a reload's subscribe) is let in too.
    const open = room?.isPublic === true && room.dmMembers === undefined;
    if (room && !open && !byCode && !keyOk && wasKeyOf(room, attempt.key as string))
      throw new KeyReplaced(attempt.roomId);
    // A room whose key was rotated admits only its current key: by code alone it is answered as an unknown code. A
    // direct-message room admits its two members only, and answers anyone else as an unknown code (memberships.ts).
    const outsider = room?.dmMembers !== undefined && !room.dmMembers.includes(attempt.userId ?? '');
    const keyRefused = byCode ? room?.keyRequired === true : !keyOk;
    if (!room || outsider || (keyRefused && !open)) {
      failed = true;
      // A wrong key looks exactly like an unknown code: a failed guess too, refused once the bucket is empty.
      if (!byCode) await take();
      throw new RoomNotFound(attempt.roomId);
    }
  } finally {
    if (rate && byCode && !failed) await guard.store.giveGuessBack(bucket, intervalMs);
  }
  // Told only to a join that would have got in: an ended room is no oracle for codes.
  const end = roomEnd(room, new Date(nowMs));
  if (end) throw new RoomClosed(attempt.roomId, end);
  const store = deps.rooms;
  const rooms = Object.create(store) as T['rooms'];
  // The use case's first read of this room is answered from the lookup; a later one (the join's seq after the
  // move) must see the room as it is then, so it reads.
  const found = room;
  let looked: Room | undefined = room;
  rooms.get = async (id: string) => {
    if (id !== found.roomId || looked === undefined) return store.get(id);
    const answer = looked;
    looked = undefined;
    return answer;
  };
  return { deps: { ...deps, rooms }, inviteKey: room.inviteKey };
}

const tooManyFailedJoins = () =>
  new RateLimited('Too many failed joins from your network. Use an invite link, or try later.');

/** Ports whose new rooms get an invite key; `inviteKey()` tells it after createRoom. */
export function withInviteKeys<T extends { rooms: Pick<RoomStore, 'create'> }>(
  deps: T,
): { deps: T; inviteKey: () => string | undefined } {
  let key: string | undefined;
  const store = deps.rooms;
  const rooms = Object.create(store) as T['rooms'];
  rooms.create = (room: Room) => {
    key = newInviteKey();
    return store.create({ ...room, inviteKey: key });
  };
  return { deps: { ...deps, rooms }, inviteKey: () => key };
}

/**
 * The codes that count as a strike, and on which routes: refusals for going too fast and malformed frames (a client
 * that follows the protocol never sends one: its own checks come first) on every route, and failed joins; not a
 * refusal for the server's state or policy. An error that decides for itself (ChatError.strike) overrides this.
 */
const STRIKE_CODES: Readonly<Partial<Record<ChatError['code'], 'every route' | readonly string[]>>> = {
  RATE_LIMITED: 'every route',
  BAD_REQUEST: 'every route',
  MESSAGE_TOO_LARGE: 'every route',
  // A join by a wrong code or key is a guess at a room, and so is a room of a `subscribe` (struck per room there,
  // functions/rooms/subscribe.ts); the same code elsewhere (a room that is gone) is not.
  ROOM_NOT_FOUND: ['joinroom', 'subscribe'],
};

export function isStrike(error: ChatError, action: string): boolean {
  if (error.strike !== undefined) return error.strike;
  const routes = STRIKE_CODES[error.code];
  return routes === 'every route' || (routes?.includes(action) ?? false);
}

/**
 * Records a strike for a refused frame in the current strike window; at the strike limit within that window, tells
 * the connection why and closes it. Frames already in flight strike past the limit: they close it again only at each
 * further multiple of the limit (in case the first close did not land), not each one, so a flood's tail costs no
 * management API call per frame. Never throws: the refusal the client gets matters more than the bookkeeping.
 */
export async function strike(
  guard: GuardDeps,
  connectionId: string,
  error: ChatError,
  action: string,
): Promise<'counted' | 'closed' | 'ignored'> {
  const strikes = guard.limits.strikes;
  if (strikes === undefined || !isStrike(error, action)) return 'ignored';
  const { limit } = strikes;
  const window = Math.floor(guard.now().getTime() / 1000 / strikes.windowSeconds);
  const count = await guard.store.strike(connectionId, window).catch(() => 0);
  if (count < limit || count % limit !== 0) return 'counted';
  await closeForAbuse(guard, connectionId, {
    type: 'error',
    code: 'RATE_LIMITED',
    message: 'Too many refused requests: this connection is closed. Slow down before reconnecting.',
    action,
  });
  return 'closed';
}
