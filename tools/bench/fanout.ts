/**
 * `npm run bench`: the fan-out benchmark against the local cloud.
 *
 * For each injected management-API latency and each room size it starts a fresh local cloud in a CHILD process
 * (tools/bench/childCloud.ts: `node dist/local/cli.js --ready-json ...`, so the cloud's memory is measured alone from
 * /proc/<pid>/status), connects N real WebSocket members from this process, puts them in one room
 * (createroom + joinroom), then sends K messages one after another and times each from the send to the LAST
 * member's receipt. In the same cloud it then runs the baselines:
 *   (a) the tutorial design (tools/bench/tutorial: Scan + sequential PostToConnection), run in this process
 *       against the cloud's DynamoDB and management API, timed the same way;
 *   (b) the floor: the raw localhost POST rate against the gateway's management endpoint (keep-alive, 64 in flight,
 *       to the members' real connection ids) and a raw `ws` broadcast to N sockets from one process.
 *
 * `--hot-room` runs the hot-room scenario instead (tools/bench/hotRoom.ts): posts per message and delivery latency of
 * a room whose members send several messages a second, against the same room quiet.
 *
 * Modules: options.ts (the command line), childCloud.ts (the cloud child and its ready line), members.ts (the
 * clients), phases.ts (fan-out, tutorial, floors), hotRoom.ts (the hot room), table.ts (the human table); this
 * file runs rooms and prints.
 *
 * Load goes only to 127.0.0.1 and every phase is bounded in count and time.
 */
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_TYPING_HEARTBEAT_MS } from '../../client/typing';
import { deployConstants, partitionOverrides } from '../infra/parameters';
import { loadTemplate, readTemplateFile } from '../infra/template';
import { profileNamed } from '../local/awsProfile';
import { type Design, type ModelResult, runModel, type Scenario } from './awsModel';
import { runCeiling } from './ceiling';
import { memoryOf, startChildCloud } from './childCloud';
import { runHotRoom } from './hotRoom';
import { Members, now, pool } from './members';
import { concurrencyLines, expressStartLines, tableWriteLines } from './modelQuotaLines';
import {
  ceilingNote,
  ceilingSettings,
  compareWithTwin,
  deployedDesign,
  fanoutLoadLine,
  featureTable,
  loadSettings,
  modelHeader,
  modelTable,
  ownLoadTable,
  SCENARIOS,
  searchCeiling,
  templateSettings,
  withinTwice,
} from './modelRuns';
import { cloudArgs, JOIN_ROOM_UP_TO, type Options, parseOptions } from './options';
import { rawPostRate, rawWsBroadcast, runFanout, runTutorial, scanConnectionIds } from './phases';
import { profileInRegion } from './regions';
import { type Leg, runSearchIndexLegs } from './searchIndex';
import { stackLimits } from './stackLimits';
import { percentile, ratePerSec, round, speedup, summarize } from './stats';
import { type RoomResult, table } from './table';

const ROOT = resolve(__dirname, '..', '..');
const TEMPLATE = join(ROOT, 'template.yaml');

