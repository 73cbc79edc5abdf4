import { join } from 'node:path';
import { runModel, type Scenario } from '../../tools/bench/awsModel';
import { featureTable, modelHeader, modelTable } from '../../tools/bench/modelRuns';
import { stackLimits } from '../../tools/bench/stackLimits';
import { indexEntries, TYPICAL_TEXT } from '../../tools/bench/typicalText';
import { deployConstants } from '../../tools/infra/parameters';
import { readTemplateFile } from '../../tools/infra/template';
import { AWS } from '../../tools/local/awsProfile';

/**
 * Every feature in the model's loads (tools/bench/featureTraffic.ts): typing, reads, presence, the word index and
 * push count against the route buckets, the account's requests/s, the tables' write units and EventBridge as the
 * messages do, and a run whose load a route's bucket cannot take names that bucket. Simulated seconds only.
 */

const settings = stackLimits().settings;
const TEMPLATE = join(__dirname, '..', '..', 'template.yaml');
/** 400 rooms of 2 at 2.5 messages/s: 1,000 messages and as many typing frames a second. */
const manyPairs: Scenario = { name: 'pairs', rooms: 400, members: 2, rate: 2.5, seconds: 4 };

describe("a feature's route bucket, one for every client", () => {
  it("refuses typing past the stage's default bucket and names it as the quota that binds first", () => {
    const r = runModel({ design: 'wake', scenario: manyPairs, profile: AWS, seed: 5, settings });
    const bucket = stackLimits().routes.typing?.rateLimit as number;
    expect(bucket).toBeLessThan(manyPairs.rooms * manyPairs.rate);
    expect(r.routeRefusals.typing).toBeGreaterThan(0);
    expect(r.features?.typing.refused).toBe(r.routeRefusals.typing);
    expect(r.bindsFirst?.name).toBe('typing route throttle');
    // The typists' 429s cost the messages nothing: every one sent reaches both members.
    expect(r.missing).toBe(0);
    expect(modelTable([r])).toContain(`${r.routeRefusals.typing} typing route`);
  });

  it("fits typing's bucket when each typist sends one heartbeat per TypingIntervalSeconds (--typing-thinned)", () => {
    const intervalMs = Number(deployConstants(readTemplateFile(TEMPLATE).raw).TypingIntervalSeconds) * 1000;
    const r = runModel({
      design: 'wake',
      scenario: manyPairs,
      profile: AWS,
      seed: 5,
      settings,
      traffic: { typingThinnedMs: intervalMs },
    });
    const typists = manyPairs.rooms * manyPairs.members;
    // Each typist's first frame, then at most one per interval: under the bucket a second, within its burst at first.
    expect(r.features?.typing.requests).toBeLessThanOrEqual(
      typists * Math.ceil((manyPairs.seconds * 1000) / intervalMs),
    );
    expect(r.routeRefusals.typing).toBe(0);
    expect(r.bindsFirst?.name).not.toBe('typing route throttle');
    expect(r.missing).toBe(0);
  });

  it('refuses nothing when the run lifts the bucket, and its header says it was lifted', () => {
    const lifted = stackLimits({ RouteThrottlingRateLimit: '100000', RouteThrottlingBurstLimit: '100000' });
    const r = runModel({
      design: 'wake',
      scenario: manyPairs,
      profile: AWS,
      seed: 5,
      settings: lifted.settings,
    });
    expect(r.routeRefusals.typing).toBe(0);
    expect(r.bindsFirst?.name).not.toBe('typing route throttle');
    expect(modelHeader(AWS, 5, 4, lifted)).toContain('RouteThrottlingRateLimit=100000 (shipped 500: lifted)');
  });
});

