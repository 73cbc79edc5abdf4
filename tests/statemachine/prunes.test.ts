import { readEvent } from '../helpers/events';
import { useFanoutMachine, useTransactionConflicts } from '../helpers/fanoutMachine';

/** The fan-out's prunes of gone connections (tests/helpers/fanoutMachine.ts) when its UpdateItem meets a transaction. */
const { h, addMembers, createRoom, send, seqsOf, recordsOf, expectPruned, indexed, roomWithMembers } =
  useFanoutMachine();
const { managementApi } = h;

describe('a prune whose UpdateItem meets a transaction on the subscription item', () => {
  const { runMeetingConflict } = useTransactionConflicts(h);

  it('in a room of one chunk: the gone member leaves the index, the others get the message', async () => {
    await createRoom('TXQ12');
    const [gone, ...others] = (await addMembers('TXQ12', 3)) as [string, ...string[]];
    managementApi.gone.add(gone);
    await runMeetingConflict(recordsOf(await send('TXQ12', 1)));
    for (const id of others) expect(seqsOf(id)).toEqual([1]);
    await expectPruned(gone);
  });

  it('in a room of several chunks: every gone member leaves the index, the others get the message once', async () => {
    const members = await roomWithMembers('TXC13', 7); // chunks of 3, 3 and 1
    const gone = [members[0], members[4], members[6]] as string[];
    for (const id of gone) managementApi.gone.add(id);
    await runMeetingConflict(recordsOf(await send('TXC13', 1)));
    for (const id of members) expect(await indexed(id, 'TXC13')).toBe(!gone.includes(id));
    for (const id of members.filter((m) => !gone.includes(m))) expect(seqsOf(id)).toEqual([1]);
  });

  it('a member found gone when its post is tried again (the repost) leaves the index; the others get the message once', async () => {
    await createRoom('TXR14');
    const [leaving, ...others] = (await addMembers('TXR14', 3)) as [string, ...string[]];
    // Its first post is answered 429; by the re-post it has gone (410).
    managementApi.throttle.set(leaving, 1);
    managementApi.beforeAnswer = async (id) => {
      if (id === leaving && !managementApi.throttle.get(leaving)) managementApi.gone.add(leaving);
    };
    await runMeetingConflict(recordsOf(await send('TXR14', 1)));
    // The repost is the repost machine's (statemachines/repost.asl.json), started from the bus: it prunes as the
    // fan-out does.
    expect((await h.runReposts()).map((r) => r.ok)).toEqual([true]);
    expect(h.steps.map((s) => s.input.op)).toEqual(['prepare', 'post', 'post']);
    for (const id of others) expect(seqsOf(id)).toEqual([1]);
    expect(managementApi.received.has(leaving)).toBe(false);
    await expectPruned(leaving);
  });

  it('a presence change: the gone member leaves the index, the others get it', async () => {
    const [gone, ...others] = (await addMembers('TXP15', 4)) as [string, ...string[]];
    managementApi.gone.add(gone);
    const event = readEvent<{ detail: Record<string, unknown> }>('fanout');
    const payload = JSON.stringify({ type: 'presence', roomId: 'TXP15', username: 'bob', event: 'joined' });
    await runMeetingConflict(
      recordsOf({ ...event, detail: { messageId: 'presence-TXP15', roomId: 'TXP15', payload } }),
    );
    expect(await indexed(gone, 'TXP15')).toBe(false);
    for (const id of others)
      expect(managementApi.received.get(id)?.map((raw) => JSON.parse(raw).type)).toEqual(['presence']);
  });
});
