import { type ModelRun, runModel } from '../../tools/bench/awsModel';
import { AWS, type AwsProfile } from '../../tools/local/awsProfile';

/**
 * The model of the fan-out on AWS (tools/bench/awsModel.ts): its quotas refuse what AWS would, a group never has two
 * batches in flight, a seed gives the same run, and a slower hop shows in the latency. Simulated seconds: each run
 * takes well under a real one.
 */

const run = (over: Partial<ModelRun> & Pick<ModelRun, 'design' | 'scenario'>) =>
  runModel({ profile: AWS, seed: 7, drainSeconds: 30, ...over });

describe('the fan-out model on AWS', () => {
  // 40 rooms at 10 messages/s: 400 room events a second, stack-wide.
  const busyStack = { name: 'stack-400', rooms: 40, members: 2, rate: 10, seconds: 3 };

  test("one queue message per room event meets the queue's 300 SendMessage/s; a wake per tick does not", () => {
    const queue = run({ design: 'queue', scenario: busyStack });
    expect(queue.queueSendMessagePerSecond).toBeGreaterThan(AWS.quotas.sqsFifoCallsPerQueue.value);
    expect(queue.refusals.sendMessage).toBeGreaterThan(0);
    // Refused calls are EventBridge's to retry.
    expect(queue.outcomes.eventRetries).toBeGreaterThan(0);

    const wake = run({ design: 'wake', scenario: busyStack });
    expect(wake.refusals.sendMessage).toBe(0);
    expect(wake.groupSendMessagePeak).toBeLessThanOrEqual(11); // one wake per 100 ms tick, a tick's edges
    expect(wake.missing).toBe(0);
    expect(wake.delivered).toBe(wake.sent * busyStack.members);
  });

  test('a message group never has two batches in flight', () => {
    for (const design of ['queue', 'wake'] as const) {
      const inFlight = new Map<number, { receivedAt: number; releasedAt: number }[]>();
      run({
        design,
        scenario: { name: 'groups', rooms: 5, members: 3, rate: 60, seconds: 3 },
        onBatch: (b) => {
          for (const room of b.rooms) inFlight.set(room, [...(inFlight.get(room) ?? []), b]);
        },
      });
      expect(inFlight.size).toBe(5);
      for (const batches of inFlight.values()) {
        const sorted = [...batches].sort((a, b) => a.receivedAt - b.receivedAt);
        expect(sorted.length).toBeGreaterThan(3);
        for (let i = 1; i < sorted.length; i++) {
          const previous = sorted[i - 1] as { releasedAt: number };
          expect((sorted[i] as { receivedAt: number }).receivedAt).toBeGreaterThanOrEqual(
            previous.releasedAt,
          );
        }
      }
    }
  });

  test('a seed gives the same run; another seed another', () => {
    const scenario = { name: 'seeded', rooms: 3, members: 10, rate: 20, seconds: 2 };
    const a = run({ design: 'wake', scenario });
    expect(run({ design: 'wake', scenario })).toEqual(a);
    expect(run({ design: 'wake', scenario, seed: 8 })).not.toEqual(a);
  });

  test('a slower hop makes every message slower', () => {
    const scenario = { name: 'slow-post', rooms: 1, members: 50, rate: 20, seconds: 3 };
    const slowPosts: AwsProfile = {
      ...AWS,
      latency: { ...AWS.latency, managementPost: { ...AWS.latency.managementPost, p50: 200, p99: 400 } },
    };
    for (const design of ['queue', 'wake'] as const) {
      const base = run({ design, scenario });
      const slow = run({ design, scenario, profile: slowPosts });
      // The post's median grew by 180 ms; every member waits at least one post.
      expect(slow.p50Ms - base.p50Ms).toBeGreaterThan(120);
      expect(slow.p99Ms).toBeGreaterThan(base.p99Ms);
    }
  });

  test("past API Gateway's requests a second, posts are refused, reposted, then left to resync notes", () => {
    const tight: AwsProfile = {
      ...AWS,
      quotas: {
        ...AWS.quotas,
        apiGatewayRequestsPerSecond: { ...AWS.quotas.apiGatewayRequestsPerSecond, value: 300 },
      },
    };
    const r = run({
      design: 'wake',
      profile: tight,
      scenario: { name: 'tight', rooms: 1, members: 500, rate: 5, seconds: 3 },
    });
    expect(r.refusals.apiGatewayPosts).toBeGreaterThan(0);
    expect(r.outcomes.reposts).toBeGreaterThan(0);
    expect(r.outcomes.resyncNotes).toBeGreaterThan(0);
    expect(r.missing).toBeGreaterThan(0);
  });

  test("one room's writes past 1,000 a second on its item are refused and its sends answered busy", () => {
    const r = run({
      design: 'wake',
      scenario: { name: 'hot-key', rooms: 1, members: 2, rate: 1500, seconds: 2 },
    });
    expect(r.refusals.dynamodbKey).toBeGreaterThan(0);
    expect(r.outcomes.busySends).toBeGreaterThan(0);
    // At most 1,000 seqs taken a second: the sending's 2 seconds and the one its retries spill into.
    expect(r.sent).toBeLessThanOrEqual(3 * AWS.quotas.dynamodbWcuPerKey.value);
    expect(r.sent).toBeLessThan(1500 * 2);
  });
});