async function runRoom(opts: Options, apiLatencyMs: number, n: number, parameters: Record<string, string>) {
  const given = partitionOverrides(readTemplateFile(TEMPLATE).raw, parameters);
  const template = loadTemplate(TEMPLATE, { parameters: given.parameters, constants: given.constants });
  const table = template.tables().find((t) => t.logicalId === 'ConnectionsTable')?.TableName as string;
  const chunkSize = Number(deployConstants(template.raw).FanoutChunkSize);
  const maxConcurrency = Number(deployConstants(template.raw).FanoutMaxConcurrency);
  const log = (msg: string) => {
    if (!opts.json) process.stderr.write(`  [${apiLatencyMs} ms, room ${n}] ${msg}\n`);
  };

  const cloud = await startCloud(opts, apiLatencyMs, parameters);
  const deliverCpuUs = async () => (await cloud.lambdaCpuUs()).DeliverFunction ?? Number.NaN;
  const members = new Members();
  try {
    let t = now();
    await members.connect(cloud.wsUrl, n, 'bench');
    await members.settle(300, 5_000);
    const idle = memoryOf(cloud.pid);
    log(`${n} connected in ${(now() - t).toFixed(0)} ms; cloud RSS ${idle.rssMb.toFixed(0)} MB`);

    t = now();
    const via = await fillRoom(opts, members, log);
    const joinMs = via === 'room' ? now() - t : 0;

    // Warm-up: the first message starts the SendMessage sandbox (a cold start); it is not measured.
    await runFanout(members, 1, opts.gapMs, 60_000);
    const cpuBefore = await deliverCpuUs();
    const fan = await runFanout(members, opts.messages, opts.gapMs, 60_000);
    const deliverCpuUsPerPost = ((await deliverCpuUs()) - cpuBefore) / (n * opts.messages);
    const s = summarize(fan.latencies);
    log(
      `fan-out p50 ${s.p50.toFixed(1)} ms, max ${s.max.toFixed(1)} ms; Deliver ${deliverCpuUsPerPost.toFixed(0)} µs CPU/post`,
    );

    let tutorial: number[] = [];
    if (opts.tutorial) {
      // Expected duration of one tutorial fan-out: N sequential round trips.
      const expected = n * (apiLatencyMs + 0.5);
      tutorial = await runTutorial(members, cloud, table, opts.tutorialBudgetMs, expected, opts.messages);
      log(`tutorial p50 ${percentile(tutorial, 50).toFixed(1)} ms over ${tutorial.length} messages`);
    }

    let rawPost = Number.NaN;
    if (apiLatencyMs === 0 && !opts.sweep) {
      const ids = await scanConnectionIds(cloud.dynamoEndpoint, table);
      rawPost = (await rawPostRate(cloud.callbackUrl, ids, Math.max(20_000, 10 * n), 4_000)).rate;
      log(`raw POST rate ${rawPost.toFixed(0)}/s`);
      await members.settle(300, 10_000);
    }
    const peak = memoryOf(cloud.pid);
    const tutorialP50 = percentile(tutorial, 50);
    const deliveries = ratePerSec(
      n * s.count,
      fan.latencies.reduce((a, b) => a + b, 0),
    );
    const result: RoomResult = {
      apiLatencyMs,
      roomSize: n,
      messages: s.count,
      chunkSize,
      maxConcurrency,
      via,
      joinMs: round(joinMs),
      p50Ms: round(s.p50),
      p95Ms: round(s.p95),
      p99Ms: round(s.p99),
      maxMs: round(s.max),
      deliveriesPerSec: round(deliveries),
      missing: fan.missing,
      duplicated: fan.duplicated,
      tutorialMessages: tutorial.length,
      tutorialP50Ms: round(tutorialP50),
      speedupVsTutorial: round(speedup(tutorialP50, s.p50)),
      rawPostRate: round(rawPost),
      throughputVsRawPost: Math.round((deliveries / rawPost) * 100) / 100,
      rawWsP50Ms: Number.NaN,
      deliverCpuUsPerPost: round(deliverCpuUsPerPost),
      idleRssMb: round(idle.rssMb),
      rssMb: round(Math.max(peak.hwmMb, cloud.peakSampledMb())),
      loadAvg1m: round(loadavg()[0] ?? NaN),
    };
    return result;
  } finally {
    await cloud.stop();
    await members.close();
  }
}

/** Puts the members in one room (`room`), or leaves them in the fresh cloud's lobby (`lobby`); returns which. */
async function fillRoom(
  opts: Options,
  members: Members,
  log: (msg: string) => void,
): Promise<'room' | 'lobby'> {
  const n = members.size;
  const via = opts.join === 'auto' ? (n <= JOIN_ROOM_UP_TO ? 'room' : 'lobby') : opts.join;
  if (via === 'lobby') return via;
  const t = now();
  // One room: the first member creates it, the others join (each join fans a presence frame out to the room).
  const { roomId, inviteKey } = await members.createRoom(0);
  // The invite key, as a shared link carries it: joins by code alone are limited per source (docs/SECURITY.md).
  await pool(
    Array.from({ length: n - 1 }, (_, i) => i + 1),
    16,
    async (i) => {
      await members.join(i, roomId, inviteKey);
    },
  );
  await members.settle(500, 600_000);
  log(`room ${roomId} joined and presence drained in ${(now() - t).toFixed(0)} ms`);
  return via;
}

