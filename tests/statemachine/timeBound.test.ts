import { useFanoutMachine } from '../helpers/fanoutMachine';

/**
 * Express stops an execution at 5 minutes wherever it is, with nothing caught: a lease holder starts no page and no
 * chunk past its hand-over time (HANDOVER_MS after its start). The time a step sees is staged here as Release's is
 * in idempotentSteps.test.ts (its `startedAt` moved back); expressLimit.test.ts runs the same on the twin's own clock.
 */
const { h, addMembers, createRoom, send, seqsOf, roomItem } = useFanoutMachine();

const FOUR_MINUTES_AGO = () => new Date(Date.now() - 240_000).toISOString();

it('a holder whose time runs out between two pages hands the pages left to a successor that delivers them in order with the next cycle, in a room that goes quiet', async () => {
  await createRoom('PAGES1');
  const members = await addMembers('PAGES1', 30); // pages of 7: five pages
  let holder: string | undefined;
  let pagesSeen = 0;
  h.beforeStep = async (step) => {
    if (step.op === 'claim' && holder === undefined) holder = String(step.owner);
    if (step.op !== 'nextPage' || step.owner !== holder) return;
    pagesSeen++;
    if (pagesSeen === 2) {
      // Before page 3: message 2 arrives (its execution coalesces) and the holder has run for 4 minutes.
      expect((await h.machine.execute(await send('PAGES1', 2))).ok).toBe(true);
      step.startedAt = FOUR_MINUTES_AGO();
    }
  };
  const run = await h.machine.execute(await send('PAGES1', 1));
  expect(run).toMatchObject({ ok: true });
  expect(run.states).toContain('HandedOver');
  const handOvers = h.bus.events.filter((e) => e['detail-type'] === 'FanoutHandOver');
  expect(handOvers.map((e) => (e.detail as { handedBy?: string }).handedBy)).toEqual([holder]);
  expect(h.runs.every((r) => r.ok)).toBe(true);
  expect(h.runs.filter((r) => r.states.includes('Resume'))).toHaveLength(1);
  // Nobody missed a page, nobody got a message twice, and message 1 came before message 2 to every member.
  for (const id of members) expect({ id, got: seqsOf(id) }).toEqual({ id, got: [1, 2] });
  const room = await roomItem('PAGES1');
  expect(room?.deliveredSeq).toEqual({ N: '2' });
  expect(room?.leaseOwner).toBeUndefined();
});

it('a chunk that starts past the hand-over time posts nothing itself: its members get the message from a repost', async () => {
  await createRoom('CHUNK2');
  const members = await addMembers('CHUNK2', 10); // chunks of 3
  h.beforeStep = async (step) => {
    if (step.op === 'post' && step.chunkIndex === 1 && step.groups === undefined)
      step.startedAt = FOUR_MINUTES_AGO();
  };
  const run = await h.machine.execute(await send('CHUNK2', 1));
  expect(run).toMatchObject({ ok: true });
  const reposts = h.bus.events.filter((e) => e['detail-type'] === 'FanoutRepost');
  expect(reposts).toHaveLength(1);
  const [repost] = reposts;
  const groups = (repost?.detail.groups ?? []) as { connectionIds: string[] }[];
  const late = groups.flatMap((g) => g.connectionIds);
  expect(late).toHaveLength(3);
  expect(h.runs.every((r) => r.ok)).toBe(true);
  for (const id of members) expect({ id, got: seqsOf(id) }).toEqual({ id, got: [1] });
  expect((await roomItem('CHUNK2'))?.leaseOwner).toBeUndefined();
});

it('a hand-over run twice (a lost answer, or EventBridge delivering twice) starts successors of which one delivers', async () => {
  await createRoom('TWICE3');
  const members = await addMembers('TWICE3', 16); // three pages
  let holder: string | undefined;
  h.beforeStep = async (step) => {
    if (step.op === 'claim' && holder === undefined) holder = String(step.owner);
    if (step.op === 'nextPage' && step.owner === holder) step.startedAt = FOUR_MINUTES_AGO();
  };
  let lost = 0;
  h.loseAnswer = (step) => step.op === 'nextPage' && lost++ === 0;
  const run = await h.machine.execute(await send('TWICE3', 1));
  expect(run).toMatchObject({ ok: true });
  expect(run.retries).toBeGreaterThanOrEqual(1);
  // However the retry and the successor interleave, one execution takes the lease over and delivers the pages left.
  expect(h.runs.filter((r) => r.states.includes('Resume') && !r.states.includes('Coalesced'))).toHaveLength(
    1,
  );
  for (const id of members) expect({ id, got: seqsOf(id) }).toEqual({ id, got: [1] });
  expect((await roomItem('TWICE3'))?.leaseOwner).toBeUndefined();
});

it('a presence change whose time runs out between two pages goes on to every page, its late chunks handed to reposts: every member gets it once', async () => {
  const members = await addMembers('PRES3', 30); // pages of 7: five pages
  h.beforeStep = async (step) => {
    // From page 3 on, the execution has run for 4 minutes.
    const late = step.op === 'nextPage' || (step.op === 'post' && step.groups === undefined);
    if (late && h.steps.filter((s) => s.input.op === 'nextPage').length >= 2)
      step.startedAt = FOUR_MINUTES_AGO();
  };
  const payload = JSON.stringify({ type: 'presence', roomId: 'PRES3', username: 'carol', event: 'joined' });
  const run = await h.machine.execute({
    'detail-type': 'Presence',
    source: 'roomcast.chat',
    detail: { type: 'Presence', messageId: 'presence-PRES3', roomId: 'PRES3', payload },
  });
  expect(run).toMatchObject({ ok: true });
  expect(run.states).not.toContain('HandedOver');
  expect(h.bus.events.filter((e) => e['detail-type'] === 'FanoutRepost').length).toBeGreaterThan(0);
  expect(h.runs.every((r) => r.ok)).toBe(true);
  for (const id of members) expect({ id, got: seqsOf(id) }).toEqual({ id, got: ['presence'] });
});
