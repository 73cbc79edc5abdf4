import { runModel, type Scenario } from '../../tools/bench/awsModel';
import { JOIN_WRITES, LEAVE_WRITES } from '../../tools/bench/extraTraffic';
import { featureTable } from '../../tools/bench/modelRuns';
import { stackLimits } from '../../tools/bench/stackLimits';
import { AWS } from '../../tools/local/awsProfile';

/**
 * The rest of the chat's traffic in the model (tools/bench/extraTraffic.ts): heartbeats and pings, joins' writes,
 * history and search reads, broadcasts, push posts and Parameter Store reads, each counted against the quota AWS
 * enforces on it, and a load past that quota names it as the one that binds first. Simulated seconds only.
 */

const settings = stackLimits().settings;
const lifted = stackLimits({
  RouteThrottlingRateLimit: '100000',
  RouteThrottlingBurstLimit: '100000',
}).settings;
const use = (r: ReturnType<typeof runModel>, name: string) => r.quotas.find((q) => q.name === name);
const units = (writes: typeof JOIN_WRITES) => writes.reduce((n, w) => n + w.units, 0);

describe('heartbeats', () => {
  it("a typist's heartbeat every 5 s past the first, on typing's bucket, none where members send faster", () => {
    // 10 members at 1 message/s: each sends every 10 s, so types 10 s: one heartbeat past the first.
    const slow: Scenario = { name: 'slow', rooms: 100, members: 10, rate: 1, seconds: 10 };
    const r = runModel({ design: 'wake', scenario: slow, profile: AWS, seed: 4, settings, warmupSeconds: 5 });
    const f = r.features as NonNullable<typeof r.features>;
    expect(f.heartbeats.requests / f.typing.requests).toBeGreaterThan(0.9);
    expect(f.heartbeats.requests / f.typing.requests).toBeLessThan(1.1);
    // Relayed as the first: posted to the 9 others, or dropped past typing's share of the posting budget.
    expect(f.heartbeats.posts + f.heartbeats.dropped).toBe(f.heartbeats.requests * (slow.members - 1));
    expect(f.heartbeats.posts).toBeGreaterThan(0);
    const fast = runModel({
      design: 'wake',
      scenario: { name: 'fast', rooms: 1, members: 100, rate: 300, seconds: 3 },
      profile: AWS,
      seed: 4,
      settings,
    });
    expect(fast.features?.heartbeats.requests).toBe(0);
    // Under a load every member marks its room read: no connection is quiet long enough to ping.
    expect(fast.routeRefusals.ping).toBeUndefined();
  });

  it("quiet connections' pings count on the ping route's bucket, which names itself when they pass it", () => {
    // 2,000 quiet connections pinging each second: four times the stage's 500/s bucket.
    const idle: Scenario = { name: 'idle', rooms: 100, members: 20, rate: 0, seconds: 4 };
    const r = runModel({
      design: 'wake',
      scenario: idle,
      profile: AWS,
      seed: 2,
      settings,
      traffic: { keepaliveMs: 1000 },
    });
    expect(r.features?.heartbeats.requests).toBeGreaterThan(0.9 * 2000 * idle.seconds);
    expect(r.routeRefusals.ping).toBeGreaterThan(0);
    expect(r.features?.heartbeats.refused).toBe(r.routeRefusals.ping);
    expect(r.bindsFirst?.name).toBe('ping route throttle');
  });
});

describe("joins' own writes", () => {
  it('each join and leave writes its items and its room-index entries, no count of members', () => {
    // One room of 2,000 whose members stay a minute: ~67 changes a second.
    const churn: Scenario = { name: 'churn', rooms: 1, members: 2000, rate: 1, seconds: 10 };
    const r = runModel({
      design: 'wake',
      scenario: churn,
      profile: AWS,
      seed: 6,
      settings,
      traffic: { sessionMinutes: 1 },
    });
    const f = r.features as NonNullable<typeof r.features>;
    // A join is two requests ($connect, joinroom), a leave one; the room's stream starts with a join.
    const requests = f.presence.requests;
    const d = [0, 1].find((x) => (requests + x) % 3 === 0) as number;
    const joins = (requests + d) / 3;
    const leaves = joins - d;
    expect(joins).toBeGreaterThan(100);
    expect(f.joins.writeUnits).toBe(joins * units(JOIN_WRITES) + leaves * units(LEAVE_WRITES));
    // The room index is a table of its own: the entries are counted there.
    expect(r.rates.tableWriteUnits.RoomSubscribersIndex).toBeGreaterThan(0);
    expect(r.rates.tableWriteUnits.SubscriptionsTable).toBeGreaterThan(0);
  });
});

