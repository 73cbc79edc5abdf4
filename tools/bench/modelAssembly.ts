/**
 * A run of the model (tools/bench/awsModel.ts) assembled into what a dashboard would show (modelResult.ts): the
 * receipts and their latency, the queue's and groups' calls, the executions, each counter since the warm-up's end,
 * each quota's use and the one that binds first.
 */
import type { ModelResult } from './modelResult';
import type { ModelState, Room } from './modelSetup';
import { bindingQuota } from './quotas';

/** Messages stored and not yet read by the fan-out. */
export const unread = (rooms: readonly Room[]): number =>
  rooms.reduce(
    (n, room) => n + room.messages.filter((m) => m?.storedAt !== undefined && m.readAt === undefined).length,
    0,
  );

export function assembleResult(st: ModelState, backlog: { atSendEnd: number; atEnd: number }): ModelResult {
  const {
    run,
    rooms,
    meters,
    lambdas,
    refusals,
    outcomes,
    wakeCounts,
    tally,
    clock,
    fromSecond,
    measureFrom,
  } = st;
  const { design, scenario } = run;
  const seconds = scenario.seconds;
  const queueRate = meters.queueCalls.rate(seconds, fromSecond);
  let busiest = { mean: 0, peak: 0 };
  for (const g of meters.groupCalls.values()) {
    const r = g.rate(seconds, fromSecond);
    if (r.mean > busiest.mean) busiest = r;
  }
  const owed = rooms.reduce(
    (n, room) =>
      n +
      room.messages.filter((m) => m?.storedAt !== undefined && m.sentAt >= measureFrom).length * room.members,
    0,
  );
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const features = st.features;
  const quotas = meters.uses(fromSecond, lambdas, features?.quotaUses(fromSecond));
  // Counts since the warm-up's end.
  const since = <T extends object>(now: T, then: T | undefined): T =>
    Object.fromEntries(
      Object.entries(now).map(([k, v]) => [k, v - ((then as Record<string, number> | undefined)?.[k] ?? 0)]),
    ) as T;
  Object.assign(refusals, since(refusals, st.warm?.refusals));
  Object.assign(outcomes, since(outcomes, st.warm?.outcomes));
  Object.assign(wakeCounts, since(wakeCounts, st.warm?.wakeCounts));
  outcomes.coldStarts = lambdas.coldStartsSince(fromSecond);
  const bindsFirst = bindingQuota(quotas);
  const { sent, duplicated, executions } = st.counts;
  return {
    design,
    scenario: scenario.name,
    seed: run.seed,
    profile: run.profile.name,
    rooms: scenario.rooms,
    members: scenario.members,
    offeredPerSecond: r1(scenario.rooms * scenario.rate),
    sentPerSecond: r1(sent / seconds),
    sent,
    delivered: tally.delivered,
    missing: Math.max(0, owed - (tally.delivered - duplicated)),
    duplicated,
    p50Ms: tally.latency.percentile(50),
    p99Ms: tally.latency.percentile(99),
    maxMs: tally.latency.max,
    postsPerSecond: r1(tally.postsInWindow / seconds),
    posts: tally.posts,
    queueSendMessagePerSecond: r1(queueRate.mean),
    queueSendMessagePeak: queueRate.peak,
    groupSendMessagePerSecond: r1(busiest.mean),
    groupSendMessagePeak: busiest.peak,
    executions,
    executionP50Ms: st.executionMs.percentile(50),
    executionP99Ms: st.executionMs.percentile(99),
    wakes: wakeCounts,
    refusals,
    routeRefusals: meters.routes.refusedByRoute(fromSecond),
    ...(features && { features: features.counts }),
    outcomes,
    rates: meters.rates(seconds, fromSecond),
    lambdaPeaks: lambdas.peaksByFunction(fromSecond),
    quotas,
    ...(bindsFirst && { bindsFirst }),
    backlogAtSendEnd: backlog.atSendEnd,
    backlogAtEnd: backlog.atEnd,
    simulatedSeconds: r1(clock.now / 1000),
    events: clock.count,
  };
}
