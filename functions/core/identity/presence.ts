import { randomUUID } from 'node:crypto';
import type { ChatEvent, EventPublisher, PresenceWake } from '#core/ports';
import type { MemberChange, MembersChangedFrame, PresenceFrame } from '#protocol';

/**
 * Presence collected per room and told once a turn (docs/DECISIONS.md, "Presence collected per room, told once a
 * turn"). A join or leave is written to the room's presence board (core/identity/dynamoPresence.ts); the write that opens
 * the board publishes the room's one wake (`Presence`, no frame); the fan-out takes the board whole and posts each
 * member one frame for everything on it (presenceFrameOf).
 */

/**
 * The event that tells a room someone joined or left it (the lobby is quiet: callers never send one there); `reason`
 * when the room's staff made them leave (a removal, a ban), so members read "removed" rather than "left".
 */
export function presenceEvent(
  roomId: string,
  event: PresenceFrame['event'],
  username: string,
  reason?: PresenceFrame['reason'],
): ChatEvent {
  const frame: PresenceFrame = { type: 'presence', roomId, event, username, ...(reason && { reason }) };
  return { type: 'Presence', messageId: randomUUID(), roomId, payload: JSON.stringify(frame) };
}

/**
 * Changes a board names at most: past them a change is counted, not named, so the board's item stays ≤ ~3 KB (3 WCU a
 * write, however long the burst) and a turn's frame a few KB.
 * Exported for tests: the named changes a test's burst goes past.
 */
export const PRESENCE_NAMED = 50;

/**
 * The key level (core/aws/roomMembers.ts: ⌈members / 100⌉, grow-only) up to which a room hears names: a room that has
 * held more than 100 members hears only how many joined and left, as big channels do, however many came.
 * Exported for tests: the level a test's big room is raised past.
 */
export const NAMED_PRESENCE_LEVEL = 1;

/**
 * How long a board may stay open before a change publishes its wake again: a wake lost (PutEvents failed past its
 * retries) would leave the board untold, since only the opening write publishes; far above a turn (≈ 1 s).
 */
export const PRESENCE_STALE_MS = 30_000;

/** What a room's board held when the fan-out took it: the named changes in order, and the changes only counted. */
export interface BoardContent {
  changes: MemberChange[];
  joined: number;
  left: number;
}

/** A room's presence board (core/identity/dynamoPresence.ts). */
export interface PresenceBoard {
  /**
   * Adds one change to the room's board: named while the board names fewer than PRESENCE_NAMED, counted after.
   * Answers whether the room's wake is to be published: this write opened the board, or found it open for longer than
   * PRESENCE_STALE_MS.
   */
  write(roomId: string, change: MemberChange, nowMs: number): Promise<boolean>;
  /** Takes the room's board whole (it is empty after); undefined when nothing was on it. */
  take(roomId: string): Promise<BoardContent | undefined>;
}

const boardWake = (roomId: string): PresenceWake => ({
  type: 'Presence',
  messageId: randomUUID(),
  roomId,
  board: true,
});

/**
 * The publisher the features that tell presence are given: a `Presence` event with a frame goes on the room's board,
 * and only a board opened by it (or stale) puts the room's wake on the bus; every other event is published as it is.
 */
export class PresenceOnBoards implements EventPublisher {
  constructor(
    private readonly events: EventPublisher,
    private readonly board: PresenceBoard,
    private readonly now: () => number = Date.now,
  ) {}

  async publish(events: Parameters<EventPublisher['publish']>[0]): Promise<void> {
    const others: typeof events = [];
    const changes: (MemberChange & { roomId: string })[] = [];
    for (const event of events) {
      const change = event.type === 'Presence' ? changeOf(event) : undefined;
      if (change) changes.push(change);
      else others.push(event);
    }
    // The writes of one publish side by side (callers publish ten at a time): one room's serialize on its item, so
    // one of them opens its board.
    const opened = await Promise.all(changes.map((c) => this.board.write(c.roomId, c, this.now())));
    const wakes = new Map<string, PresenceWake>();
    changes.forEach((c, i) => {
      if (opened[i] && !wakes.has(c.roomId)) wakes.set(c.roomId, boardWake(c.roomId));
    });
    const all = [...others, ...wakes.values()];
    for (let i = 0; i < all.length; i += 10) await this.events.publish(all.slice(i, i + 10));
  }
}

/** A presence event's change and room, from its frame; undefined for anything else (a wake, a foreign payload). */
function changeOf(event: object): (MemberChange & { roomId: string }) | undefined {
  const { payload } = event as { payload?: unknown };
  if (typeof payload !== 'string') return undefined;
  try {
    const frame = JSON.parse(payload) as Partial<PresenceFrame>;
    if (
      frame.type === 'presence' &&
      typeof frame.roomId === 'string' &&
      (frame.event === 'join' || frame.event === 'leave') &&
      typeof frame.username === 'string'
    )
      return {
        roomId: frame.roomId,
        event: frame.event,
        username: frame.username,
        ...(frame.reason && { reason: frame.reason }),
      };
  } catch {
    // Not a presence frame: published as it came.
  }
  return undefined;
}

/**
 * The one frame a turn's board tells every member, undefined when it tells nothing. Named changes are netted per name:
 * a name that left and came back (or came and left) within the turn is no change, any other keeps its first event,
 * in order. A room up to NAMED_PRESENCE_LEVEL hears the names (a lone one as a `presence` frame) and the counted
 * rest; a bigger room hears only the counts (`changes` empty), so the frame stays ~60 bytes however many came.
 */
export function presenceFrameOf(roomId: string, board: BoardContent, keyLevel: number): string | undefined {
  const named = netted(board.changes);
  let { joined, left } = board;
  let changes = named;
  if (keyLevel > NAMED_PRESENCE_LEVEL) {
    joined += named.filter((c) => c.event === 'join').length;
    left += named.filter((c) => c.event === 'leave').length;
    changes = [];
  }
  if (changes.length === 0 && joined === 0 && left === 0) return undefined;
  const [only] = changes;
  if (only && changes.length === 1 && joined === 0 && left === 0) {
    const frame: PresenceFrame = { type: 'presence', roomId, ...only };
    return JSON.stringify(frame);
  }
  const frame: MembersChangedFrame = {
    type: 'memberschanged',
    roomId,
    changes,
    ...(joined > 0 && { joined }),
    ...(left > 0 && { left }),
  };
  return JSON.stringify(frame);
}

/**
 * Each name's net change over the turn, in the order of its first: none when its first and last events differ; a leave
 * keeps the reason of the name's last change (a ban after a plain leave is told as the ban).
 */
function netted(changes: MemberChange[]): MemberChange[] {
  const last = new Map<string, MemberChange>();
  for (const c of changes) last.set(c.username, c);
  const seen = new Set<string>();
  const out: MemberChange[] = [];
  for (const c of changes) {
    if (seen.has(c.username)) continue;
    seen.add(c.username);
    const final = last.get(c.username);
    if (final?.event === c.event)
      out.push({ event: c.event, username: c.username, ...(final.reason && { reason: final.reason }) });
  }
  return out;
}
