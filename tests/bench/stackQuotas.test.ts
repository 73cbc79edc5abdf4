import { runModel, type Scenario } from '../../tools/bench/awsModel';
import { modelHeader, modelTable, notClean } from '../../tools/bench/modelRuns';
import { bindingQuota, describeBinding } from '../../tools/bench/quotas';
import { stackLimits } from '../../tools/bench/stackLimits';
import { AWS, type AwsProfile } from '../../tools/local/awsProfile';

/**
 * The stack's own limits in the model (tools/bench/stackLimits.ts, tools/bench/quotas.ts): the route throttle the
 * template deploys refuses sends past its bucket, a run names every deploy-time constant it overrides, and each row
 * names the quota that binds first. Simulated seconds: each run takes well under a real one.
 */

const hotRoom: Scenario = { name: 'hot', rooms: 1, members: 10, rate: 300, seconds: 5 };

describe("sendmessage's route throttle", () => {
  it('is read from the template, one bucket for every room', () => {
    const limits = stackLimits();
    expect(limits.settings.sendRoute).toEqual(limits.routes.sendmessage);
    expect(limits.settings.sendRoute?.rateLimit).toBeGreaterThan(limits.defaultRoute?.rateLimit ?? 0);
    expect(limits.overrides).toEqual([]);
  });

  it('refuses sends past its rate, and the run is not clean', () => {
    const sendRoute = { rateLimit: 100, burstLimit: 100 };
    const throttled = runModel({
      design: 'wake',
      scenario: hotRoom,
      profile: AWS,
      seed: 3,
      settings: { sendRoute },
    });
    // The bucket's burst, then its rate: at most 100 + 100 × 5 of ~1,500 offered.
    expect(throttled.sent).toBeLessThanOrEqual(
      sendRoute.burstLimit + sendRoute.rateLimit * hotRoom.seconds + 1,
    );
    expect(throttled.refusals.routeSends).toBeGreaterThan(800);
    expect(throttled.sent + throttled.refusals.routeSends).toBeGreaterThan(1_300);
    expect(notClean(throttled)).toContain('sends refused by the route');

    // The same load under the template's bucket: nothing refused. Its 10 members send 30 a second each, far past
    // their own send limits (tests/bench/sendLimits.test.ts), which this run turns off to hold the route's alone.
    const shipped = runModel({
      design: 'wake',
      scenario: hotRoom,
      profile: AWS,
      seed: 3,
      settings: stackLimits({ SendRateLimit: '0', PersonSendRateLimit: '0' }).settings,
    });
    expect(shipped.refusals.routeSends).toBe(0);
    // Every one of the ~1,500 offered sent (the seeds' draws part once a send is refused, so the counts are near).
    expect(shipped.sent).toBeGreaterThan(1_300);
    expect(shipped.sent).toBeGreaterThan(2 * throttled.sent);
  });
});

describe('a run that overrides a limit says so', () => {
  it('names the constant, its value and the template value in the output', () => {
    const limits = stackLimits({ SendMessageThrottlingRateLimit: '200' });
    expect(limits.settings.sendRoute?.rateLimit).toBe(200);
    const template = stackLimits().settings.sendRoute?.rateLimit;
    expect(modelHeader(AWS, 1, 10, limits)).toContain(
      `overrides: SendMessageThrottlingRateLimit=200 (shipped ${template})`,
    );
    expect(modelHeader(AWS, 1, 10, stackLimits())).toContain('overrides: none');
  });

  it('prints every route bucket the run applies, and a lifted or lowered throttle by name', () => {
    const shipped = modelHeader(AWS, 1, 10, stackLimits());
    const send = stackLimits().routes.sendmessage;
    const other = stackLimits().routes.markread;
    expect(shipped).toContain(`sendmessage ${send?.rateLimit}/s (burst ${send?.burstLimit})`);
    expect(shipped).toMatch(
      new RegExp(`the other \\d+ routes ${other?.rateLimit}/s \\(burst ${other?.burstLimit}\\) each`),
    );
    expect(shipped).toContain('route throttles overridden by this run: none, as template.yaml deploys them');

    const lifted = stackLimits({ RouteThrottlingRateLimit: '100000', SendMessageThrottlingBurstLimit: '10' });
    expect(lifted.routes.markread?.rateLimit).toBe(100_000);
    const header = modelHeader(AWS, 1, 10, lifted);
    expect(header).toContain(`RouteThrottlingRateLimit=100000 (shipped ${other?.rateLimit}: lifted)`);
    expect(header).toContain(`SendMessageThrottlingBurstLimit=10 (shipped ${send?.burstLimit}: lowered)`);
  });

  it('refuses a name that is no deploy-time constant, the posting budget or a send limit, saying so', () => {
    expect(() => stackLimits({ StrikeLimit: '10000' })).toThrow(
      'the model takes deploy-time constants of Mappings.Deploy.Settings, FanoutPostsPerSecond and the send limits (SendRateLimit, SendRateWindowSeconds, PersonSendRateLimit, PersonRateWindowSeconds) only, not StrikeLimit',
    );
  });
});

