import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SETTINGS } from '../../tools/bench/modelSettings';
import { joinBurst, presenceTable } from '../../tools/bench/presence';
import {
  fanoutQueueRedrive,
  messageFramesOf,
  messagesBesideLoad,
  type PresenceLoad,
  type QueueRedrive,
  stormDepartures,
} from '../../tools/bench/presenceScale';
import { stackLimits } from '../../tools/bench/stackLimits';
import { AWS } from '../../tools/local/awsProfile';

/**
 * Presence at scale against the rest of the stack (tools/bench/presenceScale.ts, `--model presence`): a room's messages
 * sent beside a join burst, through the same queue group and posting budget, with FanoutQueue's redrive read from
 * template.yaml; and a reconnect storm's departure machine starts against Express's StartExecution bucket. Simulated
 * seconds; the expected values come from each scenario.
 */

const shipped = stackLimits().settings;
const budget = shipped.postsPerSecond as number;
const redrive = fanoutQueueRedrive();
const L = AWS.latency;
const toGroupMs = L.eventBridgePutEvents.p50 + L.eventBridgeToTarget.p50 + L.pipesSqsPoll.p50;
const deliverMs = L.lambdaInvoke.p50 + L.dynamodbItem.p50;

it("reads FanoutQueue's visibility timeout and receive count from the template it is given", () => {
  expect(redrive).toEqual({ visibilitySeconds: 120, maxReceiveCount: 10 });
  const dir = mkdtempSync(join(tmpdir(), 'presence-scale-'));
  const path = join(dir, 'template.yaml');
  writeFileSync(
    path,
    'Resources:\n  FanoutQueue:\n    Type: AWS::SQS::Queue\n    Properties:\n      VisibilityTimeout: 30\n' +
      '      RedrivePolicy:\n        maxReceiveCount: 3\n',
  );
  expect(fanoutQueueRedrive(path)).toEqual({ visibilitySeconds: 30, maxReceiveCount: 3 });
});

it('a message alone in an empty room reaches it after the way to its group, one frame and Deliver', () => {
  const m = messagesBesideLoad({ name: 'empty', members: 0, changes: [] }, 1, AWS, {
    postsPerSecond: budget,
    redrive,
    span: 10,
  });
  expect(m.messages).toBe(10);
  expect(m.p50Ms).toBe(Math.round(toGroupMs + 55 + deliverMs));
  expect(m.p99Ms).toBe(m.p50Ms);
  expect(m.deadLettered).toBe(0);
});

it('an execution posts every member one frame for the messages it reads and one for the board that changed', () => {
  // A join and a message written at 0 in a room of 100: one execution takes both, 101 members × 2 frames.
  const load = { name: 'one join', members: 100, changes: [{ at: 0, event: 'join' as const }] };
  const m = messagesBesideLoad(load, 1, AWS, { postsPerSecond: budget, redrive, span: 1 });
  expect([m.messages, m.posts]).toEqual([1, 202]);
});

describe('a cycle posts each member one frame per FRAME_LIMIT_BYTES of its messages, not one per message', () => {
  const room = (members: number, changes: PresenceLoad['changes'] = []) => ({
    name: 'room',
    members,
    changes,
  });
  // Every message is written within 0.1 s, before its wake reaches the group: the first cycle finds them all.
  const burstOf = (count: number, load = room(1_000)) =>
    messagesBesideLoad(load, count * 10, AWS, { postsPerSecond: budget, redrive, span: 0.1 });
  const perFrame = Math.floor(DEFAULT_SETTINGS.frameBytes / DEFAULT_SETTINGS.messageBytes);

  it("100 messages read at once reach a room of 1,000 in 1,000 posts, each member's one frame", () => {
    expect(perFrame).toBeGreaterThanOrEqual(100);
    const m = burstOf(100);
    expect([m.messages, m.posts]).toEqual([100, 1_000]);
    expect(messageFramesOf(100, { ...DEFAULT_SETTINGS })).toBe(1);
  });

  it('300 messages take two cycles of at most CYCLE_EVENTS, each cut into frames of FRAME_LIMIT_BYTES', () => {
    expect(DEFAULT_SETTINGS.cycleItems).toBe(200);
    const m = burstOf(300);
    const frames = Math.ceil(200 / perFrame) + Math.ceil(100 / perFrame);
    expect([m.messages, m.posts]).toEqual([300, 1_000 * frames]);
  });

  it("the board is taken once an execution: a turn's second cycle posts no presence frame", () => {
    const m = burstOf(300, room(100, [{ at: 0, event: 'join' }]));
    const frames = Math.ceil(200 / perFrame) + Math.ceil(100 / perFrame);
    expect(m.posts).toBe(101 * (frames + 1));
  });
});

