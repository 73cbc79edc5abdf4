import { createHash } from 'node:crypto';
import type { RoomMemberCheck, RoomNoticeCheck } from '#core/aws/roomMemberCheck';
import type { UserDevices } from '#core/aws/userDevices';
import { memberKey } from '#core/memberKeys';
import type { Member } from '#core/ports';
import { mentionedIn } from '#mentions/mentions';
import { logger } from '#platform/powertools';
import {
  DIRECTORY_LIMITS,
  DM_ROOM_CODE_LENGTH,
  foldName,
  MENTIONS_PER_MESSAGE,
  type MessageFrame,
  type Person,
  PUSH_LIMITS,
  type PushPayload,
  type PushReason,
} from '#protocol';
import type { PushSender, PushSubscriptionStore } from './ports';

/**
 * Who hears of a message by push, and when (docs/DECISIONS.md, "Push notifications"). Every `MessageSent` event of a
 * chat message reaches this through the bus (rule PushOnMessageRule), after the message is stored and on its way to
 * the room; a push is advisory, so nothing here ever fails the send or the fan-out.
 *
 * - **Who**: the signed-in members its `@name`s name (resolved among the room's signed-in members, connected or not,
 *   as `findpeople` finds them), the other member of a direct-message room, and the followers of the thread it
 *   replies in (`threadFollowers`); never its author.
 * - **When**: only a person with no live connection. A connected person already has the message, the `mention`
 *   frame, or the room's unread badge, and a hidden tab of the web chat shows its own browser notification from
 *   those frames (web/notify.js), so a push would say it twice.
 * - **How often**: one push per person and room per PushCoalesceSeconds (a turn in the Limits table, one
 *   conditional write), and the push's Topic lets the push service keep only the latest undelivered one.
 */

/** People told of one message at most: a message names at most MENTIONS_PER_MESSAGE, plus its DM peer or thread. */
const PUSH_RECIPIENTS_PER_MESSAGE = MENTIONS_PER_MESSAGE + 5;
/** Subscriptions pushed to per person: PUSH_LIMITS.subscriptionsPerUser. */
const SUBSCRIPTIONS_READ = PUSH_LIMITS.subscriptionsPerUser;
/** Members read per distinct name start, to resolve `@name` among a room's signed-in members. */
const CANDIDATES_PER_NAME = 20;
/** How long a push service keeps a push for a device that is offline (RFC 8030 TTL): a day. */
const PUSH_TTL_SECONDS = 86_400;
/** A character that continues a name's first word (as mentions.ts reads a name). */
const NAME_CHAR = /[\p{L}\p{M}\p{N}_]/u;

export interface NotifyDeps {
  /** A direct-message room's two members (`userId`s), or undefined for any other room. */
  dmMembersOf(roomId: string): Promise<string[] | undefined>;
  /** The room's signed-in members whose folded name starts with `prefix` (the memberships' PeopleIndex). */
  namedIn(roomId: string, prefix: string, limit: number): Promise<Person[]>;
  devices: UserDevices;
  /** Takes the person's push turn in the room: true at most once per PushCoalesceSeconds. */
  takeTurn(roomId: string, userId: string): Promise<boolean>;
  subscriptions: PushSubscriptionStore;
  sender: PushSender;
  /**
   * Threads: the signed-in users who follow the thread `message` replies in (its root's author, its repliers, those
   * who chose to follow), or none for a message that is no thread reply (wiring.ts reads the root's item).
   */
  threadFollowers?: (message: MessageFrame) => Promise<string[]>;
  /**
   * Who is a member of the room now (memberships read strongly consistent): a mention or a thread is pushed to them
   * alone, so a person removed or banned hears nothing more of the room, though the PeopleIndex (eventually
   * consistent) or the thread's follower list still names them. A direct room's two members are its own. With
   * `noticesOf`, each person's notices in the room (`setnotices`) are read in the same BatchGetItem: a room muted
   * pushes nothing, one set to mentions pushes only a mention, as the web chat notifies.
   */
  members?: RoomMemberCheck & Partial<RoomNoticeCheck>;
  /**
   * Whether `userId` blocks the author of `message` (their block list names an identity whose member key in the room
   * is the message's `authorKey`): a blocked person's mentions, direct messages and thread replies push nothing to
   * the blocker, as the web chat hides their messages and notices.
   */
  blocksAuthor?: (userId: string, message: MessageFrame) => Promise<boolean>;
  /**
   * The room's name (undefined: never named), read from the room's item only for an event that does not carry it (a
   * retry's publish, which took no seq) and only once someone is to be pushed; absent: such a push names the code.
   */
  roomNameOf?: (roomId: string) => Promise<string | undefined>;
}