describe('the quota that binds first', () => {
  it("names the route throttle when it refuses, the account's requests when the posts are refused", () => {
    const byRoute = runModel({
      design: 'wake',
      scenario: hotRoom,
      profile: AWS,
      seed: 3,
      settings: { sendRoute: { rateLimit: 100, burstLimit: 100 } },
    });
    expect(byRoute.bindsFirst?.name).toBe('sendmessage route throttle');

    // An account of 300 requests/s against a room of 100 at 20 messages/s: its posts are refused, its sends are not.
    const small: AwsProfile = {
      ...AWS,
      quotas: { ...AWS.quotas, apiGatewayRequestsPerSecond: { value: 300, source: 'a test' } },
    };
    const byAccount = runModel({
      design: 'wake',
      scenario: { name: 'posts', rooms: 1, members: 100, rate: 20, seconds: 5 },
      profile: small,
      seed: 3,
      settings: stackLimits().settings,
    });
    expect(byAccount.refusals.apiGatewayPosts).toBeGreaterThan(0);
    expect(byAccount.bindsFirst?.name).toBe('API Gateway requests/s (account)');
    const table = modelTable([byRoute, byAccount]);
    expect(table).toContain('binds first');
    expect(table).toContain(`sendmessage route throttle: ${byRoute.refusals.routeSends} refused`);
    expect(table).toContain('API Gateway requests/s (account): ');
  });

  it("names Pipes' executions at once when a small account holds the pipe back; the messages still come", () => {
    const small: AwsProfile = {
      ...AWS,
      quotas: { ...AWS.quotas, pipesConcurrency: { value: 2, source: 'a test' } },
    };
    const scenario: Scenario = { name: 'rooms', rooms: 40, members: 2, rate: 5, seconds: 3 };
    const held = runModel({ design: 'wake', scenario, profile: small, seed: 3 });
    expect(held.bindsFirst?.name).toBe('Pipes executions at once (account)');
    expect(held.missing).toBe(0);
    const free = runModel({ design: 'wake', scenario, profile: AWS, seed: 3 });
    expect(free.quotas.find((q) => q.name === 'Pipes executions at once (account)')?.refused).toBe(0);
    expect(held.p99Ms).toBeGreaterThan(free.p99Ms);
  });

  it("names the posting budget when a room's posts outrun it, and its override from the command line", () => {
    const limits = stackLimits({ FanoutPostsPerSecond: '500' });
    expect(limits.settings.postsPerSecond).toBe(500);
    expect(modelHeader(AWS, 1, 10, limits)).toContain('FanoutPostsPerSecond=500 (shipped 8000)');
    const scenario: Scenario = { name: 'big', rooms: 1, members: 1000, rate: 20, seconds: 4 };
    const tight = runModel({ design: 'wake', scenario, profile: AWS, seed: 3, settings: limits.settings });
    expect(tight.bindsFirst?.name).toBe('posting budget (FanoutPostsPerSecond)');
    const usual = runModel({
      design: 'wake',
      scenario,
      profile: AWS,
      seed: 3,
      settings: stackLimits().settings,
    });
    expect(usual.quotas.find((q) => q.name === 'posting budget (FanoutPostsPerSecond)')?.refused).toBe(0);
    // Its chunks wait for seconds with room: the messages come, later.
    expect(tight.missing).toBe(0);
    expect(tight.p50Ms).toBeGreaterThan(2 * usual.p50Ms);
  });

  it('with nothing refused, names the quota whose busiest second came nearest its limit', () => {
    const uses = [
      { name: 'a', limit: 10, refused: 0, peakUse: 0.4 },
      { name: 'b', limit: 10, refused: 0, peakUse: 0.9 },
    ];
    expect(describeBinding(bindingQuota(uses))).toBe('b at 90%');
    expect(bindingQuota([...uses, { name: 'c', limit: 10, refused: 2, peakUse: 0.1 }])?.name).toBe('c');
  });
});
