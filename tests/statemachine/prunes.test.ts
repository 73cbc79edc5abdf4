import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { type DynamoFaultProxy, startDynamoFaultProxy } from '../../local/dynamoFaults';
import type { LocalStateMachine } from '../../local/stepfunctions';
import { readEvent } from '../helpers/events';
import { useFanoutMachine } from '../helpers/fanoutMachine';

/** The fan-out's prunes of gone connections (tests/helpers/fanoutMachine.ts) when a DeleteItem meets a transaction. */
const { h, addMembers, createRoom, send, seqsOf, ops, roomItem, expectPrunedAndFree } = useFanoutMachine();
const { managementApi } = h;

describe('a prune whose DeleteItem meets a transaction on the connection item', () => {
  /**
   * The machine's own DynamoDB calls go through the fault proxy (Deliver's do not), which answers its writes
   * TransactionConflictException until the first such answer reaches the machine: as on AWS, where a single-item write
   * to an item an ongoing transaction writes fails, deleting nothing, until the transaction ends.
   */
  let faults: DynamoFaultProxy;
  let proxied: DynamoDBClient;
  let conflicted: LocalStateMachine;

  beforeAll(async () => {
    faults = await startDynamoFaultProxy({ target: h.dynamo.endpoint, host: '127.0.0.1' });
    proxied = new DynamoDBClient({
      endpoint: faults.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    proxied.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (error) {
          if ((error as Error).name === 'TransactionConflictException') faults.setConflict(0);
          throw error;
        }
      },
      { step: 'initialize', name: 'transactionEnds' },
    );
    conflicted = h.machineWith(proxied);
  });

  afterAll(async () => {
    proxied.destroy();
    await faults.close();
  });

  /** Runs `event` with the machine's next writes conflicting; the execution must succeed, retrying the conflict. */
  async function runMeetingConflict(event: unknown) {
    const before = faults.stats().conflicts;
    faults.setConflict(1);
    const run = await conflicted.execute(event).finally(() => faults.setConflict(0));
    // A failed execution shows as the error and the state that failed (DynamoDB.TransactionConflictException, ...).
    expect({ ok: run.ok, error: run.error, failedState: run.failedState }).toEqual({ ok: true });
    expect(faults.stats().conflicts - before).toBeGreaterThan(0);
    // The execution's own retries, or those of the repost execution it handed owed posts to.
    expect(h.runs.every((r) => r.ok)).toBe(true);
    expect(h.runs.reduce((n, r) => n + r.retries, 0)).toBeGreaterThan(0);
  }

  const connectionExists = async (connectionId: string) =>
    (
      await h.db.send(
        new GetItemCommand({
          TableName: h.tables.ConnectionsTable,
          Key: { connectionId: { S: connectionId } },
        }),
      )
    ).Item !== undefined;

  it("in a quiet room (the claim's prune): the gone member is deleted, the others get the message, the lease is free", async () => {
    await createRoom('TXQ12');
    const [gone, ...others] = (await addMembers('TXQ12', 3)) as [string, ...string[]];
    managementApi.gone.add(gone);
    await runMeetingConflict(await send('TXQ12', 1));
    for (const id of others) expect(seqsOf(id)).toEqual([1]);
    await expectPrunedAndFree(gone, 'TXQ12');
  });

  it("in a room of several chunks (the Map's prune): every gone member is deleted, the others get the message once", async () => {
    await createRoom('TXC13');
    const members = await addMembers('TXC13', 7); // chunks of 3, 3 and 1
    const gone = [members[0], members[4], members[6]] as string[];
    for (const id of gone) managementApi.gone.add(id);
    await runMeetingConflict(await send('TXC13', 1));
    for (const id of members) expect(await connectionExists(id)).toBe(!gone.includes(id));
    for (const id of members.filter((m) => !gone.includes(m))) expect(seqsOf(id)).toEqual([1]);
    expect((await roomItem('TXC13'))?.leaseOwner).toBeUndefined();
  });

  it("a member found gone when its post is tried again (the re-post's prune) is deleted; the others get the message once", async () => {
    await createRoom('TXR14');
    const [leaving, ...others] = (await addMembers('TXR14', 3)) as [string, ...string[]];
    // Its first post is answered 429; by the re-post it has gone (410).
    managementApi.throttle.set(leaving, 1);
    managementApi.beforeAnswer = async (id) => {
      if (id === leaving && !managementApi.throttle.get(leaving)) managementApi.gone.add(leaving);
    };
    await runMeetingConflict(await send('TXR14', 1));
    expect(ops()).toEqual(['claim', 'post']);
    for (const id of others) expect(seqsOf(id)).toEqual([1]);
    expect(managementApi.received.has(leaving)).toBe(false);
    await expectPrunedAndFree(leaving, 'TXR14');
  });

  it('a presence change (posted as it comes, no lease): the gone member is deleted, the others get it', async () => {
    const [gone, ...others] = (await addMembers('TXP15', 4)) as [string, ...string[]];
    managementApi.gone.add(gone);
    const event = readEvent<{ detail: Record<string, unknown> }>('fanout');
    const payload = JSON.stringify({ type: 'presence', roomId: 'TXP15', username: 'bob', event: 'joined' });
    await runMeetingConflict({ ...event, detail: { messageId: 'presence-TXP15', roomId: 'TXP15', payload } });
    expect(await connectionExists(gone)).toBe(false);
    for (const id of others)
      expect(managementApi.received.get(id)?.map((raw) => JSON.parse(raw).type)).toEqual(['presence']);
  });
});