describe('history and search reads', () => {
  // 1,000 members each reading a page of history a second: twice the history route's 500/s bucket.
  const readers: Scenario = { name: 'readers', rooms: 1, members: 1000, rate: 1, seconds: 5 };
  const traffic = { historyPerMemberPerHour: 3600, searchesPerMemberPerHour: 0, sessionMinutes: 1e9 };

  it("a page is 4 RCU of the room's partition, and the history route's bucket binds before the partition", () => {
    // Measured past the bucket's burst (1,000 at once: 4,000 RCU in one second, past the partition's 3,000).
    const r = runModel({
      design: 'wake',
      scenario: readers,
      profile: AWS,
      seed: 3,
      settings,
      traffic,
      warmupSeconds: 3,
    });
    const h = r.features?.history as NonNullable<typeof r.features>['history'];
    // 50 messages of 250 B: 12.5 KB, four strongly consistent read units.
    expect(h.readUnits).toBe(4 * (h.requests - h.refused));
    // Read from the room's partition in the Messages table (the pages read at a second's edge: 2% either way).
    const perSecond = h.readUnits / readers.seconds;
    expect(r.rates.tableReadUnits.MessagesTable).toBeGreaterThan(0.98 * perSecond);
    expect(r.rates.tableReadUnits.MessagesTable).toBeLessThan(1.02 * perSecond);
    expect(r.routeRefusals.history).toBeGreaterThan(0);
    expect(r.bindsFirst?.name).toBe('history route throttle');
    // 500 pages a second at most: 2,000 of the partition's 3,000 RCU/s.
    expect(use(r, 'DynamoDB reads/s per key')?.refused).toBe(0);
    expect(featureTable([r], readers.seconds)).toMatch(
      /readers\s+history\s+[\d.]+\s+\d+\s+0\s+0\s+0\s+[1-9]/,
    );
  });

  it('with the bucket lifted, the partition refuses past 3,000 RCU/s', () => {
    const r = runModel({
      design: 'wake',
      scenario: readers,
      profile: AWS,
      seed: 3,
      settings: lifted,
      traffic,
    });
    expect(use(r, 'DynamoDB reads/s per key')?.refused).toBeGreaterThan(0);
    expect(r.bindsFirst?.name).toBe('DynamoDB reads/s per key');
  });

  it("a search reads each word's newest entries per room and word, on the search route's bucket", () => {
    const r = runModel({
      design: 'wake',
      scenario: readers,
      profile: AWS,
      seed: 3,
      settings,
      traffic: { ...traffic, historyPerMemberPerHour: 0, searchesPerMemberPerHour: 360, searchWords: 3 },
    });
    const s = r.features?.search as NonNullable<typeof r.features>['search'];
    expect(s.requests).toBeGreaterThan(200);
    // 1,000 entries of 60 B, eventually consistent: 7.5 read units per word and room (tools/cost/search.ts).
    expect(s.readUnits).toBe(3 * 7.5 * (s.requests - s.refused));
    // Read from the words' keys in the Words table.
    const perSecond = s.readUnits / readers.seconds;
    expect(r.rates.tableReadUnits.WordsTable).toBeGreaterThan(0.95 * perSecond);
    expect(r.rates.tableReadUnits.WordsTable).toBeLessThan(1.05 * perSecond);
    expect(r.routeRefusals.search).toBe(s.refused);
  });
});

describe('broadcasts and push posts', () => {
  it("an announcement to 20,000 connections spreads over the posting budget's seconds, none past it", () => {
    const crowd: Scenario = { name: 'crowd', rooms: 200, members: 100, rate: 0, seconds: 10 };
    const r = runModel({
      design: 'wake',
      scenario: crowd,
      profile: AWS,
      seed: 8,
      settings,
      traffic: { broadcastEverySeconds: 20, keepaliveMs: 1e9, sessionMinutes: 1e9 },
      drainSeconds: 10,
    });
    const b = r.features?.broadcasts as NonNullable<typeof r.features>['broadcasts'];
    expect(b.requests).toBeGreaterThan(0);
    expect(b.posts + b.dropped).toBe(b.requests * 20_000);
    expect(b.posts).toBeGreaterThan(0);
    // 20,000 posts in 8,000 a second: the budget full in its busiest second, never past it.
    const budget = use(r, 'posting budget (FanoutPostsPerSecond)');
    expect(budget?.peakUse).toBe(1);
    // The Scan of the connections table: 20,000 items of 400 B, eventually consistent.
    expect(b.readUnits).toBe(b.requests * Math.ceil((20_000 * 400) / 4096) * 0.5);
  });

  it('the push rule is invoked for a message that mentions someone, and a mentioned person offline gets one post', () => {
    const scenario: Scenario = { name: 'mentions', rooms: 10, members: 10, rate: 5, seconds: 5 };
    const mentioning = runModel({
      design: 'wake',
      scenario,
      profile: AWS,
      seed: 2,
      settings,
      traffic: { mentionShare: 1, offlineShare: 1 },
    });
    const all = mentioning.features?.push;
    // Every message mentions someone: one invocation each (those stored just before the measured seconds may be
    // invoked in them, as the word index's entries are).
    expect(all?.ruleInvocations).toBeGreaterThan(0.9 * mentioning.sent);
    expect(all?.ruleInvocations).toBeLessThan(1.1 * mentioning.sent);
    expect(all?.posts).toBe(all?.ruleInvocations);
    const none = runModel({
      design: 'wake',
      scenario,
      profile: AWS,
      seed: 2,
      settings,
      traffic: { mentionShare: 0 },
    }).features?.push;
    // No message mentions anyone: the rule's pattern (template.yaml `mayPush: [true]`) matches none of them.
    expect(none?.ruleInvocations).toBe(0);
    expect(none?.posts).toBe(0);
  });
});

describe('Parameter Store', () => {
  it("each new environment reads the settings: a cold fleet passes SSM's 40 GetParameter/s", () => {
    const pairs: Scenario = { name: 'pairs', rooms: 500, members: 2, rate: 2, seconds: 3 };
    const r = runModel({ design: 'wake', scenario: pairs, profile: AWS, seed: 1, settings, drainSeconds: 5 });
    const ssm = r.features?.ssm as NonNullable<typeof r.features>['ssm'];
    expect(ssm.requests).toBe(r.outcomes.coldStarts);
    expect(ssm.refused).toBeGreaterThan(0);
    expect(use(r, 'SSM GetParameter/s')?.refused).toBe(ssm.refused);
  });
});