/**
 * `--hot-room`: one room whose members send `--rate` messages a second between them (tools/bench/hotRoom.ts), after
 * the same room quiet (one message at a time): posts per message, delivery latency p50/p99 from each send to each
 * member's receipt, and what the busy room adds to the quiet one's latency.
 */
async function runHotRoomBench(opts: Options, apiLatencyMs: number, n: number) {
  const log = (msg: string) => {
    if (!opts.json) process.stderr.write(`  [hot room ${n}, ${opts.rate}/s, ${apiLatencyMs} ms] ${msg}\n`);
  };
  const cloud = await startCloud(opts, apiLatencyMs, opts.parameters);
  const members = new Members();
  try {
    await members.connect(cloud.wsUrl, n, 'hot');
    await members.settle(300, 5_000);
    const via = await fillRoom(opts, members, log);
    // Warm-up: the first message meets SendMessage's and Deliver's cold starts; more warm their code paths.
    await runFanout(members, opts.warmup, opts.gapMs, 60_000);
    const result = await runHotRoom(members, {
      rate: opts.rate,
      messages: opts.messages,
      quietMessages: opts.quiet,
      gapMs: Math.max(opts.gapMs, 200),
      drainMs: 120_000,
    });
    log(
      `posts/message ${result.hot.postsPerMessage} hot, ${result.quiet.postsPerMessage} quiet; p50 ${result.hot.p50Ms} ms hot, ${result.quiet.p50Ms} ms quiet`,
    );
    return {
      scenario: 'hot-room',
      apiLatencyMs,
      roomSize: n,
      via,
      rate: opts.rate,
      ...result,
      rssMb: round(Math.max(memoryOf(cloud.pid).hwmMb, cloud.peakSampledMb())),
      loadAvg1m: round(loadavg()[0] ?? Number.NaN),
    };
  } finally {
    await cloud.stop();
    await members.close();
  }
}

/** The send rates of the ceiling's steps, and the seconds each lasts. */
const CEILING_RATES = [5, 10, 20, 40, 60, 80, 100, 150, 200, 300];
const CEILING_STEP_SECONDS = 3;
/**
 * `--ceiling`: the messages/s one room's sends sustain without BUSY (tools/bench/ceiling.ts). The per-connection send
 * and frame limits are lifted for the run, so that only the room's own send path limits the rate; the stage's route
 * throttles are the template's (sendmessage's is above CEILING_RATES). startCloud names every lifted setting.
 */
async function runCeilingBench(opts: Options, apiLatencyMs: number, n: number) {
  const log = (msg: string) => {
    if (!opts.json) process.stderr.write(`  [ceiling, room ${n}, ${apiLatencyMs} ms] ${msg}\n`);
  };
  const parameters = { SendRateLimit: '10000', FrameRateLimit: '100000', ...opts.parameters };
  const cloud = await startCloud(opts, apiLatencyMs, parameters);
  const members = new Members();
  try {
    await members.connect(cloud.wsUrl, n, 'ceiling');
    await members.settle(300, 5_000);
    const via = await fillRoom({ ...opts, join: 'room' }, members, log);
    await runFanout(members, opts.warmup, opts.gapMs, 60_000);
    const result = await runCeiling(members, CEILING_RATES, CEILING_STEP_SECONDS, log);
    return {
      scenario: 'room-ceiling',
      apiLatencyMs,
      roomSize: n,
      overrides: parameters,
      via,
      ...result,
      loadAvg1m: round(loadavg()[0] ?? Number.NaN),
    };
  } finally {
    await cloud.stop();
    await members.close();
  }
}

/**
 * `--search-index`: the ack with search's index written and without it, in one run (tools/bench/searchIndex.ts): two
 * clouds, SearchIndexing on and off, each with a room of --room members, the legs taking turns.
 */
