import { BadRequest, Forbidden } from '#core/errors';
import { requireConnection } from '#core/identity/connections';
import type { ChatPorts, Connection } from '#core/ports';
import { type AvatarSigner, type ProfileReader, shownProfile } from '#core/profiles';
import { foldName, PATTERNS, PEOPLE_LIMITS, type PeopleFrame, type Person, type Profile } from '#protocol';

/**
 * Finding people (docs/PROTOCOL.md, "Read positions, your rooms, direct messages"): a signed-in member looks up
 * the signed-in users it shares a room with by the start of their display name, and may open a direct message with
 * any of them (memberships.ts openDm asks `sharesRoom`). There is no directory of every user: only co-members of
 * the caller's rooms are found, and only a bounded number of the caller's rooms is searched, so one call costs a
 * bounded number of reads.
 *
 * A signed-in member's membership carries its display name as it last entered the room (`username`) and a sort key
 * of the folded name and its id (`nameKey`, dynamoPeople.ts), which the memberships' sparse PeopleIndex keys by
 * the room's shard (`roomId#n`, peopleKeys.ts): a room's matches are one Query of each of its shards, in parallel.
 */

export interface PeopleStore {
  /** The rooms of the member's memberships: the first `limit` by room code. */
  roomsOf(memberKey: string, limit: number): Promise<string[]>;
  /**
   * Signed-in members of `roomId` whose folded name starts with `prefix` (already folded), in name order, at most
   * `limit`.
   */
  namedIn(roomId: string, prefix: string, limit: number): Promise<Person[]>;
  /** Of `roomIds`, those `memberKey` has a membership of, each with the name the member entered it under. */
  memberOf(memberKey: string, roomIds: string[]): Promise<SharedRoom[]>;
}

/** A room a member is in, and its name there (a signed-in member's, as it last entered the room). */
export interface SharedRoom {
  roomId: string;
  username?: string;
}

type PeopleDeps = Pick<ChatPorts, 'connections'> & {
  people: PeopleStore;
  /** Profiles by user id (setprofile); absent: names only. */
  profiles?: ProfileReader;
  /** Signs each avatar's GET (profiles.ts); absent: avatars are left out. */
  avatars?: AvatarSigner;
};

/**
 * The caller's rooms `sharesRoom` checks at most (one Query and one BatchGetItem): more than findpeople searches,
 * so anyone it finds can be messaged.
 */
const SHARED_ROOMS_CHECKED = 100;

/** Rooms whose matches are read at once. */
const CONCURRENCY = 10;

const NAME_CHARS = new RegExp(`^(?:${PATTERNS.usernameChar})+$`, 'u');

/** findpeople's `prefix` (1–32 characters of a name, folded) and `limit` (1–20, default 20). */
export function parsePeopleQuery(body: Record<string, unknown>): { prefix: string; limit: number } {
  const { prefix, limit } = body;
  const folded = typeof prefix === 'string' ? foldName(prefix) : '';
  const chars = [...folded].length;
  if (chars < 1 || chars > PEOPLE_LIMITS.prefixMaxChars || !NAME_CHARS.test(folded))
    throw new BadRequest(
      `"prefix" must be the start of a name: 1–${PEOPLE_LIMITS.prefixMaxChars} letters, digits, spaces or ' - _ . @.`,
    );
  if (
    limit !== undefined &&
    (typeof limit !== 'number' ||
      !Number.isSafeInteger(limit) ||
      limit < 1 ||
      limit > PEOPLE_LIMITS.maxResults)
  )
    throw new BadRequest(`"limit" must be a whole number from 1 to ${PEOPLE_LIMITS.maxResults}.`);
  return { prefix: folded, limit: limit ?? PEOPLE_LIMITS.maxResults };
}

const signedIn = (c: Connection): c is Connection & { userId: string } =>
  c.userId?.startsWith('user:') === true;

/** Why open mode finds nobody: the sentence the error frame carries (the web chat shows it too). */
const PEOPLE_NEED_SIGN_IN =
  'Finding people and direct messages need sign-in: without it a name is not an identity anyone could message ' +
  'again, so this chat keeps no directory of people. Sign in first.';

/**
 * Signed-in users other than the caller who share one of the caller's first PEOPLE_LIMITS.roomsSearched rooms and
 * whose display name starts with `prefix`: each once, sorted by name, at most `limit`. Reads one Query of the
 * caller's memberships and one Query of the name index per room shard, each of at most `limit` + 1 items.
 */
export async function findPeople(
  deps: PeopleDeps,
  connectionId: string,
  query: { prefix: string; limit: number },
): Promise<PeopleFrame> {
  const caller = await requireConnection(deps, connectionId);
  if (!signedIn(caller)) throw new Forbidden(PEOPLE_NEED_SIGN_IN);
  const rooms = await deps.people.roomsOf(caller.userId, PEOPLE_LIMITS.roomsSearched);
  const found = new Map<string, Person>();
  for (let i = 0; i < rooms.length; i += CONCURRENCY) {
    const pages = await Promise.all(
      rooms
        .slice(i, i + CONCURRENCY)
        // One more than asked: the caller may be one of a room's matches.
        .map((roomId) => deps.people.namedIn(roomId, query.prefix, query.limit + 1)),
    );
    for (const person of pages.flat())
      if (person.userId !== caller.userId && !found.has(person.userId)) found.set(person.userId, person);
  }
  const people = [...found.values()]
    .sort(
      (a, b) =>
        compare(foldName(a.username), foldName(b.username)) ||
        compare(a.username, b.username) ||
        compare(a.userId, b.userId),
    )
    .slice(0, query.limit);
  // Each one's profile (setprofile), when it has one: one BatchGetItem of at most `limit` keys.
  const profiles: Map<string, Profile> = deps.profiles
    ? await deps.profiles.of(people.map((p) => p.userId))
    : new Map();
  return {
    type: 'people',
    prefix: query.prefix,
    people: await Promise.all(
      people.map(async (p) => {
        const profile = profiles.get(p.userId);
        const shown = profile && (await shownProfile(profile, deps.avatars));
        return {
          ...p,
          ...(shown?.displayName && { displayName: shown.displayName }),
          ...(shown?.status && { status: shown.status }),
          ...(shown?.avatar && { avatar: shown.avatar }),
        };
      }),
    ),
  };
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Whether two signed-in users share a room (one of `userId`'s first SHARED_ROOMS_CHECKED memberships is also
 * `peerId`'s), and the name `peerId` shows there: what opendm asks of a peer named by id, before it creates a pair's
 * room and to name the peer in it, so the room reads as whom it is with after any reload, on every device.
 */
export async function sharedWith(
  people: PeopleStore,
  userId: string,
  peerId: string,
): Promise<{ shares: boolean; username?: string }> {
  const rooms = await people.roomsOf(userId, SHARED_ROOMS_CHECKED);
  if (rooms.length === 0) return { shares: false };
  const shared = await people.memberOf(peerId, rooms);
  const username = shared.find((r) => r.username !== undefined)?.username;
  return { shares: shared.length > 0, ...(username !== undefined && { username }) };
}
