/**
 * `--search-index`: the send's ack with search's index written and without it, in one run. Two local clouds run side by
 * side, one with SearchIndexing=on (the fan-out indexes each message after its posts) and one with it off; a room of
 * --room members in each sends --rate messages a second of a typical 12-word text, the two legs taking turns for
 * ROUNDS rounds of ROUND_SECONDS each, so both meet the machine's same moments. Each send is timed from its
 * `sendmessage` to its ack; a leg's p50 over all its rounds, and on/off, are the figures (docs/MEASUREMENTS.md).
 */
import { type Members, now, sleep } from './members';
import { percentile, round } from './stats';

/** Rounds of each leg, taken in turns (on, off, on, off, ...). */
const ROUNDS = 6;
const ROUND_SECONDS = 5;

import { TYPICAL_TEXT } from './typicalText';

export interface Leg {
  name: 'on' | 'off';
  members: Members;
}

export interface LegResult {
  searchIndexing: 'on' | 'off';
  sent: number;
  acked: number;
  failed: number;
  p50AckMs: number;
  p99AckMs: number;
}

/** One round of a leg: `rate` sends a second for ROUND_SECONDS, pipelined, each timed to its ack. */
async function runRound(
  leg: Leg,
  rate: number,
  latencies: number[],
  tally: { sent: number; failed: number },
) {
  const count = Math.round(rate * ROUND_SECONDS);
  const sends: Promise<void>[] = [];
  const started = now();
  for (let i = 0; i < count; i++) {
    const wait = started + (i * 1000) / rate - now();
    if (wait > 0) await sleep(wait);
    const t0 = now();
    tally.sent++;
    sends.push(
      leg.members.send(leg.members.sent++ % leg.members.size, `${TYPICAL_TEXT} ${i}`).then(
        () => {
          latencies.push(now() - t0);
        },
        () => {
          tally.failed++;
        },
      ),
    );
  }
  await Promise.all(sends);
}

/** Runs the legs in turns and reports each one's ack p50 and p99, and off ÷ on of the p50s. */
export async function runSearchIndexLegs(legs: Leg[], rate: number, log: (line: string) => void) {
  const latencies = new Map(legs.map((leg) => [leg.name, [] as number[]]));
  const tallies = new Map(legs.map((leg) => [leg.name, { sent: 0, failed: 0 }] as const));
  for (let r = 0; r < ROUNDS; r++) {
    for (const leg of r % 2 === 0 ? legs : [...legs].reverse()) {
      await runRound(
        leg,
        rate,
        latencies.get(leg.name) as number[],
        tallies.get(leg.name) as { sent: number; failed: number },
      );
      log(
        `round ${r + 1}/${ROUNDS}, SearchIndexing=${leg.name}: ${latencies.get(leg.name)?.length} acked so far`,
      );
      await sleep(1000); // the round's fan-outs (and index writes) drain before the other leg's
    }
  }
  const results: LegResult[] = legs.map((leg) => {
    const sorted = latencies.get(leg.name) as number[];
    const tally = tallies.get(leg.name) as { sent: number; failed: number };
    return {
      searchIndexing: leg.name,
      sent: tally.sent,
      acked: sorted.length,
      failed: tally.failed,
      p50AckMs: round(percentile(sorted, 50)),
      p99AckMs: round(percentile(sorted, 99)),
    };
  });
  const on = results.find((r) => r.searchIndexing === 'on');
  const off = results.find((r) => r.searchIndexing === 'off');
  return {
    scenario: 'search-index',
    rate,
    rounds: ROUNDS,
    roundSeconds: ROUND_SECONDS,
    text: TYPICAL_TEXT,
    legs: results,
    // The ack's p50 with the index written, over its p50 without: 1 when the ack never waits on the index.
    p50OnOverOff: on && off ? Math.round((on.p50AckMs / off.p50AckMs) * 100) / 100 : Number.NaN,
  };
}
