import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { StoredMessage } from '#messages/changeFrames';
import { reactionsOf } from '#messages/changeKinds/react';
import { DynamoReactionStore } from '#messages/dynamoReactions';
import type { ChangeStore } from '#messages/ports';
import { holdReaction } from '#messages/reacting';
import { CHANGE_LIMITS } from '#protocol';
import { startTemplateTables, type TemplateTables } from '../helpers/templateTables';

/**
 * Who reacted (docs/DECISIONS.md "Who reacted"): a reaction's summary names its first CHANGE_LIMITS.reactorsNamed
 * givers, as the Reactions table holds them in a local DynamoDB (dynalite), so `history` can say "alice, bob and 3
 * others"; a take-back unnames, racing givers never name more than the limit, and a kind given by nobody keeps no names.
 */
let tables: TemplateTables;
let store: DynamoReactionStore;
beforeAll(async () => {
  tables = await startTemplateTables();
  store = new DynamoReactionStore(tables.db, tables.table('ReactionsTable'));
});
afterAll(() => tables.close());

const TTL = 1_900_000_000;
// The message is flagged already: the change store is never asked.
const changes = {} as ChangeStore;
const messageOf = (roomId: string): StoredMessage =>
  ({ roomId, seq: 7, reacted: true, username: 'author', text: 'lunch?' }) as unknown as StoredMessage;

/** `name` gives (or takes back) `reaction` as the react use case does, under the caps. */
const react = (roomId: string, name: string, reaction: string, remove = false) =>
  holdReaction(
    { changes, reactions: store },
    {
      message: messageOf(roomId),
      key: `key-${name}`,
      name,
      reaction,
      remove,
      owner: `user:${name}`,
      cap: 0,
      ttl: TTL,
    },
  );

/** The message's reactions as a member who gave none reads them in `history`. */
async function shown(roomId: string) {
  return reactionsOf(await store.state({ roomId, seq: 7 }, 'key-nobody'));
}

it('names the first givers of a reaction, no more than the limit, and the count says how many others', async () => {
  expect(CHANGE_LIMITS.reactorsNamed).toBe(3);
  for (const name of ['dora', 'alice', 'carl', 'bob', 'eve']) await react('ROOM1', name, '👍');
  expect(await shown('ROOM1')).toEqual([{ reaction: '👍', count: 5, by: ['alice', 'carl', 'dora'] }]);
  // The mark a reaction event takes returns the same names: the reactor's own reply shows them.
  expect((await store.mark({ roomId: 'ROOM1', seq: 7 }, 100)).names).toEqual({
    '👍': ['alice', 'carl', 'dora'],
  });
});

it('unnames a giver who takes the reaction back; a giver past the limit stays unnamed', async () => {
  for (const name of ['alice', 'bob', 'carl', 'dora']) await react('ROOM2', name, '🎉');
  await react('ROOM2', 'bob', '🎉', true);
  expect(await shown('ROOM2')).toEqual([{ reaction: '🎉', count: 3, by: ['alice', 'carl'] }]);
  // The count after eve's is 4, past 3: she is one of the others.
  await react('ROOM2', 'eve', '🎉');
  expect(await shown('ROOM2')).toEqual([{ reaction: '🎉', count: 4, by: ['alice', 'carl'] }]);
});

it('keeps each reaction its own names, and none for a reaction nobody gives any more', async () => {
  await react('ROOM3', 'alice', '❤️');
  await react('ROOM3', 'bob', '👍');
  await react('ROOM3', 'carl', '👍');
  await react('ROOM3', 'alice', '❤️', true);
  expect(await shown('ROOM3')).toEqual([{ reaction: '👍', count: 2, by: ['bob', 'carl'] }]);
  const { Item } = await tables.db.send(
    new GetCommand({ TableName: tables.table('ReactionsTable'), Key: { target: 'ROOM3#7', key: '#' } }),
  );
  expect(Object.keys(Item ?? {}).filter((attribute) => attribute.startsWith('n#'))).toEqual(['n#👍']);
});

it('names no more than the limit when many give at once', async () => {
  const names = Array.from({ length: 12 }, (_, i) => `fan${String(i).padStart(2, '0')}`);
  await Promise.all(names.map((name) => react('ROOM4', name, '🔥')));
  const [fire] = await shown('ROOM4');
  expect(fire?.count).toBe(12);
  // The givers counted 1st, 2nd and 3rd are named, whichever they were; the set's size stops any other.
  expect(fire?.by).toHaveLength(CHANGE_LIMITS.reactorsNamed);
  for (const name of fire?.by ?? []) expect(names).toContain(name);
});