export interface NotifyReport {
  /** Recipients and why each was or was not pushed. */
  people: {
    userId: string;
    reason: PushReason;
    outcome: 'connected' | 'coalesced' | 'pushed' | 'no-subscription' | 'blocked' | 'muted';
  }[];
  pushes: number;
  removed: number;
}

/** The distinct folded first words after each `@` of `text`: the name starts a mention may have. */
function mentionPrefixes(text: string): string[] {
  const prefixes = new Set<string>();
  const chars = [...text];
  for (let i = 0; i < chars.length && prefixes.size < MENTIONS_PER_MESSAGE; i++) {
    if (chars[i] !== '@') continue;
    let word = '';
    for (let j = i + 1; j < chars.length && NAME_CHAR.test(chars[j] ?? ''); j++) word += chars[j];
    if (word !== '') prefixes.add(foldName(word));
  }
  return [...prefixes];
}

/** The signed-in members `message` names, resolved among the room's members as mentions.ts does. */
async function mentioned(deps: NotifyDeps, message: MessageFrame): Promise<string[]> {
  const prefixes = mentionPrefixes(message.text);
  if (prefixes.length === 0) return [];
  const found = (
    await Promise.all(prefixes.map((p) => deps.namedIn(message.roomId, p, CANDIDATES_PER_NAME)))
  ).flat();
  const members = found.map((p) => ({ connectionId: p.userId, username: p.username }) as Member);
  return [
    ...new Set(mentionedIn(message.text, members, message.username).members.map((m) => m.connectionId)),
  ];
}

/**
 * Of the people a message concerns, those a push may reach: members of the room now (a direct room's two are its
 * own, member or not) whose notices there take it — 'all' every reason, 'mentions' a mention alone, 'mute' none
 * (reported `muted`). Without `noticesOf`, membership alone; without `members`, everyone concerned.
 */
async function wanted(
  deps: NotifyDeps,
  roomId: string,
  concerned: [string, PushReason][],
  report: NotifyReport,
): Promise<[string, PushReason][]> {
  const { members } = deps;
  if (!members) return concerned;
  if (members.noticesOf) {
    const notices = await members.noticesOf(
      roomId,
      concerned.map(([userId]) => userId),
    );
    return concerned.filter(([userId, reason]) => {
      const choice = notices.get(userId) ?? (reason === 'dm' ? 'all' : undefined);
      if (choice === undefined) return false;
      if (choice === 'all' || (choice === 'mentions' && reason === 'mention')) return true;
      report.people.push({ userId, reason, outcome: 'muted' });
      return false;
    });
  }
  const checked = concerned.filter(([, reason]) => reason !== 'dm').map(([userId]) => userId);
  const found = checked.length > 0 ? await members.membersOf(roomId, checked) : new Set<string>();
  return concerned.filter(([userId, reason]) => reason === 'dm' || found.has(userId));
}

/**
 * Where a push says the message is, asked once someone is to be pushed: a direct-message room (its other member wrote
 * it), else the room's name as the event carried it (`known`; null: none), else as `roomNameOf` reads it, at most once
 * per message. Cut to DIRECTORY_LIMITS.roomNameMaxChars, so the payload stays within Web Push's 4 KB.
 */
function placeOf(
  deps: NotifyDeps,
  roomId: string,
  direct: boolean,
  known: string | null | undefined,
): () => Promise<Pick<PushPayload, 'roomName' | 'direct'>> {
  let place: Promise<Pick<PushPayload, 'roomName' | 'direct'>> | undefined;
  const named = async () => {
    const name = known === undefined ? await deps.roomNameOf?.(roomId) : known;
    return name ? { roomName: [...name].slice(0, DIRECTORY_LIMITS.roomNameMaxChars).join('') } : {};
  };
  return () => {
    place ??= direct ? Promise.resolve({ direct: true as const }) : named();
    return place;
  };
}

