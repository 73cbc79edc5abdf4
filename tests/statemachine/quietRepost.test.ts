import { DynamoPostBudget } from '../../functions/domain/fanout/dynamoPostBudget';
import { useFanoutMachine } from '../helpers/fanoutMachine';

/**
 * A room of one chunk is posted by the claim itself (quietRoom.ts). When that post fails whole (here the post budget's
 * writes meet another transaction), the chunk is owed once more and handed to a repost execution, which must run: the
 * members still get the message live, not only from history at their next resume.
 */
const { h, addMembers, createRoom, send, seqsOf } = useFanoutMachine();

afterEach(() => jest.restoreAllMocks());

it("a quiet room's chunk whose post failed is handed to a repost, and every member still gets the message live", async () => {
  await createRoom('QUIETOWED');
  const members = await addMembers('QUIETOWED', 3);
  const conflict = Object.assign(new Error('Transaction is ongoing for the item'), {
    name: 'TransactionConflictException',
  });
  // The claim's reservation ahead, then the chunk's own: both meet the conflict, so the chunk's post throws.
  jest
    .spyOn(DynamoPostBudget.prototype, 'reserve')
    .mockRejectedValueOnce(conflict)
    .mockRejectedValueOnce(conflict);
  expect((await h.machine.execute(await send('QUIETOWED', 1))).ok).toBe(true);
  expect(h.bus.events.map((e) => e['detail-type'])).toEqual(['FanoutRepost']);
  // The message's execution and the repost's, both to their end.
  expect(h.runs).toHaveLength(2);
  expect(h.runs.filter((r) => !r.ok).map((r) => `${r.failedState}: ${r.error}: ${r.cause}`)).toEqual([]);
  for (const id of members) expect({ id, got: seqsOf(id) }).toEqual({ id, got: [1] });
});
