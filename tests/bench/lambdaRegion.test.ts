import { runModel, type Scenario } from '../../tools/bench/awsModel';
import { initLatencyFor, LAMBDA_QUOTAS, reservationFor } from '../../tools/bench/lambdaConcurrency';
import { concurrencyLines } from '../../tools/bench/modelQuotaLines';
import { notClean } from '../../tools/bench/modelRuns';
import { profileInRegion } from '../../tools/bench/regions';
import { stackLimits } from '../../tools/bench/stackLimits';
import { AWS } from '../../tools/local/awsProfile';

/**
 * Lambda's concurrency, scaling and cold starts, and EventBridge's quotas by Region, in the model
 * (tools/bench/lambdaConcurrency.ts, tools/bench/regions.ts). Simulated seconds: each run takes well under a real one.
 */

const room: Scenario = { name: 'room', rooms: 1, members: 10, rate: 50, seconds: 4 };
const coldMessages = { MessagesFunction: { p50: 800, p99: 800, source: 'a test' } };

describe('Lambda', () => {
  it("refuses sends past the account's concurrency, and names it as the quota that binds first", () => {
    const r = runModel({
      design: 'wake',
      scenario: room,
      profile: AWS,
      seed: 5,
      lambda: { accountConcurrency: 2 },
      settings: { lambdaInit: coldMessages },
    });
    expect(r.refusals.lambdaSends).toBeGreaterThan(0);
    expect(r.bindsFirst?.name).toBe('Lambda concurrency (account)');
    expect(notClean(r)).toContain('sends throttled by Lambda');
    const roomy = runModel({ design: 'wake', scenario: room, profile: AWS, seed: 5 });
    expect(roomy.refusals.lambdaSends).toBe(0);
  });

  it('adds environments no faster than its scaling rate a function', () => {
    const r = runModel({
      design: 'wake',
      scenario: room,
      profile: AWS,
      seed: 5,
      lambda: { scaleEnvironments: 3, scaleWindowMs: 10_000 },
      settings: { lambdaInit: coldMessages },
    });
    // Sends during the first environments' 800 ms init find none free and none may be added.
    expect(r.refusals.lambdaSends).toBeGreaterThan(0);
    expect(r.outcomes.coldStarts).toBeLessThanOrEqual(2 * 3);
  });

  it("starts cold from nothing, each cold start's init before the handler; warm after a warm-up", () => {
    const cold = runModel({
      design: 'wake',
      scenario: room,
      profile: AWS,
      seed: 5,
      settings: { lambdaInit: coldMessages },
    });
    expect(cold.outcomes.coldStarts).toBeGreaterThan(0);
    expect(cold.maxMs).toBeGreaterThan(800);
    const warm = runModel({
      design: 'wake',
      scenario: room,
      profile: AWS,
      seed: 5,
      warmupSeconds: 5,
      settings: { lambdaInit: coldMessages },
    });
    expect(warm.outcomes.coldStarts).toBe(0);
    expect(warm.maxMs).toBeLessThan(cold.maxMs);
  });

  it("sizes a cold start's init from the bundle, and reads the bundles of dist/", () => {
    expect(initLatencyFor(1536 * 1024).p50).toBe(1000);
    expect(initLatencyFor(260 * 1024).p50).toBe(100);
    expect(initLatencyFor(900 * 1024).p50).toBeGreaterThan(initLatencyFor(600 * 1024).p50);
    const init = stackLimits().settings.lambdaInit ?? {};
    expect(init.MessagesFunction?.p50).toBeGreaterThanOrEqual(100);
    expect(init.DeliverFunction?.p50).toBeGreaterThanOrEqual(100);
    expect(LAMBDA_QUOTAS).toEqual({
      accountConcurrency: 1_000,
      scaleEnvironments: 1_000,
      scaleWindowMs: 10_000,
    });
  });
});