describe('each feature counted as its handler does it', () => {
  const scenario: Scenario = { name: 'small', rooms: 20, members: 10, rate: 2, seconds: 10 };
  const r = runModel({ design: 'wake', scenario, profile: AWS, seed: 3, settings, warmupSeconds: 5 });
  const f = r.features as NonNullable<typeof r.features>;
  const perSecond = (n: number) => n / scenario.seconds;

  it('typing: one frame per message, posted to the other members, two write units', () => {
    expect(perSecond(f.typing.requests)).toBeCloseTo(scenario.rooms * scenario.rate, -1);
    expect(f.typing.posts).toBe(f.typing.requests * (scenario.members - 1));
    expect(f.typing.writeUnits).toBe(2 * f.typing.requests);
  });

  it('reads: a markread per member per 5 s, a Seen to the room and a read to the other device', () => {
    // 200 members, each marking every 5 s: 40 a second.
    expect(perSecond(f.reads.requests)).toBeGreaterThan(35);
    expect(perSecond(f.reads.requests)).toBeLessThanOrEqual(41);
    expect(f.reads.putEvents).toBe(f.reads.requests);
    // Each moved read: one post to the other device and one `seen` to each member of the room of 10 (the reads
    // made just before the measured seconds post in them, how many moving with the cold starts the bundles' sizes
    // give: 5% either way, where one member more or fewer per read is 9%).
    expect(f.reads.posts / f.reads.requests).toBeGreaterThan(0.95 * (scenario.members + 1));
    expect(f.reads.posts / f.reads.requests).toBeLessThan(1.05 * (scenario.members + 1));
  });

  it('the word index: fourteen write units per message (7 words, 7 stems); push: a rule invocation per mention', () => {
    // "are we still on for lunch near the new office friday afternoon 1": still lunch near new office friday
    // afternoon (stop-words and the lone digit left out), and their stems sti lun nea new off fri aft.
    expect(indexEntries(`${TYPICAL_TEXT} 1`)).toBe(14);
    const indexed = f.words.writeUnits / 14;
    expect(indexed).toBeGreaterThan(0.9 * r.sent);
    expect(indexed).toBeLessThan(1.1 * r.sent);
    // PushOnMessageRule matches only a message that may push (template.yaml `mayPush`): here the tenth that mention
    // someone (extraTraffic.ts DEFAULT_EXTRA_MIX.mentionShare), never every message.
    expect(f.push.ruleInvocations).toBeGreaterThan(0.05 * r.sent);
    expect(f.push.ruleInvocations).toBeLessThan(0.15 * r.sent);
  });

  it('presence: one frame to every member per board taken, never one per change', () => {
    const big: Scenario = { name: 'big', rooms: 1, members: 2000, rate: 1, seconds: 10 };
    const p = runModel({ design: 'wake', scenario: big, profile: AWS, seed: 3, settings }).features?.presence;
    // 4,000 changes an hour at 2,000 members: ~22 in 10 s, fewer boards (a board holds the changes of its turn).
    expect(p?.putEvents).toBeGreaterThan(5);
    // Whole boards, one frame per member each; a board taken in the last turns may post after the measured seconds
    // (how late depends on the cold starts, sized from the bundles), so up to two boards' posts can fall outside.
    const boards = (p?.posts ?? 0) / big.members;
    expect(Number.isInteger(boards)).toBe(true);
    expect(boards).toBeLessThanOrEqual(p?.putEvents ?? 0);
    expect(boards).toBeGreaterThanOrEqual((p?.putEvents ?? 0) - 2);
    expect(p?.requests).toBeGreaterThan(p?.putEvents ?? 0);
  });

  it('prints each feature per second, and none for a run of messages alone', () => {
    const table = featureTable([r], scenario.seconds);
    expect(table).toMatch(/small\s+typing\s+\d/);
    expect(table).toContain('busiest second: account requests');
    const alone = runModel({ design: 'wake', scenario, profile: AWS, seed: 3, settings, traffic: false });
    expect(alone.features).toBeUndefined();
    expect(alone.routeRefusals.typing).toBeUndefined();
  });
});
