import { runModel, type Scenario } from '../../tools/bench/awsModel';
import { ExpressStarts, RULE_RETRIES } from '../../tools/bench/expressStarts';
import { EXPRESS_STARTS, expressStartLines } from '../../tools/bench/modelQuotaLines';
import { stackLimits } from '../../tools/bench/stackLimits';
import { AWS, type AwsProfile } from '../../tools/local/awsProfile';

/**
 * Express executions started in the model (tools/bench/expressStarts.ts): every machine's starts counted against
 * Express's StartExecution bucket, the departure machine's from the load's leaves and the broadcast machine's from its
 * announcements; a start past the bucket retried as its caller retries it (the pipe without end, a rule up to its
 * RetryPolicy, then dead-lettered). Simulated seconds; the expectations come from the scenario.
 */

/** A retry's draw held at `u`: the k-th retry of a start asked at 0 is then tried at u × 1 s × (2^(k+1) − 1). */
const constant = (u: number) => () => u;
const retryAt = (u: number, k: number) => u * 1000 * (2 ** (k + 1) - 1);

describe('a throttled start', () => {
  it("is retried by the pipe until it starts, `limit` a second, each retry's wait added to its start", () => {
    const limit = 5;
    const asked = 12;
    const u = 0.5;
    const starts = new ExpressStarts(limit, constant(u));
    const at = Array.from({ length: asked }, () => starts.start('fanout', 0) as number);
    // The first `limit` start at once; the rest wait together, each retry, and fill each later second they reach.
    const expected: number[] = Array(limit).fill(0);
    for (let k = 0, left = asked - limit; left > 0; k++) {
      const t = retryAt(u, k);
      const fits = Math.floor(t / 1000) === 0 ? 0 : Math.min(limit, left);
      expected.push(...Array(fits).fill(t));
      left -= fits;
    }
    expect(at).toEqual(expected);
    const summary = starts.summary(60);
    expect(summary.throttled).toBe(asked - limit);
    expect(summary.deadLettered).toBe(0);
    expect(summary.maxDelayMs).toBe(Math.max(...expected));
    // Every throttled call is a refusal of the quota, and each was retried.
    expect(starts.meter.refusedSince(0)).toBe(summary.retries);
  });

  it("is given up by its rule after its RetryPolicy's retries, and that execution never runs", () => {
    const limit = 3;
    const asked = 7;
    // A draw of 0 retries within the same full second: every retry is throttled.
    const starts = new ExpressStarts(limit, constant(0));
    const at = Array.from({ length: asked }, () => starts.start('departure', 0));
    expect(at.filter((t) => t === undefined)).toHaveLength(asked - limit);
    const summary = starts.summary(1);
    const { attempts } = RULE_RETRIES.departure;
    expect(summary.deadLettered).toBe(asked - limit);
    expect(summary.retries).toBe(attempts * (asked - limit));
    // The first call and each retry of a start given up were refused.
    expect(starts.meter.refusedSince(0)).toBe((attempts + 1) * (asked - limit));
  });

  it("reads each machine's rule's RetryPolicy from template.yaml", () => {
    const retries = stackLimits().settings.ruleRetries;
    // template.yaml: RepostThrottled and BroadcastToEveryone each retry 3 times within 300 s; LeaveRooms as long as
    // EventBridge allows, 185 times within 24 h (a storm's departures start late, never dead-lettered).
    for (const machine of ['repost', 'broadcast'] as const)
      expect(retries?.[machine]).toEqual({ attempts: 3, maxAgeMs: 300_000 });
    expect(retries?.departure).toEqual({ attempts: 185, maxAgeMs: 86_400_000 });
    expect(retries).toEqual(RULE_RETRIES);
  });
});

describe("every machine's starts in a run", () => {
  const seconds = 10;
  /** 20 rooms of 10, each member in and out once a minute, an announcement every 2 s. */
  const load: Scenario = { name: 'comings-and-goings', rooms: 20, members: 10, rate: 2, seconds };
  const run = (profile: AwsProfile = AWS) =>
    runModel({
      design: 'wake',
      scenario: load,
      profile,
      seed: 11,
      settings: stackLimits().settings,
      traffic: { sessionMinutes: 1, broadcastEverySeconds: 2 },
    });

  it('starts the departure machine once per leave and the broadcast machine once per announcement', () => {
    const r = run();
    const { byMachine } = r.rates.expressStarts;
    const features = r.features as NonNullable<typeof r.features>;
    // Each leave publishes one Departed event (on `joins`), each reaching its rule: one departure start each.
    const leaves = features.joins.putEvents;
    expect(leaves).toBeGreaterThan(0);
    // A start follows its leave by the leave's own calls, PutEvents and the rule (a few hundred ms): a leave in the
    // measured seconds' last half second may start after them, none before them (no warm-up).
    const departures = Math.round(byMachine.departure * seconds);
    expect(departures).toBeLessThanOrEqual(leaves);
    expect(departures).toBeGreaterThanOrEqual(leaves - Math.ceil(leaves / seconds / 2));
    // Each announcement's rule invocation starts the broadcast machine (the invocation counted when it comes, the
    // start by its second: one announcement of the last second, one every 2 s, may start after the measured ones).
    const invocations = features.broadcasts.ruleInvocations;
    const broadcasts = Math.round(byMachine.broadcast * seconds);
    expect(invocations).toBeGreaterThan(0);
    expect(broadcasts).toBeLessThanOrEqual(invocations);
    expect(broadcasts).toBeGreaterThanOrEqual(invocations - 1);
    // The run's starts are every machine's together, each one asked once (none throttled).
    const total = Object.values(byMachine).reduce((a, b) => a + b, 0);
    expect(r.rates.expressStarts.mean).toBeCloseTo(total, 0);
    expect(r.rates.expressStarts.throttled).toBe(0);
    expect(expressStartLines([r])).toContain(
      `departure ${byMachine.departure}/s, broadcast ${byMachine.broadcast}/s`,
    );
  });

  it('past the quota retries the starts, late batches delaying the messages, and says so', () => {
    const shipped = run();
    const low: AwsProfile = {
      ...AWS,
      quotas: {
        ...AWS.quotas,
        stepFunctionsExpressStartsPerSecond: { value: 4, source: 'a quota lowered for the test' },
      },
    };
    const r = run(low);
    const x = r.rates.expressStarts;
    const use = r.quotas.find((q) => q.name === EXPRESS_STARTS);
    expect(x.throttled).toBeGreaterThan(0);
    expect(x.maxDelayMs).toBeGreaterThan(0);
    expect(use?.refused).toBeGreaterThan(0);
    // A fan-out start retried is a batch whose members wait for it.
    expect(r.p99Ms).toBeGreaterThan(shipped.p99Ms);
    expect(expressStartLines([r])).toContain(
      `: OVER its quota, ${use?.refused} starts past it; ${x.throttled} starts throttled, ${x.retries} retries ` +
        `adding ${x.meanDelayMs} ms (longest ${x.maxDelayMs} ms), ${x.deadLettered} dead-lettered`,
    );
  });
});
