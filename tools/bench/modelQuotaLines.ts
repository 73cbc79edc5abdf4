/**
 * The model's lines on the quotas each run draws on beside its rows (`npm run bench -- --aws-profile aws --model ...`):
 * Lambda concurrency, DynamoDB write units by table and Express starts.
 */
import type { ModelResult } from './awsModel';
import { reservationFor } from './lambdaConcurrency';

/**
 * Each run's most executions at once of the messages function and Deliver, and the reservation each would need
 * (lambdaConcurrency.ts reservationFor): the figures MessagesReservedConcurrency and DeliverReservedConcurrency are
 * set from (docs/DECISIONS.md, "Reserved concurrency of Deliver and Messages").
 */
export function concurrencyLines(rows: ModelResult[]): string {
  return rows
    .map((r) => {
      const fns = ['MessagesFunction', 'DeliverFunction'].map((fn) => {
        const peak = r.lambdaPeaks[fn] ?? 0;
        return `${fn} peak ${peak} (reserve ≥ ${reservationFor(peak)})`;
      });
      return `${r.design} ${r.scenario}: ${fns.join(', ')}`;
    })
    .join('\n');
}

/** The quota names the two lines below read from a row's quotas. */
const TABLE_WRITES = 'DynamoDB write units/s per table';
const KEY_WRITES = 'DynamoDB writes/s per key';
export const EXPRESS_STARTS = 'Step Functions Express starts/s';

/**
 * Each run's write units a second by table, busiest first: the mean, of which the send tokens' (each send's
 * connection bucket in Connections and person bucket in Limits: sendLimits.ts), and the busiest second against the
 * table's quota and the busiest key's against a partition's, so the Limits table's share of both is read beside
 * the Words and Rooms tables'.
 */
export function tableWriteLines(rows: ModelResult[]): string {
  return rows
    .map((r) => {
      const tableLimit = r.quotas.find((q) => q.name === TABLE_WRITES)?.limit;
      const keyLimit = r.quotas.find((q) => q.name === KEY_WRITES)?.limit;
      const tables = Object.entries(r.rates.tableWriteUnits)
        .sort(([, a], [, b]) => b - a)
        .map(([table, units]) => {
          const tokens = r.rates.tokenWriteUnits[table];
          const peak = r.rates.tableWritePeaks[table];
          const pct = (x = 0) => `${Math.round(x * 100)}%`;
          return (
            `${table} ${units}${tokens ? ` (send tokens ${tokens})` : ''}: busiest second ${pct(peak?.table)} of ` +
            `${tableLimit}, busiest key ${pct(peak?.key)} of ${keyLimit}`
          );
        });
      return `${r.design} ${r.scenario}: ${tables.join('; ')}`;
    })
    .join('\n');
}

/**
 * Each run's Express executions started a second (mean and busiest second, each throttled call counted) beside
 * Express's StartExecution quota, and by machine: the fan-out's (the pipe's StartSyncExecution), the repost's, the
 * departure's and the broadcast's (their rules' StartExecution: expressStarts.ts). Past the quota the line says `OVER`
 * with the calls past it, then what the callers' retries did: the starts throttled, the retries, the delay they added
 * (mean and longest) and the starts a rule gave up on (dead-lettered: those executions never ran).
 */
export function expressStartLines(rows: ModelResult[]): string {
  return rows
    .map((r) => {
      const use = r.quotas.find((q) => q.name === EXPRESS_STARTS);
      const x = r.rates.expressStarts;
      const by = Object.entries(x.byMachine)
        .map(([machine, n]) => `${machine} ${n}/s`)
        .join(', ');
      const over =
        use && use.refused > 0
          ? `: OVER its quota, ${use.refused} starts past it; ${x.throttled} starts throttled, ${x.retries} retries ` +
            `adding ${x.meanDelayMs} ms (longest ${x.maxDelayMs} ms), ${x.deadLettered} dead-lettered`
          : '';
      return (
        `${r.design} ${r.scenario}: ${x.mean}/s (busiest second ${x.peak}) of ${use?.limit}/s, ` +
        `${Math.round((use?.peakUse ?? 0) * 100)}% (${by})${over}`
      );
    })
    .join('\n');
}
