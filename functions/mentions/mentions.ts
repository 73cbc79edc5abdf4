import type { RoomMemberCheck } from '#core/aws/roomMemberCheck';
import type { UserDevices } from '#core/aws/userDevices';
import type { Connection, Member, Notifier } from '#core/ports';
import { logger } from '#platform/powertools';
import { MENTIONS_PER_MESSAGE, type MentionFrame, REPLY_QUOTE_CHARS } from '#protocol';
import type { ThreadReplyNotice } from '#threads/threads';

/**
 * Mentions: `@name` in a message names a member of its room. The server decides who, among the room's members as
 * the room index lists them (never a name the sender makes up), and stores their names with the message
 * (`mentions`), so every member's client can highlight a message that names them. Signed-in members named also get a
 * `mention` frame on each of their devices (every tab and phone, whatever room it shows), one Query of the user index
 * per member named.
 */

/** Members of a room read at most to resolve a message's mentions: one Query page or a few, bounded for big rooms. */
export const MENTION_SCAN_MEMBERS = 1000;
/** Signed-in members named in one message whose devices get a `mention` frame; the rest see the highlight only. */
const MENTION_NOTICES_PER_MESSAGE = 5;
/** Followers of a thread told of one reply in it (threads.ts), besides the members it names. */
const THREAD_NOTICES_PER_REPLY = 20;
/** Devices told per member, as for a direct message's notice. */
const DEVICES_PER_MEMBER = 10;

/** A character that continues a name: `@bob` does not name bob in `@bobby`, but does in `@bob,` and `@bob.`. */
const NAME_GOES_ON = /[\p{L}\p{M}\p{N}_]/u;

const fold = (s: string) => s.normalize('NFKC').toLocaleLowerCase('en');

/**
 * The members `text` names with `@name` (case and width folded), in the order first named, at most
 * MENTIONS_PER_MESSAGE names; a longer name wins over one it starts with (`@ana maria` over `@ana`). Every connection
 * under a named name is returned (one member may have several); the sender's own name names nobody.
 */
export function mentionedIn(
  text: string,
  members: readonly Member[],
  senderName: string,
): { names: string[]; members: Member[] } {
  if (!text.includes('@')) return { names: [], members: [] };
  const folded = fold(text);
  const byName = new Map<string, { name: string; members: Member[] }>();
  for (const member of members) {
    if (member.username === senderName) continue;
    const key = fold(member.username);
    const entry = byName.get(key) ?? { name: member.username, members: [] };
    entry.members.push(member);
    byName.set(key, entry);
  }
  const longestFirst = [...byName.keys()].sort((a, b) => b.length - a.length);
  const names: string[] = [];
  const named: Member[] = [];
  for (let at = folded.indexOf('@'); at !== -1 && names.length < MENTIONS_PER_MESSAGE; ) {
    const key = longestFirst.find(
      (k) => folded.startsWith(k, at + 1) && !NAME_GOES_ON.test(folded.charAt(at + 1 + k.length)),
    );
    const entry = key === undefined ? undefined : byName.get(key);
    if (entry && !names.includes(entry.name)) {
      names.push(entry.name);
      named.push(...entry.members);
    }
    at = folded.indexOf('@', at + 1 + (key?.length ?? 0));
  }
  return { names, members: named };
}

export interface MentionNoticeDeps {
  devices: UserDevices;
  notifier: Pick<Notifier, 'post'>;
  /**
   * A sender's notices to one person in one room, coalesced: `take` is true for the first mention of each interval
   * (MentionNoticeSeconds; a turn in the Limits table shared by the sender's connections) and false for the rest,
   * whose message still names the person (its highlight, its unread mention count). Absent: every mention notifies.
   */
  turns?: { take(roomId: string, sender: string, person: string): Promise<boolean> };
  /**
   * Who of the candidates is a member of the room now (their membership, read strongly consistent): a person removed
   * or banned is told nothing more of it, though the room index or the thread's follower list still names them.
   * Absent: every candidate is told.
   */
  members?: RoomMemberCheck;
}

/**
 * Posts `mention` to every device of each signed-in member named (at most MENTION_NOTICES_PER_MESSAGE of them),
 * except their connections in the room itself, which get the message. `named` are the named members' connections
 * in the room as the send read them. Advisory, like a direct message's notice: the message is stored and sent
 * already, so a failure is logged, never the sender's error. Returns the posts made.
 */
export async function notifyMentioned(
  deps: MentionNoticeDeps,
  /** `roomName`: the room's name, which the frame carries (absent: the room has none, or it is not known). */
  message: { roomId: string; seq: number; username: string; text: string; roomName?: string },
  named: readonly Connection[],
  /** The sender's identity (senderOf): whose turn a notice takes. */
  sender: string,
  /** A reply in a thread: its followers are told too (at most THREAD_NOTICES_PER_REPLY), the frame names the thread. */
  thread?: ThreadReplyNotice,
): Promise<number> {
  try {
    const inRoom = new Set(named.map((c) => c.connectionId));
    const candidates = [
      ...new Set(named.map((c) => c.userId).filter((id): id is string => id?.startsWith('user:') === true)),
    ].slice(0, MENTION_NOTICES_PER_MESSAGE);
    for (const user of thread?.users.slice(0, THREAD_NOTICES_PER_REPLY) ?? [])
      if (!candidates.includes(user)) candidates.push(user);
    const members = deps.members && (await deps.members.membersOf(message.roomId, candidates));
    const current = members ? candidates.filter((u) => members.has(u)) : candidates;
    // A flood of `@bob` from one sender, over however many connections, tells bob once per interval.
    const turns = deps.turns;
    const users = turns
      ? (
          await Promise.all(
            current.map(async (u) => ((await turns.take(message.roomId, sender, u)) ? u : undefined)),
          )
        ).filter((u): u is string => u !== undefined)
      : current;
    const frame: MentionFrame = {
      type: 'mention',
      roomId: message.roomId,
      ...(message.roomName && { name: message.roomName }),
      seq: message.seq,
      username: message.username,
      text: [...message.text].slice(0, REPLY_QUOTE_CHARS).join(''),
      ...(thread && { threadOf: thread.threadOf }),
    };
    const payload = JSON.stringify(frame);
    const devices = (await Promise.all(users.map((u) => deps.devices.connectionsOf(u, DEVICES_PER_MEMBER))))
      .flat()
      .filter((id) => !inRoom.has(id));
    const outcomes = await Promise.all(
      devices.map((id) => deps.notifier.post(id, payload).catch(() => 'failed')),
    );
    return outcomes.filter((o) => o === 'delivered').length;
  } catch (error) {
    logger.warn('mention notice not sent', {
      roomId: message.roomId,
      seq: message.seq,
      error: error as Error,
    });
    return 0;
  }
}