async function runSearchIndexBench(opts: Options, apiLatencyMs: number, n: number) {
  const log = (msg: string) => {
    if (!opts.json) process.stderr.write(`  [search index, room ${n}, ${opts.rate}/s] ${msg}\n`);
  };
  const parameters = { SendRateLimit: '10000', FrameRateLimit: '100000', ...opts.parameters };
  const started: { cloud: Awaited<ReturnType<typeof startCloud>>; leg: Leg }[] = [];
  try {
    for (const name of ['on', 'off'] as const) {
      const cloud = await startCloud(opts, apiLatencyMs, { ...parameters, SearchIndexing: name });
      const leg = { name, members: new Members() };
      started.push({ cloud, leg });
      await leg.members.connect(cloud.wsUrl, n, `index-${name}`);
      await leg.members.settle(300, 5_000);
      await fillRoom({ ...opts, join: 'room' }, leg.members, log);
      await runFanout(leg.members, opts.warmup, opts.gapMs, 60_000);
    }
    const result = await runSearchIndexLegs(
      started.map((s) => s.leg),
      opts.rate,
      log,
    );
    return { ...result, apiLatencyMs, roomSize: n, loadAvg1m: round(loadavg()[0] ?? Number.NaN) };
  } finally {
    for (const { cloud, leg } of started) {
      await cloud.stop();
      await leg.members.close();
    }
  }
}

/**
 * The cloud child of one room; function errors (log level ERROR) are worth seeing on stderr. Under `--aws-profile`
 * the cloud draws each call's latency from the profile, so the injected management-API latency is passed only when
 * asked for.
 */
