import { LEAVE_GRACE_SECONDS } from '#core/identity/departure';
import type { LocalCloud } from '../../tools/local/cloud';
import { ChatClient, type Frame } from '../helpers/chatClient';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';
import { hs256Token } from '../helpers/tokens';

/**
 * Leaving on close, on the local cloud with sign-in (docs/DECISIONS.md, "Leaving on close"; "A return is decided
 * when the departure is settled"): `$disconnect` of a connection following several rooms puts one entry on the bus,
 * not one per room (100 rooms: tests/core/departure.test.ts); a person who really left shows as gone in every room
 * once the departure machine's pause has run and its settle step has; a reconnect of the same person before that step
 * shows no leave and no join anywhere, and puts nothing on the bus, also when the return is processed before the old
 * connection's `$disconnect`; one after the departure is settled is told as a join.
 *
 * Order, not speed: the departure machine runs as on AWS, its Wait of LEAVE_GRACE_SECONDS on the local Step Functions'
 * test clock (a second lasts 100 ms: the pause is still a pause, without the file sitting out 5 s per departure), and
 * where a case needs the return to come before the settle, the settle step's Lambda invocation is held until the
 * return has run, as a cold or throttled Deliver may hold it on AWS. Nothing here compares a measured time with a bound.
 */
jest.setTimeout(240_000);

const SECRET = 'e2e-departure-secret-0123456789abcdef012345';
const ROOMS = 8;
/** A generous bound on waiting for what a loaded machine does in a few seconds: only a hang reaches it. */
const PATIENCE_MS = 90_000;

let testCloud: TestCloud;
let cloud: LocalCloud;
/** Every device but Olga's, closed after each test whatever its outcome, so no test sees another's people. */
const open: ChatClient[] = [];
let olga: ChatClient;
const rooms: { roomId: string; key: string }[] = [];

/** A device of the signed-in user `sub`, shown as `name`. */
async function device(sub: string, name: string): Promise<ChatClient> {
  const token = hs256Token({ sub, username: name, exp: Math.floor(Date.now() / 1000) + 600 }, SECRET);
  const client = await ChatClient.connect(`${cloud.wsUrl}?token=${token}`);
  open.push(client);
  return client;
}

/** The `event`s (leave, join) of `username` a member was shown, room by room, alone or in a `memberschanged` frame. */
function presenceOf(frames: Frame[], username: string, event: 'leave' | 'join'): string[] {
  return frames.flatMap((f) => {
    if (f.type === 'presence' && f.event === event && f.username === username) return [String(f.roomId)];
    if (f.type !== 'memberschanged') return [];
    const changes = f.changes as { event: string; username: string }[];
    return changes.some((c) => c.event === event && c.username === username) ? [String(f.roomId)] : [];
  });
}

const leavesOf = (frames: Frame[], username: string) => presenceOf(frames, username, 'leave');
const joinsOf = (frames: Frame[], username: string) => presenceOf(frames, username, 'join');

async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + PATIENCE_MS;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The person `sub` on a new device, following every room of the file. */
async function following(sub: string, name: string): Promise<ChatClient> {
  return follow(await device(sub, name));
}