it('the join burst beside 10 msg/s: message p99 within 2 s, nothing dead-lettered, posts far below members × messages', () => {
  const m = messagesBesideLoad(joinBurst(), 10, AWS, { postsPerSecond: budget, redrive });
  expect(m.messages).toBe(600);
  expect(m.p99Ms).toBeLessThanOrEqual(2_000);
  expect(m.deadLettered).toBe(0);
  // Posts follow members × turns: under the posting budget over the burst's 60 s.
  expect(m.posts / 60).toBeLessThan(budget);
});

it("a join burst's presence frames make the room's messages later than the same stream in a full, quiet room", () => {
  const burst = joinBurst();
  const opts = { postsPerSecond: budget, redrive };
  const beside = messagesBesideLoad(burst, 1, AWS, opts);
  const quiet = messagesBesideLoad({ name: 'full', members: 5_000, changes: [] }, 1, AWS, {
    ...opts,
    span: 60,
  });
  expect(beside.messages).toBe(60);
  expect(beside.p99Ms).toBeGreaterThan(quiet.p99Ms);
  // The shipped queue receives a batch again only past 120 s of execution: the burst's are seconds long.
  expect(beside.longestSeconds).toBeLessThan(redrive.visibilitySeconds);
  expect(beside.deadLettered).toBe(0);
});

it('dead-letters the messages of an execution that outlasts maxReceiveCount visibility timeouts, and only then', () => {
  // 240,000 members at the budget: one message's posts take 30 s (plus Deliver), received again every 10 s: 4 receives.
  const room = { name: 'huge', members: budget * 30, changes: [] };
  const run = (r: QueueRedrive) =>
    messagesBesideLoad(room, 1, AWS, { postsPerSecond: budget, redrive: r, span: 1 });
  expect(run({ visibilitySeconds: 10, maxReceiveCount: 4 }).deadLettered).toBe(0);
  const lost = run({ visibilitySeconds: 10, maxReceiveCount: 3 });
  expect(lost.deadLettered).toBe(1);
  expect(lost.messages).toBe(1);
});

describe("a reconnect storm's departures", () => {
  const startsPerSecond = AWS.quotas.stepFunctionsExpressStartsPerSecond.value;
  const retries = shipped.ruleRetries as NonNullable<typeof shipped.ruleRetries>;

  it("all start at once within Express's bucket", () => {
    const d = stormDepartures(startsPerSecond, { startsPerSecond, retries });
    expect([d.starts, d.throttled, d.deadLettered]).toEqual([startsPerSecond, 0, 0]);
  });

  it('past the bucket, each is throttled, and dead-lettered when its rule may not retry', () => {
    const none = { ...retries, departure: { attempts: 0, maxAgeMs: 300_000 } };
    const d = stormDepartures(20_000, { startsPerSecond, retries: none });
    expect([d.starts, d.throttled, d.retries, d.deadLettered]).toEqual([6_000, 14_000, 0, 14_000]);
  });

  it("with LeaveRooms' RetryPolicy as template.yaml ships it, a storm of 20,000 or 100,000 dead-letters no departure", () => {
    for (const storm of [20_000, 100_000]) {
      const d = stormDepartures(storm, { startsPerSecond, retries });
      expect([d.starts, d.throttled, d.deadLettered]).toEqual([storm, storm - startsPerSecond, 0]);
    }
  });

  it("with LeaveRooms' RetryPolicy, every departure either starts or is dead-lettered, and the table says so", () => {
    const d = stormDepartures(20_000, { startsPerSecond, retries });
    expect(d.starts + d.deadLettered).toBe(20_000);
    expect(d.throttled).toBe(14_000);
    expect(d.retries).toBeGreaterThanOrEqual(d.throttled);
    expect(d.retries).toBeLessThanOrEqual(d.throttled * retries.departure.attempts);
    expect(presenceTable(AWS).text).toContain(
      `reconnect storm of 20,000 dropped at once, each following a room: ${d.starts} departure starts of 20000, ` +
        `14000 throttled, ${d.retries} retries, ${d.deadLettered} dead-lettered`,
    );
  });
});