/** The room's topic for the push service: 32 base64url characters (RFC 8030 §5.4 allows at most 32). */
const topicOf = (roomId: string) => createHash('sha256').update(roomId).digest('base64url').slice(0, 32);

/**
 * Pushes `message` to each person it concerns who is not connected, once per person and room per interval, to
 * each of their subscriptions; a subscription its push service calls gone (404/410) is removed. `roomName`: the
 * room's name as its `MessageSent` event carried it (null: none; undefined: not carried, read if someone is pushed).
 */
export async function notifyByPush(
  deps: NotifyDeps,
  message: MessageFrame,
  roomName?: string | null,
): Promise<NotifyReport> {
  const report: NotifyReport = { people: [], pushes: 0, removed: 0 };
  const byAuthor = (userId: string) =>
    message.authorKey !== undefined && memberKey(message.roomId, userId) === message.authorKey;
  const [dm, named, thread] = await Promise.all([
    // Only a direct-message room has a 12-character code: any other room costs no read here.
    message.roomId.length === DM_ROOM_CODE_LENGTH ? deps.dmMembersOf(message.roomId) : undefined,
    mentioned(deps, message),
    deps.threadFollowers ? deps.threadFollowers(message) : Promise.resolve([]),
  ]);
  const reasons = new Map<string, PushReason>();
  for (const userId of named) reasons.set(userId, 'mention');
  for (const userId of dm ?? []) if (!reasons.has(userId)) reasons.set(userId, 'dm');
  for (const userId of thread) if (!reasons.has(userId)) reasons.set(userId, 'thread');
  const concerned = [...reasons]
    .filter(([userId]) => !byAuthor(userId))
    .slice(0, PUSH_RECIPIENTS_PER_MESSAGE);
  const people = await wanted(deps, message.roomId, concerned, report);
  const place = placeOf(deps, message.roomId, dm !== undefined, roomName);
  const payload = async (reason: PushReason): Promise<PushPayload> => ({
    type: 'push',
    reason,
    roomId: message.roomId,
    seq: message.seq,
    username: message.username,
    text: [...message.text].slice(0, PUSH_LIMITS.textChars).join(''),
    ...(await place()),
  });
  await Promise.all(
    people.map(async ([userId, reason]) => {
      // A live connection has the message already (or its mention frame): no push.
      if ((await deps.devices.connectionsOf(userId, 1)).length > 0)
        return report.people.push({ userId, reason, outcome: 'connected' });
      const subscriptions = await deps.subscriptions.of(userId, SUBSCRIPTIONS_READ);
      if (subscriptions.length === 0)
        return report.people.push({ userId, reason, outcome: 'no-subscription' });
      // Read only for someone a push would reach: one Query of their block list (≤ 100 entries).
      if (deps.blocksAuthor && (await deps.blocksAuthor(userId, message)))
        return report.people.push({ userId, reason, outcome: 'blocked' });
      if (!(await deps.takeTurn(message.roomId, userId)))
        return report.people.push({ userId, reason, outcome: 'coalesced' });
      report.people.push({ userId, reason, outcome: 'pushed' });
      const outcomes = await Promise.all(
        subscriptions.map(async (subscription) => {
          const outcome = await deps.sender.send(subscription, await payload(reason), {
            topic: topicOf(message.roomId),
            ttlSeconds: PUSH_TTL_SECONDS,
          });
          if (outcome === 'gone' && (await deps.subscriptions.remove(userId, subscription.endpoint)))
            report.removed++;
          return outcome;
        }),
      );
      report.pushes += outcomes.filter((o) => o === 'sent').length;
    }),
  );
  logger.info('push notifications', {
    roomId: message.roomId,
    seq: message.seq,
    pushes: report.pushes,
    removed: report.removed,
    people: report.people.map((p) => p.outcome),
  });
  return report;
}
