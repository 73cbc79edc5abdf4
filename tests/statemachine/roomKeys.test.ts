import { ROOM_INDEX_SHARDS } from '#core/aws/roomMembers';
import { useFanoutMachine } from '../helpers/fanoutMachine';

/**
 * A big room's members sit under ROOM_INDEX_SHARDS (12) keys of the room index (`roomId#0` … `roomId#11`, docs/ARCHITECTURE.md
 * "Hot keys"):
 * the state machine's Map over the room's keys (functions/deliver/roomIndexKeys.ts) Queries every one, and each
 * member gets the room's frames once, whichever shard its connection id hashes to.
 */
const { h, addMembers, recordsOf, send, seqsOf, roomWithMembers } = useFanoutMachine();

it("reaches the members under each of the room's keys, once, and nobody in another room", async () => {
  const members = await roomWithMembers('SHARDS', 26, { spread: true });
  const outsiders = await addMembers('SHARDX', 3, { spread: true });
  const run = await h.machine.execute(recordsOf(await send('SHARDS', 1), await send('SHARDS', 2)));
  expect(run.ok).toBe(true);
  for (const id of members) expect(seqsOf(id)).toEqual([1, 2]);
  for (const id of outsiders) expect(h.managementApi.received.has(id)).toBe(false);
  expect(run.states.filter((s) => s === 'QueryFirstPage')).toHaveLength(ROOM_INDEX_SHARDS);
});

it('reaches a room whose members all hash to one shard the same way', async () => {
  const members = await roomWithMembers('SINGLE', 4);
  const run = await h.machine.execute(recordsOf(await send('SINGLE', 1)));
  expect(run.ok).toBe(true);
  for (const id of members) expect(seqsOf(id)).toEqual([1]);
});
