import { requireConnection } from '#core/identity/connections';
import { memberKey, senderOf } from '#core/memberKeys';
import { mutedUntil } from '#core/moderation';
import type { ChatPorts, Connection, Member, Room } from '#core/ports';
import { postToConnections } from '#deliver/delivery';
import { LOBBY, TYPING_GRACE_MS, type TypingFrame } from '#protocol';

/**
 * Typing indicators (docs/PROTOCOL.md, "Typing"): a member's heartbeat goes straight from this route to the other
 * members of a room of at most `maxMembers`, posted once, never stored in history and never retried (the next
 * heartbeat, or the receivers' expiry, makes up for a lost one). docs/DECISIONS.md says why not through the fan-out.
 */

/** The connection item's typing marks (epoch ms), kept beside the frame count so the throttle reads them free. */
interface TypingMarks {
  /** The last heartbeat relayed for this connection. */
  typingAt?: number;
  /** The `typingAt` whose stop was relayed: a second stop of the same heartbeat is dropped. */
  typingStoppedAt?: number;
}

export interface TypingStore {
  /**
   * Notes a relayed heartbeat in `roomId` (a room the connection follows) at `at` if the last one is still `previous`
   * (undefined: none): one conditional write, so two frames racing in two invocations relay one heartbeat. False when
   * the condition failed.
   */
  noteStart(connectionId: string, roomId: string, at: number, previous: number | undefined): Promise<boolean>;
  /** Notes the stop of heartbeat `typingAt`, if it is still the last one and was in `roomId`. */
  noteStop(connectionId: string, roomId: string, typingAt: number): Promise<boolean>;
  /** At most `limit + 1` members of the room: one more than `limit` says the room is bigger, for a bounded read. */
  membersUpTo(roomId: string, limit: number): Promise<Member[]>;
  /**
   * Takes the member's turn to show typing in `roomId` at `at`, if its last turn there (from any of its connections)
   * was at least `intervalMs` ago: one conditional write, so a member's devices together relay one heartbeat per
   * interval. False when the turn is not due.
   */
  takeMemberTurn(roomId: string, member: string, at: number, intervalMs: number): Promise<boolean>;
}

interface TypingSettings {
  /** Heartbeats relayed per member at most once per this many ms (setting TypingIntervalSeconds). */
  intervalMs: number;
  /** Rooms with more members relay no typing (setting TypingMaxMembers); 0 = typing off. */
  maxMembers: number;
}

/** The account's posting budget (FanoutPostsPerSecond), which every post to a connection draws from. */
interface TypingBudget {
  /** Takes `posts` from the current second's budget; false when it has none to spare (nothing taken). */
  take(posts: number): Promise<boolean>;
}

/** Exported for tests: the port typingBudget.test.ts builds. */
export type TypingDeps = Pick<ChatPorts, 'connections' | 'notifier' | 'now'> & {
  typing: TypingStore;
  settings: TypingSettings;
  budget?: TypingBudget;
  /** The room's item, where its mutes are (core/moderation.ts): read once per heartbeat that would be relayed. */
  rooms?: { get(roomId: string): Promise<Room | undefined> };
};

/** What became of a typing frame; only `relayed` costs posts. */
type TypingOutcome =
  | { kind: 'relayed'; posted: number }
  | {
      kind: 'dropped';
      reason: 'lobby' | 'off' | 'throttled' | 'notTyping' | 'roomTooBig' | 'noBudget' | 'muted';
    };

/**
 * Relays a member's typing (`typing` true: a heartbeat; false: it stopped) to the others of its room. A heartbeat
 * within the interval of the last is dropped before any write, from the connection as the frame count read it,
 * unless the member sent a message since (its send ended its typing for the others, so the next keystroke shows
 * again at once). A stop is relayed only for a heartbeat still showing, once.
 */
export async function relayTyping(
  deps: TypingDeps,
  connectionId: string,
  typing: boolean,
  postBy?: number,
): Promise<TypingOutcome> {
  const { settings } = deps;
  const connection = (await requireConnection(deps, connectionId)) as Connection & TypingMarks;
  const { roomId } = connection;
  if (roomId === LOBBY) return { kind: 'dropped', reason: 'lobby' };
  if (settings.maxMembers <= 0) return { kind: 'dropped', reason: 'off' };
  const now = deps.now().getTime();
  const last = connection.typingAt;
  const expiresInMs = settings.intervalMs + TYPING_GRACE_MS;
  if (typing) {
    const sentSince = last !== undefined && (connection.sendBucket?.at ?? 0) > last;
    if (last !== undefined && now - last < settings.intervalMs && !sentSince)
      return { kind: 'dropped', reason: 'throttled' };
    // The interval is the member's, not each connection's: a signed-in member's devices share one turn. A guest's
    // identity is its connection, which the marks above already limit. A send lets the next keystroke through.
    if (
      connection.userId?.startsWith('user:') &&
      !sentSince &&
      !(await deps.typing.takeMemberTurn(roomId, connection.userId, now, settings.intervalMs))
    )
      return { kind: 'dropped', reason: 'throttled' };
    // A muted member shows the room no typing, as it sends nothing: dropped without an error frame (typing is
    // one-way), the room read only for a heartbeat that got past the interval. A stop still goes through.
    const room = deps.rooms && (await deps.rooms.get(roomId));
    if (
      room &&
      mutedUntil(room, memberKey(roomId, senderOf(connection)), Math.floor(now / 1000)) !== undefined
    )
      return { kind: 'dropped', reason: 'muted' };
    if (!(await deps.typing.noteStart(connectionId, roomId, now, last)))
      return { kind: 'dropped', reason: 'throttled' };
  } else {
    if (last === undefined || now - last >= expiresInMs || connection.typingStoppedAt === last)
      return { kind: 'dropped', reason: 'notTyping' };
    if (!(await deps.typing.noteStop(connectionId, roomId, last)))
      return { kind: 'dropped', reason: 'notTyping' };
  }
  const members = await deps.typing.membersUpTo(roomId, settings.maxMembers);
  if (members.length > settings.maxMembers) return { kind: 'dropped', reason: 'roomTooBig' };
  // The typist's key, as its messages carry it: a receiver that blocked the typist hides its typing too.
  const shown = { username: connection.username, authorKey: memberKey(roomId, senderOf(connection)) };
  const frame: TypingFrame = typing
    ? { type: 'typing', roomId, ...shown, typing, expiresInMs, at: now }
    : { type: 'typing', roomId, ...shown, typing };
  // Nobody is told their own typing: a signed-in member's other devices in the room get no frame of it either. In a
  // room a member's connections all show one name and no other member shows it (rooms/joining.ts newcomerName), so
  // the name leaves out exactly the member's connections. A guest is its connection alone.
  const signedIn = connection.userId?.startsWith('user:') === true;
  const others = members
    .filter((m) => m.connectionId !== connectionId && !(signedIn && m.username === connection.username))
    .map((m) => m.connectionId);
  // Typing posts count against the account's posting budget like the fan-out's, and are the first to give way: a
  // second without room for typing (half its budget taken: TYPING_BUDGET_CEILING, postBudget.ts) drops the
  // heartbeat (the next one, or the receivers' expiry, makes up for it) rather than take posts a room's messages need.
  if (others.length > 0 && deps.budget && !(await deps.budget.take(others.length)))
    return { kind: 'dropped', reason: 'noBudget' };
  const deadline = postBy === undefined ? undefined : { stopAt: postBy - 500, giveUpAt: postBy };
  const report = await postToConnections(deps.notifier, others, JSON.stringify(frame), deadline);
  return { kind: 'relayed', posted: report.delivered };
}
