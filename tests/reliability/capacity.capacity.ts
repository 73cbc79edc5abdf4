import { type BurstResult, runBurst } from './burst';
import { recordFigures } from './world';

/**
 * Capacity of the local cloud: the highest sustained load (messages/s to CAPACITY_MEMBERS members) at which every
 * send is acked and every message reaches every member with send-to-receive p99 <= 1 s, found by doubling (or
 * halving) the rate from CAPACITY_START until one probe holds and one misses, then bisecting the gap to half a
 * message per second. Each probe is a fresh cloud (after a warm-up) sending for CAPACITY_SECONDS.
 * `npm run capacity`; the figure goes to docs/MEASUREMENTS.md and sets OVERLOAD_CAPACITY of `npm run test:overload`.
 */
const MEMBERS = Number(process.env.CAPACITY_MEMBERS ?? 100);
const SECONDS = Number(process.env.CAPACITY_SECONDS ?? 15);
const START = Number(process.env.CAPACITY_START ?? 2);
const MAX_PROBES = Number(process.env.CAPACITY_PROBES ?? 7);
const P99_LIMIT_MS = 1000;

jest.setTimeout(MAX_PROBES * (SECONDS + 120) * 1000);

const progress = (line: string) =>
  process.stdout.write(`[capacity] ${new Date().toISOString().slice(11, 19)} ${line}\n`);

const holds = (r: BurstResult) =>
  r.unacked === 0 &&
  r.lost === 0 &&
  r.duplicated === 0 &&
  r.failedExecutions === 0 &&
  r.receiveP99Ms <= P99_LIMIT_MS;

test(`the highest rate to ${MEMBERS} members with send-to-receive p99 <= ${P99_LIMIT_MS} ms`, async () => {
  const probes: BurstResult[] = [];
  const probe = async (rate: number) => {
    const r = await runBurst({ members: MEMBERS, rate, seconds: SECONDS, progress });
    probes.push(r);
    progress(
      `${rate} messages/s x ${MEMBERS}: ${holds(r) ? 'holds' : 'misses'} (receive p50 ${r.receiveP50Ms} p99 ${r.receiveP99Ms} ms, ack p99 ${r.ackP99Ms} ms, unacked ${r.unacked})`,
    );
    return holds(r);
  };
  let good = 0;
  let bad = Number.POSITIVE_INFINITY;
  let rate = START;
  const halfStep = (r: number) => Math.round(r * 2) / 2;
  while (probes.length < MAX_PROBES) {
    if (await probe(rate)) good = rate;
    else bad = rate;
    const next = !Number.isFinite(bad) ? rate * 2 : good === 0 ? rate / 2 : halfStep((good + bad) / 2);
    if (next < 0.25 || (good > 0 && (next <= good || next >= bad))) break;
    rate = next;
  }
  const best = probes.find((p) => p.rate === good);
  recordFigures(`capacity (${MEMBERS} members, ${SECONDS} s per probe)`, {
    capacityRate: good,
    capacityDeliveriesPerSecond: good * MEMBERS,
    firstMiss: Number.isFinite(bad) ? bad : undefined,
    probes: probes.map((p) => ({
      rate: p.rate,
      holds: holds(p),
      receiveP50Ms: p.receiveP50Ms,
      receiveP99Ms: p.receiveP99Ms,
      ackP50Ms: p.ackP50Ms,
      ackP99Ms: p.ackP99Ms,
      unacked: p.unacked,
    })),
  });
  expect(best).toBeDefined();
  expect(best?.receiveP99Ms).toBeLessThanOrEqual(P99_LIMIT_MS);
});
