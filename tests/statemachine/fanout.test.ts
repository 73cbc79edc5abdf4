import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { readEvent } from '../helpers/events';
import { useFanoutMachine } from '../helpers/fanoutMachine';

/**
 * Presence changes and broadcasts through the fan-out state machine of template.yaml (tests/helpers/fanoutMachine.ts):
 * no seq and no lease, but the same pages, chunks, prunes and reposts as a room's messages, posting their own payload.
 */
const { h, addMembers, createRoom, roomItem } = useFanoutMachine();
const { managementApi } = h;

/** A presence change in `roomId`, or a broadcast to everyone without one, as the chat bus carries it. */
function eventOf(roomId: string | undefined, text: string) {
  const event = readEvent<{ detail: Record<string, unknown> }>('fanout');
  const payload = roomId
    ? JSON.stringify({ type: 'presence', roomId, username: text, event: 'joined' })
    : JSON.stringify({ type: 'broadcast', messageId: `b-${text}`, text });
  const detail = roomId
    ? { type: 'Presence', messageId: `p-${text}`, roomId, payload }
    : { type: 'Broadcast', messageId: `b-${text}`, payload };
  return { ...event, 'detail-type': detail.type, detail };
}

/** What each frame a connection received names: the presence change's user, or the broadcast's text. */
const namesOf = (id: string) =>
  managementApi.received.get(id)?.map((raw) => {
    const frame = JSON.parse(raw) as { username?: string; text?: string };
    return frame.username ?? frame.text;
  });

const exists = async (connectionId: string) =>
  (
    await h.db.send(
      new GetItemCommand({
        TableName: h.tables.ConnectionsTable,
        Key: { connectionId: { S: connectionId } },
      }),
    )
  ).Item !== undefined;

const reposts = () => h.bus.events.filter((e) => e['detail-type'] === 'FanoutRepost');

it('delivers a presence change once to every member of a room that spans several pages, and to nobody else', async () => {
  const members = await addMembers('PAGED2', 23);
  const outsiders = await addMembers('OTHER3', 5);
  const run = await h.machine.execute(eventOf('PAGED2', 'paged'));
  expect(run).toMatchObject({ ok: true });
  for (const id of members) expect(namesOf(id)).toEqual(['paged']);
  for (const id of outsiders) expect(managementApi.received.has(id)).toBe(false);
  // The room's pages and chunks, without its lease: nothing claimed, nothing released.
  expect(run.states).toContain('PostChunks');
  expect(h.steps.map((s) => s.input.op)).not.toContain('claim');
});

it('deletes exactly the connections that answered 410 Gone and keeps the live ones', async () => {
  const members = await addMembers('STALE4', 10);
  const stale = [members[1], members[6], members[9]] as string[];
  for (const id of stale) managementApi.gone.add(id);
  const run = await h.machine.execute(eventOf('STALE4', 'prune'));
  expect(run.ok).toBe(true);
  for (const id of members) expect(await exists(id)).toBe(!stale.includes(id));
  expect(members.filter((id) => managementApi.received.has(id))).toHaveLength(7);
});

it('a presence change whose post is throttled is handed to a repost execution and arrives once', async () => {
  const members = await addMembers('RETRY5', 4);
  managementApi.throttle.set(members[2] as string, 4); // more 429s than the SDK's own three attempts
  const run = await h.machine.execute(eventOf('RETRY5', 'again'));
  expect(run.ok).toBe(true);
  for (const id of members) expect(namesOf(id)).toEqual(['again']);
  expect(reposts().map((e) => (e.detail.groups as { connectionIds: string[] }[])[0]?.connectionIds)).toEqual([
    [members[2]],
  ]);
});

it('ends cleanly for an empty room', async () => {
  const run = await h.machine.execute(eventOf('EMPTY6', 'nobody'));
  expect(run).toMatchObject({ ok: true });
  expect(managementApi.received.size).toBe(0);
});

it('reaches every connection of every room for a broadcast without a room, a throttled one through a repost', async () => {
  const a = await addMembers('BCASTA', 4);
  const b = await addMembers('BCASTB', 4);
  managementApi.throttle.set(b[1] as string, 4);
  const run = await h.machine.execute(eventOf(undefined, 'to-all'));
  expect(run.ok).toBe(true);
  for (const id of [...a, ...b]) expect(namesOf(id)).toEqual(['to-all']);
  expect(run.states).toContain('ScanMembersFirstPage');
  expect(reposts()).toHaveLength(1);
});

describe('overload: a chunk that fails, a throttled Deliver, the retry budget', () => {
  /** Fails the post steps of chunks holding `doomed` `times` times with `error`. */
  function failPosts(doomed: string, times: number, error: () => Error) {
    let left = times;
    h.beforeStep = async (input) => {
      const ids = (input.connectionIds as string[] | undefined) ?? [];
      if (input.op === 'post' && ids.includes(doomed) && left-- > 0) throw error();
    };
  }
  const named = (name: string, message: string) => Object.assign(new Error(message), { name });

  it('a chunk whose Deliver fails past its retries is handed to a repost: its members get the event too, once', async () => {
    const members = await addMembers('CHUNK7', 9); // three chunks of 3
    failPosts(members[4] as string, 3, () => new Error('Deliver crashed'));
    const run = await h.machine.execute(eventOf('CHUNK7', 'partial'));
    expect(run).toMatchObject({ ok: true });
    for (const id of members) expect(namesOf(id)).toEqual(['partial']);
    expect(h.steps.map((s) => s.input.op)).toContain('owe');
  });

  it('a throttled Deliver (Lambda.TooManyRequestsException) is waited out and delivers once', async () => {
    const members = await addMembers('THROT8', 3);
    failPosts(members[0] as string, 2, () => named('Lambda.TooManyRequestsException', 'Rate Exceeded.'));
    const run = await h.machine.execute(eventOf('THROT8', 'later'));
    expect(run).toMatchObject({ ok: true, retries: 2 });
    for (const id of members) expect(namesOf(id)).toEqual(['later']);
  });

  it('a Deliver invoke that times out on the client side (Lambda.ClientExecutionTimeoutException) is retried and delivers once', async () => {
    const members = await addMembers('CLTO42', 2);
    // What Step Functions reports when its call to Lambda times out (AWS's "handle Lambda service exceptions").
    failPosts(members[0] as string, 1, () =>
      named(
        'Lambda.ClientExecutionTimeoutException',
        'Client execution did not complete before the specified timeout configuration.',
      ),
    );
    const run = await h.machine.execute(eventOf('CLTO42', 'once'));
    expect(run).toMatchObject({ ok: true, retries: 1 });
    for (const id of members) expect(namesOf(id)).toEqual(['once']);
  });

  it('a member who answers 429 for the whole retry budget is tried again until it runs out, then given up: no resync note', async () => {
    await createRoom('LIMIT9');
    const [member, other] = (await addMembers('LIMIT9', 2)) as [string, string];
    managementApi.throttle.set(member, 1_000_000);
    const run = await h.realTimeMachine.execute(eventOf('LIMIT9', 'never'));
    expect(run.ok).toBe(true);
    expect(managementApi.received.has(member)).toBe(false);
    expect(namesOf(other)).toEqual(['never']);
    const repostTries = h.steps.filter((s) => s.input.op === 'post' && s.input.groups !== undefined);
    expect(repostTries.length).toBeGreaterThan(1);
    // A presence change is state, not history: a resync would not bring it back.
    expect((await roomItem('LIMIT9'))?.resyncAfter).toBeUndefined();
  }, 60_000);
});
