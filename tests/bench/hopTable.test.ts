import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ModelResult, runModel } from '../../tools/bench/awsModel';
import { SCENARIOS } from '../../tools/bench/modelRuns';
import { joinBurst } from '../../tools/bench/presence';
import { fanoutQueueRedrive, messagesBesideLoad, stormDepartures } from '../../tools/bench/presenceScale';
import { stackLimits } from '../../tools/bench/stackLimits';
import { AWS } from '../../tools/local/awsProfile';

/**
 * docs/PERFORMANCE.md's hop-by-hop table ("Every feature, hop by hop") is worked out by hand; the model
 * (tools/bench/awsModel.ts) simulates the same loads event by event, the senders' own send limits off as the table's. Each row's rate and the model's mean rate of that
 * hop agree within 1.5×, so neither drifts from the other unnoticed. Simulated seconds only.
 */

const LOADS: Record<string, string> = {
  'room of 100 at 300': 'room-100-at-300',
  '1,000 rooms × 2 at 2.5': 'rooms-1000-of-2',
};

/** A hop's mean rate a second in a model run, by the table's `hop` column. */
const HOPS: Record<string, (r: ModelResult, seconds: number) => number> = {
  'sendmessage route': (r) => r.sentPerSecond,
  'typing route accepted': (r, s) =>
    ((r.features?.typing.requests ?? 0) - (r.features?.typing.refused ?? 0)) / s,
  'markread route': (r, s) => (r.features?.reads.requests ?? 0) / s,
  PutEvents: (r) => r.rates.putEvents,
  'rule invocations': (r) => r.rates.ruleInvocations,
  'RoomsTable WCU': (r) => r.rates.tableWriteUnits.RoomsTable ?? 0,
  'MessagesTable WCU': (r) => r.rates.tableWriteUnits.MessagesTable ?? 0,
  'WordsTable WCU': (r) => r.rates.tableWriteUnits.WordsTable ?? 0,
  'account requests': (r) => r.rates.accountRequests,
};

/**
 * The presence loads (`--model presence`, tools/bench/presenceScale.ts): the join burst beside 10 msg/s over its 60 s,
 * and a storm's departures in their first second. Each hop's rate a second, by the table's `load` and `hop` columns.
 */
const PRESENCE: Record<string, Record<string, () => number>> = (() => {
  const shipped = stackLimits().settings;
  const burst = () =>
    messagesBesideLoad(joinBurst(), 10, AWS, {
      postsPerSecond: shipped.postsPerSecond as number,
      redrive: fanoutQueueRedrive(),
    });
  const storm = () =>
    stormDepartures(20_000, {
      startsPerSecond: AWS.quotas.stepFunctionsExpressStartsPerSecond.value,
      retries: shipped.ruleRetries as NonNullable<typeof shipped.ruleRetries>,
    });
  return {
    '5,000 joins in 60 s at 10': {
      'sendmessage route': () => burst().messages / 60,
      'fan-out posts': () => burst().posts / 60,
    },
    'reconnect storm of 20,000': { 'departure starts': () => 20_000 - storm().throttled },
  };
})();

/** The table's rows: load, hop and the `/s` column. */
function tableRows(): { load: string; hop: string; perSecond: number }[] {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'PERFORMANCE.md'), 'utf8');
  const section = doc.split('### Every feature, hop by hop')[1] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| load') && !line.startsWith('|---'))
    .map((line) => {
      const cells = line.split('|').map((c) => c.trim());
      return {
        load: cells[1] as string,
        hop: cells[2] as string,
        perSecond: Number(cells[5]?.replace(/,/g, '')),
      };
    });
}

describe("the hop-by-hop table and the model's figures", () => {
  const seconds = 10;
  // The table's loads are the fan-out's: the senders' own limits off, as its text says (as shipped a member sends 1 a
  // second sustained, and a room of 100 at 300 has two sends in three refused: tests/bench/sendLimits.test.ts).
  const settings = stackLimits({ SendRateLimit: '0', PersonSendRateLimit: '0' }).settings;
  const runs = new Map(
    Object.entries(LOADS).map(([load, name]) => [
      load,
      runModel({
        design: 'wake',
        scenario: { ...SCENARIOS[name], seconds } as (typeof SCENARIOS)[string],
        profile: AWS,
        seed: 1,
        settings,
        warmupSeconds: 5,
      }),
    ]),
  );

  it('lists every hop for both loads', () => {
    const rows = tableRows();
    for (const load of Object.keys(LOADS))
      expect(rows.filter((row) => row.load === load).map((row) => row.hop)).toEqual(Object.keys(HOPS));
  });

  it("lists the presence loads' hops, and only the loads it knows", () => {
    const rows = tableRows();
    for (const [load, hops] of Object.entries(PRESENCE))
      expect(rows.filter((row) => row.load === load).map((row) => row.hop)).toEqual(Object.keys(hops));
    const known = [...Object.keys(LOADS), ...Object.keys(PRESENCE)];
    expect(rows.filter((row) => !known.includes(row.load))).toEqual([]);
  });

  it.each(tableRows().map((row) => [row.load, row.hop, row.perSecond] as const))(
    '%s, %s: the model within 1.5× of the table',
    (load, hop, perSecond) => {
      const presence = PRESENCE[load]?.[hop];
      const model = presence
        ? presence()
        : (HOPS[hop] as (r: ModelResult, s: number) => number)(runs.get(load) as ModelResult, seconds);
      expect(perSecond).toBeGreaterThan(0);
      expect(model / perSecond).toBeGreaterThanOrEqual(1 / 1.5);
      expect(model / perSecond).toBeLessThanOrEqual(1.5);
    },
  );
});
