import type { Connection } from '#core/ports';
import { stableHash } from '#core/stableHash';
import { foldName, LIMITS } from '#protocol';

/**
 * The PeopleIndex's partition keys (docs/ARCHITECTURE.md, "Hot keys"). A room's signed-in members are spread over
 * PEOPLE_INDEX_SHARDS keys `roomId#n`, n a stable hash of the member's id, as the room index spreads a room's
 * connections (functions/core/aws/roomMembers.ts): a 5,000-member join burst in one second would otherwise write
 * 5,000 index entries to one key, five times DynamoDB's 1,000 writes/s per partition, and a throttled GSI throttles
 * the base table's write, so the joins would fail. Over 12 keys the busiest takes about 470/s (417 on average), under the 500/s each key is designed for. One constant for
 * every room, so no reader has to learn a room's shard count; findpeople reads every shard (dynamoPeople.ts).
 * Exported for tests: hotKeys.test.ts bounds each shard's share of a burst.
 */
export const PEOPLE_INDEX_SHARDS = 12;

/** A member's shard: a 32-bit FNV-1a hash of its id (the room index's hash), the same in every room. */
function peopleShard(memberKey: string): number {
  return stableHash(memberKey) % PEOPLE_INDEX_SHARDS;
}

/** The index's partition key of a member of a room: `roomId#n` (room codes hold no `#`). */
export const peopleKeyOf = (roomId: string, memberKey: string): string =>
  `${roomId}#${peopleShard(memberKey)}`;

/** Every index key of a room, shard 0 first. */
export const peopleKeys = (roomId: string): string[] =>
  Array.from({ length: PEOPLE_INDEX_SHARDS }, (_, shard) => `${roomId}#${shard}`);

/** The index's sort key of a signed-in member's membership: its folded name, then its id (names may repeat). */
export const nameKey = (name: string, userId: string) => `${foldName(name)}#${userId}`;

const signedIn = (c: Connection): c is Connection & { userId: string } =>
  c.userId?.startsWith('user:') === true;

/** The name a membership keeps for finding people: the one the member chose (not numbered), at most 32 chars. */
export function personName(connection: Connection): string | undefined {
  if (!signedIn(connection)) return undefined;
  const name = connection.chosenName ?? connection.username;
  return [...name].length <= LIMITS.usernameMaxChars ? name : undefined;
}