function startCloud(opts: Options, apiLatencyMs: number, parameters: Record<string, string>) {
  // Every setting the run changes from the template's, named, so a figure is never read as the stack's as shipped.
  const changed = Object.entries(parameters).map(([k, v]) => `${k}=${v}`);
  process.stderr.write(`[cloud] overrides: ${changed.join(', ') || 'none'}\n`);
  return startChildCloud({
    // A machine busy with other work can take tens of seconds to start the cloud's threads.
    readyTimeoutMs: 120_000,
    nodeArgs: opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`] : [],
    args: cloudArgs({
      apiLatencyMs: opts.awsProfile === undefined || opts.apiLatencyGiven ? apiLatencyMs : undefined,
      awsProfile: opts.awsProfile,
      parameters,
      templateParameters: new Set(
        Object.keys(readTemplateFile(TEMPLATE).raw.Parameters as Record<string, unknown>),
      ),
    }),
    onLine: (line) => {
      if (/ERROR/.test(line)) process.stderr.write(`[cloud] ${line}\n`);
    },
  });
}

/** `--idle N`: the memory of one cloud holding N idle connections (API Gateway keeps idle ones for 10 min). */
async function runIdle(opts: Options, n: number) {
  const cloud = await startCloud(opts, 0, opts.parameters);
  const members = new Members();
  try {
    const empty = memoryOf(cloud.pid);
    const t = now();
    await members.connect(cloud.wsUrl, n, 'idle');
    const connectMs = now() - t;
    await members.settle(1_000, 10_000);
    const idle = memoryOf(cloud.pid);
    return {
      idleConnections: members.size,
      connectMs: round(connectMs),
      emptyRssMb: round(empty.rssMb),
      idleRssMb: round(idle.rssMb),
      peakRssMb: round(Math.max(idle.hwmMb, cloud.peakSampledMb())),
      loadAvg1m: round(loadavg()[0] ?? Number.NaN),
    };
  } finally {
    await cloud.stop();
    await members.close();
  }
}

// ------------------------------------------------------------------------------------------------ the model

/** `--model SCENARIO`: the model's loads and ceiling for each design asked, as a table or JSON lines. */
function runModelBench(opts: Options) {
  const profile = profileInRegion(profileNamed(opts.awsProfile ?? 'aws'), opts.region);
  // The stack's limits as deployed, with any deploy-time constant the command line changes, named in the output.
  const limits = stackLimits(opts.parameters);
  const settings = limits.settings;
  const choice = opts.model as string;
  // A load of its own (presence.ts, ownerActions.ts): no message load, no --design.
  const own = ownLoadTable(choice, profile, settings, opts.seed);
  if (own) {
    if (opts.json)
      for (const r of own.rows) process.stdout.write(`${JSON.stringify({ scenario: choice, ...r })}\n`);
    else process.stdout.write(`model of ${choice} on AWS: profile ${profile.name}\n${own.text}\n`);
    return;
  }
  const loads: Scenario[] =
    choice === 'all'
      ? ['room-100-at-100', 'room-100-at-300', 'rooms-1000-of-2', 'room-1000-at-50'].map(
          (n) => SCENARIOS[n] as Scenario,
        )
      : choice === 'custom'
        ? [
            {
              name: `rooms-${opts.modelRooms}-of-${opts.room ?? 100}-at-${opts.rate}`,
              rooms: opts.modelRooms,
              members: opts.room ?? 100,
              rate: opts.rate,
              seconds: opts.seconds,
            },
          ]
        : choice === 'ceiling'
          ? []
          : [SCENARIOS[choice] as Scenario];
  const timed = loads.map((l) => (l.messages === undefined ? { ...l, seconds: opts.seconds } : l));
  // `--typing-thinned`: a client sending one heartbeat per typist per interval, named so, never read as the shipped one.
  const traffic = opts.typingThinned ? { typingThinnedMs: DEFAULT_TYPING_HEARTBEAT_MS } : undefined;
  const typing = traffic
    ? `typing: one heartbeat per typist per ${DEFAULT_TYPING_HEARTBEAT_MS / 1000} s (--typing-thinned: not the shipped client)`
    : `typing: a frame per message after its ack, heartbeats every ${DEFAULT_TYPING_HEARTBEAT_MS / 1000} s past it (client/typing.ts as shipped)`;
  const header = `${modelHeader(profile, opts.seed, opts.seconds, limits, opts.warmSeconds)}\n${fanoutLoadLine(timed, limits)}\n${typing}`;
  if (opts.json) process.stderr.write(`${header}\n`);
  else process.stdout.write(`${header}\n`);
  const rows: ModelResult[] = [];
  for (const scenario of timed) {
    // A fan-out load's senders run unlimited (loadSettings); its JSON row says so.
    const loadSet = loadSettings(scenario, limits);
    const sendersLifted = loadSet.sendLimits === undefined && settings.sendLimits !== undefined;
    for (const design of opts.designs) {
      const r = runModel({
        design,
        scenario,
        profile,
        seed: opts.seed,
        settings: loadSet,
        warmupSeconds: opts.warmSeconds,
        newTables: opts.newTables,
        ...(traffic && { traffic }),
      });
      rows.push(r);
      if (opts.json)
        process.stdout.write(`${JSON.stringify({ ...r, overrides: limits.overrides, sendersLifted })}\n`);
    }
  }
  if (!opts.json && rows.length > 0)
    process.stdout.write(
      `${modelTable(rows)}\n\nthe traffic beside the messages (tools/bench/featureTraffic.ts, extraTraffic.ts):\n` +
        `${featureTable(rows, opts.seconds)}\n\nLambda executions at once (tools/bench/lambdaConcurrency.ts):\n` +
        `${concurrencyLines(rows)}\n\nDynamoDB write units by table (mean a second; busiest second and busiest key against their quotas):\n` +
        `${tableWriteLines(rows)}\n\nStep Functions Express executions started (the fan-out's StartSyncExecution; the repost, departure and broadcast machines' StartExecution):\n` +
        `${expressStartLines(rows)}\n`,
    );
  if (choice === 'ceiling' || choice === 'all') {
    for (const design of opts.designs) {
      const c = searchCeiling(
        design,
        opts.room ?? 100,
        profile,
        opts.seed,
        ceilingSettings(settings),
        opts.seconds,
        opts.warmSeconds,
      );
      const note = ceilingNote(settings, c.members);
      if (opts.json) process.stdout.write(`${JSON.stringify({ scenario: 'ceiling', ...c, note })}\n`);
      else
        process.stdout.write(
          `\nceiling, ${design}, one room of ${c.members}: ${c.ceilingPerSecond} messages/s ` +
            `(p99 ≤ 1 s, backlog within a second's sends, nothing refused or lost; ${note})\n` +
            c.steps
              .map(
                (s) =>
                  `  ${s.rate}/s: ${s.clean ? 'clean' : 'not clean'}, p99 ${s.p99Ms} ms, backlog ${s.backlogAtSendEnd}` +
                  (s.why ? ` (${s.why})` : ''),
              )
              .join('\n') +
            '\n',
        );
    }
  }
}