/** `client` following every room of the file in one `subscribe` frame. */
async function follow(client: ChatClient): Promise<ChatClient> {
  // Many rooms may take longer than the route's deadline on a busy machine: BUSY, and a retry a moment later does the
  // rest (a room followed already is answered as it stands). The BUSY frame's rooms still being followed count
  // against the limit until that work ends, hence TOO_MANY_ROOMS is waited out too.
  for (let tries = 0; ; tries++) {
    const reply = await client.ask({ action: 'subscribe', rooms });
    if (reply.type === 'subscribed' && (reply.refused as unknown[]).length === 0) return client;
    const refused = (reply.refused ?? []) as { code: string }[];
    const again = (code: unknown) => code === 'BUSY' || code === 'TOO_MANY_ROOMS';
    const busy = again(reply.code) || (refused.length > 0 && refused.every((r) => again(r.code)));
    if (tries >= 10 || !busy) throw new Error(`subscribe answered ${JSON.stringify(reply).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}

/**
 * `$disconnect` invocations that have ended: the connection forgotten, its departure recorded and published. A return
 * processed while a close is mid-way is tests/core/departure.test.ts's case.
 */
const disconnects = () =>
  testCloud.invocations.filter(
    (i) => i.logicalId === 'ConnectionFunction' && i.routeKey === '$disconnect' && testCloud.ended(i),
  ).length;

/**
 * Holds the departure machine's settle step (Deliver's `leave`) until `release`, as a cold or throttled Deliver may
 * on AWS: the return a case makes meanwhile is then processed before the settle, whatever the machine's speed.
 * `reached`: settle steps called (each machine's Wait has run); `done`: settle steps finished.
 */
function holdSettles() {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const counts = { reached: 0, done: 0, inputs: [] as { waitSeconds?: unknown; rooms?: unknown[] }[] };
  const invoke = cloud.lambda.invoke;
  cloud.lambda.invoke = async (...args: Parameters<typeof invoke>) => {
    const event = args[1] as { op?: unknown; departure?: { waitSeconds?: unknown; rooms?: unknown[] } };
    if (event?.op !== 'leave') return invoke(...args);
    counts.reached++;
    if (event.departure) counts.inputs.push(event.departure);
    await gate;
    try {
      return await invoke(...args);
    } finally {
      counts.done++;
    }
  };
  return {
    counts,
    release,
    /** Lets every held step run and stops holding. */
    restore: () => {
      release();
      cloud.lambda.invoke = invoke;
    },
  };
}

beforeAll(async () => {
  testCloud = await startTestCloud({
    parameters: { AuthMode: 'token' },
    authSecret: SECRET,
    settings: { FrameRateLimit: '100000', StrikeLimit: '100000', RoomCreateLimit: '0' },
    stepFunctionsTestClock: { msPerSecond: 100, states: ['WaitForReturn'] },
  });
  cloud = testCloud.cloud;
  // Olga creates the rooms, one after the other: each createroom shows the new room and keeps following the others.
  olga = await device('olga', 'olga');
  open.splice(0);
  for (let i = 0; i < ROOMS; i++) {
    const created = await olga.expectReply({ action: 'createroom' });
    rooms.push({ roomId: created.roomId as string, key: created.inviteKey as string });
  }
});

afterEach(async () => {
  // A failed case leaves no one of its people connected for the next case's member lists.
  await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
  await until(async () => {
    const who = await olga.expectReply({ action: 'who', roomId: rooms[ROOMS - 1]?.roomId });
    return JSON.stringify(who.members) === '["olga"]';
  }, 'the rooms to list Olga alone');
  await testCloud.settle();
});

afterAll(async () => {
  await olga?.close().catch(() => undefined);
  await cloud?.close();
});

it('tells every room a person following many rooms left, once the pause has run, from one bus entry', async () => {
  const pat = await following('pat', 'pat');
  await testCloud.settle();
  const mark = olga.mark();
  const before = cloud.eventBridge.stats().received;
  const seen = disconnects();
  const settles = holdSettles();
  try {
    await pat.close();
    await until(() => disconnects() > seen, "pat's $disconnect");
    // The departure machine's pause (its Wait of the departure's waitSeconds) has run when its settle step is called.
    await until(() => settles.counts.reached > 0, 'the settle step, after the pause');
    expect(settles.counts.inputs[0]).toMatchObject({ waitSeconds: LEAVE_GRACE_SECONDS });
    expect(settles.counts.inputs[0]?.rooms).toHaveLength(ROOMS);
    // Until then the close has put one entry on the bus (the departure), whatever the number of rooms, and no room
    // has heard of it.
    expect(cloud.eventBridge.stats().received - before).toBe(1);
    expect(leavesOf(olga.since(mark), 'pat')).toEqual([]);
  } finally {
    settles.restore();
  }
  // Then every room hears it once.
  await until(() => leavesOf(olga.since(mark), 'pat').length >= ROOMS, 'every room told');
  await testCloud.settle();
  expect(leavesOf(olga.since(mark), 'pat').sort()).toEqual(rooms.map((r) => r.roomId).sort());
  // Her list of each room no longer has him.
  const who = await olga.expectReply({ action: 'who', roomId: rooms[0]?.roomId });
  expect(who.members).toEqual(['olga']);
  // The close was counted and its settle read the counters (core/identity/grace.ts) under the template's IAM: the
  // functions log a refused count or read and go on, so their logs are where a refusal shows.
  expect(
    testCloud.logs.filter((l) =>
      /counting the disconnect failed|reading the disconnect counters failed/.test(l),
    ),
  ).toEqual([]);
});

/** After a return: no leave and no join of `name` since `mark`, the person listed, then a real leave told as usual. */
async function expectNoticedNothing(name: string, mark: number, back: ChatClient): Promise<void> {
  await testCloud.settle();
  expect(leavesOf(olga.since(mark), name)).toEqual([]);
  expect(joinsOf(olga.since(mark), name)).toEqual([]);
  const who = await olga.expectReply({ action: 'who', roomId: rooms[ROOMS - 1]?.roomId });
  expect([...(who.members as string[])].sort()).toEqual(['olga', name]);
  // The same person leaving for good from the new connection is told as usual.
  await back.close();
  await until(() => leavesOf(olga.since(mark), name).length >= ROOMS, 'every room told');
}

it('shows neither a leave nor a join anywhere when the person is back in the rooms before the departure is settled', async () => {
  const quinn = await following('quinn', 'quinn');
  // The device Quinn comes back on is open before the close, as a second tab would be.
  const back = await device('quinn', 'quinn');
  await testCloud.settle();
  const mark = olga.mark();
  const before = cloud.eventBridge.stats().received;
  const seen = disconnects();
  const settles = holdSettles();
  try {
    await quinn.close();
    await until(() => disconnects() > seen, "quinn's $disconnect");
    // As the client resumes: the room it showed by `joinroom`, then every room it followed by `subscribe`.
    const [shown] = rooms as [{ roomId: string; key: string }];
    expect(
      await back.expectReply({ action: 'joinroom', roomId: shown.roomId, key: shown.key }),
    ).toMatchObject({
      type: 'joined',
    });
    await follow(back);
    await until(() => settles.counts.reached > 0, 'the settle step');
  } finally {
    settles.restore();
  }
  await until(() => settles.counts.done > 0, 'the settle step run');
  // On the bus, the close's one departure and nothing of the return.
  await testCloud.settle();
  expect(cloud.eventBridge.stats().received - before).toBe(1);
  await expectNoticedNothing('quinn', mark, back);
});

it.each([
  ['the whole return', false],
  ["the return's joinroom (its subscribe after the $disconnect)", true],
])(
  "shows neither a leave nor a join anywhere when %s is processed before the old connection's $disconnect",
  async (_, releaseAfterJoin) => {
    // API Gateway gives no order between one connection's `$disconnect` and another connection's frames (a dropped
    // network's `$disconnect` may come late): the old connection's `$disconnect` is held until the return has run.
    const name = releaseAfterJoin ? 'tess' : 'sam';
    const old = await following(name, name);
    const back = await device(name, name);
    await testCloud.settle();
    const mark = olga.mark();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let called = 0;
    const settles = holdSettles();
    const invoke = cloud.lambda.invoke;
    cloud.lambda.invoke = async (...args: Parameters<typeof invoke>) => {
      const routeKey = (args[1] as { requestContext?: { routeKey?: string } }).requestContext?.routeKey;
      if (routeKey === '$disconnect') {
        called++;
        await held;
      }
      return invoke(...args);
    };
    const seen = disconnects();
    try {
      await old.close();
      await until(() => called > 0, `${name}'s $disconnect called`);
      const [shown] = rooms as [{ roomId: string; key: string }];
      expect(
        await back.expectReply({ action: 'joinroom', roomId: shown.roomId, key: shown.key }),
      ).toMatchObject({ type: 'joined' });
      if (releaseAfterJoin) {
        release();
        await until(() => disconnects() > seen, `${name}'s $disconnect run`);
      }
      await follow(back);
      release();
      await until(() => disconnects() > seen, `${name}'s $disconnect run`);
      await until(() => settles.counts.reached > 0, 'the settle step');
    } finally {
      release();
      cloud.lambda.invoke = invoke;
      settles.restore();
    }
    await until(() => settles.counts.done > 0, 'the settle step run');
    await expectNoticedNothing(name, mark, back);
  },
);

it('tells every room of a return after the departure is settled a join', async () => {
  const rae = await following('rae', 'rae');
  await testCloud.settle();
  const mark = olga.mark();
  const seen = disconnects();
  await rae.close();
  await until(() => disconnects() > seen, "rae's $disconnect");
  // The departure settled: every room told the leave.
  await until(() => leavesOf(olga.since(mark), 'rae').length >= ROOMS, 'every room told the leave');
  await testCloud.settle();
  await following('rae', 'rae');
  await until(() => joinsOf(olga.since(mark), 'rae').length >= ROOMS, 'every room told the join');
  await testCloud.settle();
  expect(joinsOf(olga.since(mark), 'rae').sort()).toEqual(rooms.map((r) => r.roomId).sort());
});
