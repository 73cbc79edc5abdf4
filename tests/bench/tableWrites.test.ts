import { runModel, type Scenario } from '../../tools/bench/awsModel';
import { EXPRESS_STARTS, expressStartLines, tableWriteLines } from '../../tools/bench/modelQuotaLines';
import { TOKEN_WRITE_UNITS } from '../../tools/bench/sendLimits';
import { stackLimits } from '../../tools/bench/stackLimits';
import { AWS, type AwsProfile } from '../../tools/local/awsProfile';

/**
 * A send's token writes in the model (tools/bench/sendLimits.ts, modelMeters.ts): each send takes its connection's
 * bucket (the Connections item, written only when it had a token) and its person's (the Limits table's
 * `rate#send#<owner>`, written whether it takes or not), each on its table's and its key's write quota; and the
 * Express executions a run starts, beside their quota. Simulated seconds; the expectations come from the scenario.
 */

const shipped = stackLimits();
const seconds = 10;
const run = (scenario: Scenario, settings = shipped.settings, profile: AwsProfile = AWS) =>
  runModel({ design: 'wake', scenario, profile, seed: 5, settings, traffic: false });

/**
 * One room of 20 at 80 msg/s for 10 s: each member sends 4/s against its person's 10 tokens and 1/s refill, so about
 * half of the 800 takes refuse (each bucket's 10 + 10 of 40).
 */
const busy: Scenario = { name: 'tokens', rooms: 1, members: 20, rate: 80, seconds };

describe("a send's token writes", () => {
  it("writes the Limits table once per send, refused or not: sends × the person's token write", () => {
    const r = run(busy);
    // Every send offered reaches the takes (one room's 40/s is far under every route, account and Lambda quota).
    const perSecond = busy.rate * busy.rooms * TOKEN_WRITE_UNITS;
    const tokens = r.rates.tokenWriteUnits.LimitsTable ?? 0;
    // A Poisson stream of 800 sends: within 15% of its mean.
    expect(tokens).toBeGreaterThan(perSecond * 0.85);
    expect(tokens).toBeLessThan(perSecond * 1.15);
    // Refused takes are written too: the Limits writes exceed the sends stored.
    expect(r.refusals.personSends).toBeGreaterThan(0);
    expect(tokens).toBeGreaterThan(r.sentPerSecond * 1.5);
    // They are part of the table's write units (with the fan-out's cursor and budget), not beside them.
    expect(r.rates.tableWriteUnits.LimitsTable ?? 0).toBeGreaterThanOrEqual(tokens);
    // The connection's bucket is written by every send that had a token: at least every send stored.
    expect(r.rates.tokenWriteUnits.ConnectionsTable ?? 0).toBeGreaterThanOrEqual(r.sentPerSecond);
    expect(tableWriteLines([r])).toContain(
      `LimitsTable ${r.rates.tableWriteUnits.LimitsTable} (send tokens ${tokens})`,
    );
  });

  it('writes no person bucket with PersonSendRateLimit off, and no connection bucket with SendRateLimit off', () => {
    const noPerson = run(busy, stackLimits({ PersonSendRateLimit: '0' }).settings);
    expect(noPerson.rates.tokenWriteUnits.LimitsTable).toBeUndefined();
    expect(noPerson.rates.tokenWriteUnits.ConnectionsTable ?? 0).toBeGreaterThan(0);
    const noConnection = run(busy, stackLimits({ SendRateLimit: '0' }).settings);
    expect(noConnection.rates.tokenWriteUnits.ConnectionsTable).toBeUndefined();
  });

  it("throttles a person's bucket past a partition's 1,000 WCU/s: one person sending 1,500/s over 200 connections", () => {
    const flood: Scenario = {
      name: 'one-person-flood',
      rooms: 1,
      members: 20,
      senders: 1,
      connectionsPerSender: 200,
      rate: 1500,
      seconds: 5,
    };
    const r = run(flood, stackLimits({ SendRateLimit: '0' }).settings);
    expect(r.refusals.dynamodbKey).toBeGreaterThan(0);
    expect(r.rates.tableWritePeaks.LimitsTable?.key).toBe(1);
    expect(tableWriteLines([r])).toMatch(
      /LimitsTable [\d.]+ \(send tokens [\d.]+\): busiest second \d+% of 40000, busiest key 100% of 1000/,
    );
  });
});

describe('Express executions started', () => {
  /** 200 rooms of 2 at 2.5 msg/s: each wake's batch is one StartSyncExecution of the fan-out machine. */
  const rooms: Scenario = { name: 'rooms-200-of-2', rooms: 200, members: 2, rate: 2.5, seconds };

  it('counts each fan-out execution as a start, under the 6,000/s quota as shipped', () => {
    const r = run(rooms);
    const use = r.quotas.find((q) => q.name === EXPRESS_STARTS);
    expect(use?.limit).toBe(AWS.quotas.stepFunctionsExpressStartsPerSecond.value);
    expect(r.rates.expressStarts.mean).toBeGreaterThan(0);
    expect(r.rates.expressStarts.mean * seconds).toBeLessThanOrEqual(r.executions);
    expect(use?.refused).toBe(0);
    expect(expressStartLines([r])).not.toContain('OVER');
  });

  it('flags a run whose starts pass the quota, and names it', () => {
    const low: AwsProfile = {
      ...AWS,
      quotas: {
        ...AWS.quotas,
        stepFunctionsExpressStartsPerSecond: { value: 5, source: 'a quota lowered for the test' },
      },
    };
    const r = run(rooms, shipped.settings, low);
    const use = r.quotas.find((q) => q.name === EXPRESS_STARTS);
    expect(r.rates.expressStarts.peak).toBeGreaterThan(5);
    expect(use?.refused).toBeGreaterThan(0);
    expect(expressStartLines([r])).toMatch(
      new RegExp(
        `of 5/s, 100% \\(fanout [\\d.]+/s, [^)]*\\): OVER its quota, ${use?.refused} starts past it`,
      ),
    );
  });
});

describe('resync reads', () => {
  it("reads history once for each member the post and its repost missed, on the history route's bucket", () => {
    // An account of 150 requests/s: a room of 200 posts past it every turn, and its reposts 2 s later too.
    const small: AwsProfile = {
      ...AWS,
      quotas: { ...AWS.quotas, apiGatewayRequestsPerSecond: { value: 150, source: 'lowered for the test' } },
    };
    const room: Scenario = { name: 'room-200-at-5', rooms: 1, members: 200, rate: 5, seconds };
    const r = runModel({
      design: 'wake',
      scenario: room,
      profile: small,
      seed: 5,
      settings: shipped.settings,
    });
    const resyncs = r.features?.resyncs;
    expect(r.outcomes.resyncNotes).toBeGreaterThan(0);
    // Each member missed asks once (one noted after the measured seconds is not counted).
    expect(resyncs?.requests).toBeGreaterThan(0);
    expect(resyncs?.requests).toBeLessThanOrEqual(r.outcomes.resyncNotes);
    // The reads are requests of the account that refused the posts: they meet the same full second.
    expect(resyncs?.refused).toBeGreaterThan(0);
  });
});