describe('reserved concurrency (docs/DECISIONS.md, "Reserved concurrency of Deliver and Messages")', () => {
  const busy: Scenario = { name: 'busy', rooms: 20, members: 2, rate: 15, seconds: 4 };
  const withReserved = (reservedConcurrency: Record<string, number>) =>
    runModel({
      design: 'wake',
      scenario: busy,
      profile: AWS,
      seed: 3,
      warmupSeconds: 2,
      settings: { reservedConcurrency },
    });

  it("reads both functions' reservations from the template's constants, none as shipped", () => {
    expect(stackLimits().reservedConcurrency).toEqual({});
    const limits = stackLimits({ MessagesReservedConcurrency: '250', DeliverReservedConcurrency: '300' });
    expect(limits.reservedConcurrency).toEqual({ MessagesFunction: 250, DeliverFunction: 300 });
    expect(limits.settings.reservedConcurrency).toEqual({ MessagesFunction: 250, DeliverFunction: 300 });
  });

  it('holds the load at the reservation it prints for the messages function, and throttles sends below it', () => {
    const open = withReserved({});
    const peak = open.lambdaPeaks.MessagesFunction ?? 0;
    expect(peak).toBeGreaterThan(1);
    expect(open.lambdaPeaks.DeliverFunction).toBeGreaterThan(0);
    expect(concurrencyLines([open])).toContain(
      `MessagesFunction peak ${peak} (reserve ≥ ${reservationFor(peak)})`,
    );
    const reserved = withReserved({ MessagesFunction: reservationFor(peak) });
    expect(reserved.refusals.lambdaSends).toBe(0);
    expect(reserved.sent).toBe(open.sent);
    const short = withReserved({ MessagesFunction: 1 });
    expect(short.refusals.lambdaSends).toBeGreaterThan(0);
    expect(notClean(short)).toContain('sends throttled by Lambda');
  });

  it("keeps sends whole when Deliver's reservation throttles Deliver: the fan-out waits, the send path does not", () => {
    const held = withReserved({ DeliverFunction: 1 });
    expect(held.refusals.lambdaSends).toBe(0);
    expect(held.quotas.find((q) => q.name === 'Lambda concurrency (account)')?.refused).toBeGreaterThan(0);
  });

  it('reserves at least ten, twice the peak rounded up to ten', () => {
    expect([0, 4, 5, 21, 109, 128].map(reservationFor)).toEqual([10, 10, 10, 50, 220, 260]);
  });
});

describe('EventBridge by Region', () => {
  const stack: Scenario = { name: 'stack', rooms: 100, members: 2, rate: 5, seconds: 3 };

  it("refuses PutEvents past a 400-a-second Region's quota, and none in us-east-1", () => {
    const small = runModel({
      design: 'wake',
      scenario: stack,
      profile: profileInRegion(AWS, 'eu-south-1'),
      seed: 2,
    });
    expect(small.refusals.putEvents).toBeGreaterThan(0);
    expect(small.bindsFirst?.name).toBe('EventBridge PutEvents/s');
    const large = runModel({
      design: 'wake',
      scenario: stack,
      profile: profileInRegion(AWS, 'us-east-1'),
      seed: 2,
    });
    expect(large.refusals.putEvents).toBe(0);
    expect(large.missing).toBe(0);
  });

  it('delays rule invocations past the Region quota rather than dropping them', () => {
    const slow = profileInRegion(AWS, 'us-east-1');
    // Below the load's wakes, Seen events and mentions' push invocations together (the push rule matches only a
    // message that may push, not every message).
    slow.quotas.eventBridgeRuleInvocationsPerSecond = { value: 150, source: 'a test' };
    const r = runModel({ design: 'wake', scenario: stack, profile: slow, seed: 2 });
    expect(r.quotas.find((q) => q.name === 'EventBridge rule invocations/s')?.refused).toBeGreaterThan(0);
    expect(r.missing).toBe(0);
    // The wakes wait for a later second: the messages come, later than with the Region's quota.
    const usual = runModel({
      design: 'wake',
      scenario: stack,
      profile: profileInRegion(AWS, 'us-east-1'),
      seed: 2,
    });
    expect(r.p99Ms).toBeGreaterThan(usual.p99Ms + 300);
  });

  it('names the Regions it knows when given another', () => {
    expect(() => profileInRegion(AWS, 'mars-1')).toThrow(
      /unknown Region "mars-1": the model knows us-east-1/,
    );
  });
});

describe('DynamoDB per table', () => {
  // 50 rooms at 100 messages/s: 5,000 seq writes a second on the rooms table, and 5,000 stores on the messages table.
  const busy: Scenario = { name: 'tables', rooms: 50, members: 2, rate: 100, seconds: 3 };

  it("refuses writes past a new on-demand table's 4,000 a second, none under the 40,000 table quota", () => {
    // Messages alone: their 5,000 typing frames a second would take half the account's requests before the tables.
    const fresh = runModel({
      design: 'wake',
      scenario: busy,
      profile: AWS,
      seed: 4,
      newTables: true,
      traffic: false,
    });
    expect(fresh.refusals.dynamodbTable).toBeGreaterThan(0);
    expect(fresh.outcomes.busySends).toBeGreaterThan(0);
    expect(fresh.bindsFirst?.name).toBe('DynamoDB write units/s per table');
    const grown = runModel({ design: 'wake', scenario: busy, profile: AWS, seed: 4, traffic: false });
    expect(grown.refusals.dynamodbTable).toBe(0);
    expect(grown.outcomes.busySends).toBe(0);
  });
});
