import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ModelResult, runModel } from '../../tools/bench/awsModel';
import { SCENARIOS } from '../../tools/bench/modelRuns';
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

  it.each(tableRows().map((row) => [row.load, row.hop, row.perSecond] as const))(
    '%s, %s: the model within 1.5× of the table',
    (load, hop, perSecond) => {
      const model = (HOPS[hop] as (r: ModelResult, s: number) => number)(
        runs.get(load) as ModelResult,
        seconds,
      );
      expect(perSecond).toBeGreaterThan(0);
      expect(model / perSecond).toBeGreaterThanOrEqual(1 / 1.5);
      expect(model / perSecond).toBeLessThanOrEqual(1.5);
    },
  );
});
