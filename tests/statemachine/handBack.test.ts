import { useFanoutMachine } from '../helpers/fanoutMachine';

/**
 * One room's failure never holds its batch: a room whose read (ReadRoom), Query or posts (PostChunk) fail past their
 * retries is handed back alone, its queue records in the execution's batchItemFailures (the pipe's partial batch
 * failure: the pipe deletes the rest of the batch), while the batch's other rooms are delivered in full, in order.
 */
const { h, send, framesOf, seqsOf, recordsOf, roomWithMembers, untilDelivered } = useFanoutMachine();

/** The batch's record ids of one room (its message group). */
const idsOf = (records: ReturnType<typeof recordsOf>, roomId: string) =>
  records.filter((r) => r.attributes.MessageGroupId === roomId).map((r) => r.messageId);

const handedBack = (output: unknown) =>
  ((output as { batchItemFailures?: { itemIdentifier: string }[] }).batchItemFailures ?? [])
    .map((f) => f.itemIdentifier)
    .sort();

it("a room whose posts throw is handed back alone; the other room's members get all its messages, in order", async () => {
  const healthy = await roomWithMembers('GOODP1', 5);
  const faulty = await roomWithMembers('BADP1', 5);
  h.beforeStep = async (input) => {
    if (input.op === 'post' && input.roomId === 'BADP1') throw new Error('Deliver crashed');
  };
  const batch = recordsOf(
    await send('GOODP1', 1),
    await send('BADP1', 1),
    await send('GOODP1', 2),
    await send('BADP1', 2),
    await send('GOODP1', 3),
  );
  const run = await h.machine.execute(batch);
  expect(run.ok).toBe(true);
  expect(handedBack(run.output)).toEqual(idsOf(batch, 'BADP1').sort());
  expect(run.output).toMatchObject({ rooms: 1 });
  for (const id of healthy) expect(seqsOf(id)).toEqual([1, 2, 3]);
  for (const id of faulty) expect(seqsOf(id)).toEqual([]);

  // The records handed back, received again once the fault is gone: the room is delivered from its cursor.
  h.beforeStep = async () => undefined;
  const again = await h.machine.execute(batch.filter((r) => r.attributes.MessageGroupId === 'BADP1'));
  expect(again.ok).toBe(true);
  expect(handedBack(again.output)).toEqual([]);
  for (const id of faulty) expect(seqsOf(id)).toEqual([1, 2]);
  for (const id of healthy) expect(framesOf(id)).toEqual([[1, 2, 3]]);
});

it("a room whose next read throws is handed back after its first cycle; the other room's cycles all arrive", async () => {
  const healthy = await roomWithMembers('GOODR2', 3);
  const faulty = await roomWithMembers('BADR2', 3);
  // The wakes of each room's first message; both rooms then have more than one cycle stored (CYCLE_EVENTS: 200), so
  // the machine reads each again (ReadRoom).
  const batch = recordsOf(await send('GOODR2', 1), await send('BADR2', 1));
  for (let seq = 2; seq <= 251; seq++) {
    await send('GOODR2', seq);
    await send('BADR2', seq);
  }
  h.beforeStep = async (input) => {
    if (input.op === 'room' && input.roomId === 'BADR2') throw new Error('the log could not be read');
  };
  const run = await h.machine.execute(batch);
  expect(run.ok).toBe(true);
  expect(handedBack(run.output)).toEqual(idsOf(batch, 'BADR2'));
  const all = Array.from({ length: 251 }, (_, i) => i + 1);
  await untilDelivered('GOODR2', () => healthy.every((id) => seqsOf(id).length >= all.length));
  for (const id of healthy) expect(seqsOf(id)).toEqual(all);
  // The faulty room's first cycle was posted before its read failed: a prefix, in order, never all of it.
  for (const id of faulty) {
    const seqs = seqsOf(id);
    expect(seqs).toEqual(all.slice(0, seqs.length));
    expect(seqs.length).toBeLessThan(251);
  }
});

it("a room whose members' Query fails is handed back alone; the other room's members get its message", async () => {
  const healthy = await roomWithMembers('GOODQ3', 4);
  const faulty = await roomWithMembers('BADQ3', 4);
  const batch = recordsOf(await send('GOODQ3', 1), await send('BADQ3', 1));
  // The machine's own Query of the faulty room's keys fails with DynamoDB's 500, on every try (its Retry included).
  const broken = h.machineWith(h.db);
  const original = h.db.send.bind(h.db);
  h.db.send = (async (command: {
    constructor: { name: string };
    input: { ExpressionAttributeValues?: object };
  }) => {
    const values = JSON.stringify(command.input?.ExpressionAttributeValues ?? {});
    if (command.constructor.name === 'QueryCommand' && values.includes('BADQ3'))
      throw Object.assign(new Error('Internal server error'), { name: 'InternalServerError' });
    return original(command as never);
  }) as typeof h.db.send;
  try {
    const run = await broken.execute(batch);
    expect(run.ok).toBe(true);
    expect(handedBack(run.output)).toEqual(idsOf(batch, 'BADQ3'));
  } finally {
    h.db.send = original;
  }
  for (const id of healthy) expect(seqsOf(id)).toEqual([1]);
  for (const id of faulty) expect(seqsOf(id)).toEqual([]);
});
