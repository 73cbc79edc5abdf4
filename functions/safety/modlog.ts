import { moderationOf, untilText } from '#core/moderation';
import { parseCursorPage } from '#core/pages';
import { epochSeconds } from '#core/roomLife';
import { MODERATION_LIMITS, MODERATION_PATTERNS, type ModLogFrame, type MutedMember } from '#protocol';
import type { LogAfter, RoomLog } from './audit';
import { type SafetyDeps, staffCaller } from './safety';

/**
 * `modlog`: what a room's owner and moderators see of the room's moderation (docs/PROTOCOL.md, "Moderation"): its
 * log, newest first, a page at a time (the rows every owner's and moderator's action writes, core/identity/
 * dynamoSessions.ts), and on the first page who is muted now (the room's moderation item, read with the room) and
 * who is banned (the room's ban roster: one GetItem, ≤ bannedPerRoom names), so Unmute and Unban are one click.
 */

type ModLogDeps = Pick<SafetyDeps, 'connections' | 'rooms' | 'now'> & { log: RoomLog };

const LOG_CURSOR = new RegExp(MODERATION_PATTERNS.logCursor);

/** A `modlog` page's size and start: `limit` 1–logListed (absent: logListed), `before` a page's `next`. */
export function parseLogPage(limit: unknown, before: unknown): { limit: number; after?: LogAfter } {
  const page = parseCursorPage(limit, before, {
    max: MODERATION_LIMITS.logListed,
    cursor: LOG_CURSOR,
    route: 'modlog',
    newest: 'the newest rows',
  });
  return { limit: page.limit, ...(page.cursor && { after: { at: page.cursor[0], id: page.cursor[1] } }) };
}

export async function modLog(
  deps: ModLogDeps,
  connectionId: string,
  page: { limit: number; after?: LogAfter },
): Promise<ModLogFrame> {
  const { roomId, room } = await staffCaller(deps, connectionId, 'read', 'its moderation log');
  const first = page.after === undefined;
  const [found, bans] = await Promise.all([
    deps.log.ofRoomLog(roomId, page.limit, page.after),
    first ? deps.rooms.bans(room) : undefined,
  ]);
  const frame: ModLogFrame = {
    type: 'modlog',
    roomId,
    entries: found.entries,
    ...(found.next && { next: `${found.next.at}~${found.next.id}` }),
  };
  if (!first) return frame;
  const now = epochSeconds(deps.now());
  const state = moderationOf(room);
  const muted: MutedMember[] = [...state.muted.values()]
    .filter((entry) => Number(entry.until) > now)
    .map((entry) => {
      const until = untilText(Number(entry.until));
      return { username: entry.name, ...(until && { until }) };
    })
    .sort((a, b) => a.username.localeCompare(b.username));
  // Bans on the room's own item (the older layout) count as the roster's do.
  const banned = [
    ...new Set([...(bans ?? []).map((b) => b.name), ...[...state.banned.values()].map((b) => b.name)]),
  ];
  return { ...frame, muted, banned: banned.sort((a, b) => a.localeCompare(b)) };
}