/**
 * `--check`: the twin's hot room (20 members, 10 messages/s, 100 messages) under the AWS profile, then the model of
 * the same load in the design the template deploys, p50 and p99 side by side.
 */
async function runCheck(opts: Options) {
  const profile = profileNamed(opts.awsProfile ?? 'aws');
  const load = SCENARIOS.twin as Scenario;
  const design = opts.designs.length === 1 ? (opts.designs[0] as Design) : deployedDesign();
  // The model warmed as the twin's hot room is (its warm-up message absorbs the cold starts).
  const model = runModel({
    design,
    scenario: load,
    profile,
    seed: opts.seed,
    settings: templateSettings(),
    warmupSeconds: opts.warmSeconds,
  });
  let twin: Awaited<ReturnType<typeof runHotRoomBench>>;
  try {
    twin = await runHotRoomBench(
      { ...opts, rate: load.rate, messages: load.messages ?? 100, join: 'room' },
      0,
      load.members,
    );
  } catch (error) {
    // A set-up problem, told in a sentence (main prints no stack for it).
    throw Object.assign(
      new Error(
        `the twin did not run under --aws-profile ${profile.name} (does dist/local/cli.js take --aws-profile?): ${(error as Error).message}`,
      ),
      { code: 'BENCH_SETUP' },
    );
  }
  const rows = compareWithTwin(twin.hot, model);
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ scenario: 'check', design, profile: profile.name, rows, twin, model })}\n`,
    );
    return;
  }
  process.stdout.write(
    `twin vs model: one room of ${load.members} at ${load.rate} messages/s, ${load.messages} messages, profile ${profile.name}, ` +
      `design ${design}; the twin sent ${twin.hot.sentPerSecond}/s\n` +
      `         twin ms   model ms   model/twin\n` +
      rows
        .map(
          (r) =>
            `  ${r.what.padEnd(5)} ${String(r.twinMs).padStart(8)} ${String(r.modelMs).padStart(10)} ${String(r.ratio).padStart(12)}`,
        )
        .join('\n') +
      `\n${withinTwice(rows) ? 'within 2×' : 'NOT within 2×'}\n`,
  );
}

// ------------------------------------------------------------------------------------------------ main

// The bench runs on Node 20 like the local cloud; the SDK's notice about its future Node 22 minimum is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main() {
  let opts: Options | undefined;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (error) {
    // A value the options refuse is a usage mistake like an unknown option: one sentence, no stack.
    const code = (error as { code?: string }).code;
    throw Object.assign(error as Error, { code: code ?? 'ERR_PARSE_ARGS_BENCH' });
  }
  if (!opts) return;
  if (opts.model) {
    runModelBench(opts);
    return;
  }
  if (opts.check) {
    await runCheck(opts);
    return;
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  if (!opts.json) {
    process.stderr.write(
      `roomcast fan-out bench: node ${process.version}, ${cpus().length} × ${cpu}; rooms ${opts.rooms.join(', ')}; ` +
        `latency ${opts.latencies.join(', ')} ms; ${opts.messages} messages per room\n`,
    );
  }
  const started = now();
  if (opts.idle !== undefined) {
    const idle = await runIdle(opts, opts.idle);
    process.stdout.write(opts.json ? `${JSON.stringify(idle)}\n` : `${JSON.stringify(idle, null, 2)}\n`);
    return;
  }
  if (opts.ceiling) {
    for (const lat of opts.latencies)
      for (const n of opts.rooms)
        process.stdout.write(
          `${JSON.stringify(await runCeilingBench(opts, lat, n), null, opts.json ? undefined : 2)}\n`,
        );
    return;
  }
  if (opts.searchIndex) {
    for (const lat of opts.latencies)
      for (const n of opts.rooms)
        process.stdout.write(
          `${JSON.stringify(await runSearchIndexBench(opts, lat, n), null, opts.json ? undefined : 2)}\n`,
        );
    return;
  }
  if (opts.hotRoom) {
    for (const lat of opts.latencies) {
      for (const n of opts.rooms) {
        const r = await runHotRoomBench(opts, lat, n);
        process.stdout.write(`${JSON.stringify(r, null, opts.json ? undefined : 2)}\n`);
      }
    }
    return;
  }
  const rows: RoomResult[] = [];
  const emit = (r: RoomResult) => {
    rows.push(r);
    if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  };

  if (opts.sweep) {
    const chunks = [50, 100, 250];
    const concs = [10, 20, 40];
    for (const lat of opts.latencies) {
      for (const n of opts.rooms) {
        for (const chunk of chunks) {
          for (const conc of concs) {
            const params = {
              ...opts.parameters,
              FanoutChunkSize: String(chunk),
              FanoutMaxConcurrency: String(conc),
            };
            emit(await runRoom(opts, lat, n, params));
          }
        }
      }
    }
    if (!opts.json) {
      process.stdout.write(`${table(rows)}\n`);
      const best = [...rows].sort((a, b) => a.p50Ms - b.p50Ms)[0];
      if (best) {
        process.stdout.write(
          `\nbest p50: FanoutChunkSize=${best.chunkSize} FanoutMaxConcurrency=${best.maxConcurrency} ` +
            `(${best.p50Ms} ms p50, ${best.p99Ms} ms p99 at ${best.apiLatencyMs} ms latency, room ${best.roomSize})\n`,
        );
      }
    } else {
      const best = [...rows].sort((a, b) => a.p50Ms - b.p50Ms)[0];
      process.stdout.write(`${JSON.stringify({ best })}\n`);
    }
    return;
  }

  for (const lat of opts.latencies) {
    for (const n of opts.rooms) {
      let r: RoomResult;
      try {
        r = await runRoom(opts, lat, n, opts.parameters);
      } catch (error) {
        // One failed room (e.g. the cloud child died) should not throw away the others' figures.
        process.stderr.write(`room ${n} at ${lat} ms failed: ${(error as Error).message}\n`);
        continue;
      }
      if (lat === opts.latencies[0]) {
        // The floor does not depend on the cloud; measure it once per room size.
        const raw = await rawWsBroadcast(n, Math.min(opts.messages, 10), opts.gapMs);
        r.rawWsP50Ms = round(percentile(raw, 50));
      } else {
        r.rawWsP50Ms = rows.find((x) => x.roomSize === n)?.rawWsP50Ms ?? Number.NaN;
        if (!Number.isFinite(r.rawPostRate)) {
          const base = rows.find((x) => x.roomSize === n && Number.isFinite(x.rawPostRate));
          // The raw POST rate is a machine figure measured at 0 ms; no target compares against it at 20 ms.
          r.rawPostRate = base?.rawPostRate ?? Number.NaN;
          r.throughputVsRawPost = Math.round((r.deliveriesPerSec / r.rawPostRate) * 100) / 100;
        }
      }
      emit(r);
    }
  }
  if (!opts.json) {
    process.stdout.write(`${table(rows)}\n`);
    process.stderr.write(`\ndone in ${((now() - started) / 1000).toFixed(0)} s\n`);
  }
}

main().catch((error: Error & { code?: string }) => {
  // A usage mistake is one sentence; anything else keeps its stack, which is what a bench failure needs.
  const usage = error.code?.startsWith('ERR_PARSE_ARGS');
  const setup = error.code === 'BENCH_SETUP';
  process.stderr.write(
    `bench: ${usage ? `${error.message}\nRun with --help for the options.` : setup ? error.message : (error.stack ?? error.message)}\n`,
  );
  process.exit(usage ? 2 : 1);
});
