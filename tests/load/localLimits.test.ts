/**
 * `npm run load` against the local cloud on a busy machine: a run whose only failure is a latency threshold (the
 * scenario's figures for AWS) with every message delivered passes, saying so; a lost message, or the same latency
 * against a deployed stack, still fails.
 */
const { localLimits } = require('../../tools/load/localLimits.js') as {
  localLimits(run: {
    code: number;
    local: boolean;
    delivered: boolean;
    thresholds: Record<string, number>[] | undefined;
    summaries: Record<string, Record<string, number>>;
  }): { localOnly: boolean; over: { name: string; limit: number; measured: number }[] };
};

const thresholds = [{ 'chat.fanout_ms.p99': 3000 }];
const slow = { 'chat.fanout_ms': { p50: 900, p99: 4210 } };
const fast = { 'chat.fanout_ms': { p50: 40, p99: 180 } };

it('passes a local run that was only slow, naming the threshold it went over', () => {
  expect(localLimits({ code: 1, local: true, delivered: true, thresholds, summaries: slow })).toEqual({
    localOnly: true,
    over: [{ name: 'chat.fanout_ms.p99', limit: 3000, measured: 4210 }],
  });
});

it('fails a run that lost a message, a deployed run, and a run that failed on something other than latency', () => {
  const run = { code: 1, local: true, delivered: true, thresholds, summaries: slow };
  expect(localLimits({ ...run, delivered: false }).localOnly).toBe(false);
  expect(localLimits({ ...run, local: false }).localOnly).toBe(false);
  expect(localLimits({ ...run, summaries: fast }).localOnly).toBe(false);
  expect(localLimits({ ...run, thresholds: undefined }).localOnly).toBe(false);
  expect(localLimits({ ...run, code: 0 }).localOnly).toBe(false);
});
