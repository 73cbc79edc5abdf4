// Whether a load run that artillery failed failed only on a latency threshold against the local cloud, with every
// message delivered once. The scenarios' latency thresholds are the figures expected of AWS (docs/LOAD.md), while the
// local cloud runs every function, table and queue in one process on this machine and shares its cores with the
// virtual users: such a run says it met this machine's limits and passes. A lost, missing or repeated message, an
// error or a failed VU fails a run wherever it ran. CommonJS, like tools/load/processor.js.

/**
 * The thresholds (`config.ensure.thresholds` entries such as `{ 'chat.fanout_ms.p99': 3000 }`) that the report's
 * summaries went over: `[{ name, limit, measured }]`.
 */
function latencyOver(thresholds, summaries) {
  const over = [];
  for (const threshold of thresholds ?? [])
    for (const [name, limit] of Object.entries(threshold)) {
      const at = name.lastIndexOf('.');
      const measured = summaries?.[name.slice(0, at)]?.[name.slice(at + 1)];
      if (typeof measured === 'number' && measured > limit) over.push({ name, limit, measured });
    }
  return over;
}

/**
 * `{ localOnly, over }`: `localOnly` when artillery exited non-zero (`code`), the run was against the local cloud
 * (`local`), everything was delivered (`delivered`), and a latency threshold was over (`over` lists them).
 */
function localLimits({ code, local, delivered, thresholds, summaries }) {
  const over = latencyOver(thresholds, summaries);
  return { localOnly: code !== 0 && local && delivered && over.length > 0, over };
}

module.exports = { latencyOver, localLimits };
