/**
 * `npm run bench -- --aws-profile aws --model SCENARIO`: the model's scenarios (tools/bench/awsModel.ts), its room
 * ceiling search and its table. No cloud, no clock: a scenario's simulated seconds take well under a real one.
 */
import { join, resolve } from 'node:path';
import { readTemplateFile } from '../infra/template';
import type { AwsProfile } from '../local/awsProfile';
import { type Design, type ModelResult, type ModelSettings, runModel, type Scenario } from './awsModel';
import { ownersTable } from './ownerActions';
import { presenceTable } from './presence';
import { describeBinding } from './quotas';
import {
  describeSendLimits,
  isFanoutLoad,
  PERSON_SENDS_PER_SECOND,
  SEND_LIMIT_SETTINGS,
  sendsPerSender,
  sustainedPerSender,
} from './sendLimits';
import { describeOverrides, type StackLimits, stackLimits } from './stackLimits';

const ROOT = resolve(__dirname, '..', '..');

/**
 * The loads the product is held to (docs/DECISIONS.md, "The fan-out at AWS's scale"), and the twin's check. Every
 * member of a room sends, each on one connection, each message's sender drawn at random: a sender sends rate ÷
 * members a second, against its PersonSendRateLimit and SendRateLimit (sendLimits.ts; shipped, 10 per 10 s each: 1 a
 * second sustained, bursts of 10, a person's most). A room of 100 at 100/s has each member at a person's rate and
 * its limit, held to it; at 300/s each member sends 3 a second and 1,000 rooms of 2 at 2.5/s 1.25 a second, past any
 * person: fan-out loads, run with the senders' limits lifted (loadSettings), as the ceiling is searched.
 */
export const SCENARIOS: Record<string, Scenario> = {
  'room-100-at-100': {
    name: 'room-100-at-100',
    rooms: 1,
    members: 100,
    senders: 100,
    rate: 100,
    seconds: 10,
  },
  'room-100-at-300': {
    name: 'room-100-at-300',
    rooms: 1,
    members: 100,
    senders: 100,
    rate: 300,
    seconds: 10,
  },
  'rooms-1000-of-2': { name: 'rooms-1000-of-2', rooms: 1000, members: 2, senders: 2, rate: 2.5, seconds: 10 },
  'room-1000-at-50': {
    name: 'room-1000-at-50',
    rooms: 1,
    members: 1000,
    senders: 1000,
    rate: 50,
    seconds: 10,
  },
  /** The hot room the twin runs for `--check`: 20 members taking turns, 10 messages/s, 100 messages. */
  twin: { name: 'twin', rooms: 1, members: 20, senders: 20, rate: 10, seconds: 10, messages: 100 },
};
/** The scenario names `--model` takes besides SCENARIOS. */
export const MODEL_CHOICES = [
  ...Object.keys(SCENARIOS),
  'ceiling',
  'custom',
  'presence',
  'owners',
  'all',
] as const;

/** The template's settings the model follows: the deploy constants, the pipe's batch, the rule's retries, the routes. */
export function templateSettings(templatePath = join(ROOT, 'template.yaml')): Partial<ModelSettings> {
  return stackLimits({}, templatePath).settings;
}

/** The Timeout (s) of the function serving the rooms' routes (its own, else the template's Globals). */
export function roomsFunctionTimeout(templatePath = join(ROOT, 'template.yaml')): number {
  const raw = readTemplateFile(templatePath).raw as {
    Resources: Record<string, { Properties?: { Timeout?: number } }>;
    Globals?: { Function?: { Timeout?: number } };
  };
  return Number(raw.Resources.RoomsFunction?.Properties?.Timeout ?? raw.Globals?.Function?.Timeout ?? 3);
}

/**
 * The scenarios with a load of their own, no message load and no --design: one room's presence turn by turn
 * (presence.ts), an owner's removemember and closeroom in a big room (ownerActions.ts). Undefined for the others.
 */
export function ownLoadTable(
  choice: string,
  profile: AwsProfile,
  settings: Partial<ModelSettings>,
  seed: number,
): { rows: object[]; text: string } | undefined {
  if (choice === 'presence') return presenceTable(profile);
  if (choice !== 'owners') return undefined;
  const functionTimeoutSeconds = roomsFunctionTimeout();
  return ownersTable({ profile, settings, design: deployedDesign(), functionTimeoutSeconds, seed });
}

/**
 * The design the template deploys: a queue in high-throughput mode (a quota per message group) carries wakes, one in
 * default mode every room event.
 */
export function deployedDesign(templatePath = join(ROOT, 'template.yaml')): Design {
  const resources = readTemplateFile(templatePath).raw.Resources as Record<
    string,
    { Properties?: Record<string, unknown> }
  >;
  return resources.FanoutQueue?.Properties?.FifoThroughputLimit === 'perMessageGroupId' ? 'wake' : 'queue';
}

export interface CeilingSearch {
  design: Design;
  members: number;
  /**
   * The highest rate (messages/s) clean for two seeds of three: p99 ≤ 1 s, backlog within a second's sends, none
   * lost. Each step's p99 and backlog are the three seeds' medians.
   */
  ceilingPerSecond: number;
  steps: { rate: number; clean: boolean; p99Ms: number; backlogAtSendEnd: number; why: string }[];
}

/**
 * Why a run is not clean (empty when it is): p99 over 1 s, a backlog over a second's sends, a send refused or lost.
 * The messages' figures alone: a feature's refusals (a typing frame's 429, a dropped presence post) are the
 * features' table's and the row's binding quota, not a message's.
 */
export function notClean(r: ModelResult): string {
  const why: string[] = [];
  if (!(r.p99Ms <= 1000)) why.push(`p99 ${r.p99Ms} ms`);
  if (r.backlogAtSendEnd > Math.max(10, r.offeredPerSecond)) why.push(`backlog ${r.backlogAtSendEnd}`);
  if (r.outcomes.busySends > 0) why.push(`${r.outcomes.busySends} sends BUSY`);
  if (r.refusals.routeSends > 0) why.push(`${r.refusals.routeSends} sends refused by the route`);
  if (r.refusals.personSends > 0) why.push(`${r.refusals.personSends} sends refused by PersonSendRateLimit`);
  if (r.refusals.connectionSends > 0)
    why.push(`${r.refusals.connectionSends} sends refused by SendRateLimit`);
  if (r.refusals.apiGatewaySends > 0) why.push(`${r.refusals.apiGatewaySends} sends refused`);
  if (r.refusals.lambdaSends > 0) why.push(`${r.refusals.lambdaSends} sends throttled by Lambda`);
  if (r.missing > 0) why.push(`${r.missing} receipts missing`);
  return why.join(', ');
}

/** The rates the ceiling search tries before it narrows between the highest clean one and the next. */
export const CEILING_LADDER = [
  10, 20, 30, 40, 60, 80, 100, 125, 150, 200, 250, 300, 350, 400, 500, 600, 800, 1000, 1500, 2000, 3000, 5000,
];

/**
 * The room ceiling: the highest clean rung of CEILING_LADDER, then halved between it and the next rung, down to 5%
 * of the rate. Every rung is reported, so a rate not clean below the ceiling shows.
 */
export function searchCeiling(
  design: Design,
  members: number,
  profile: AwsProfile,
  seed: number,
  settings: Partial<ModelSettings>,
  seconds = 10,
  warmupSeconds = 0,
): CeilingSearch {
  const steps: CeilingSearch['steps'] = [];
  // Near the ceiling one run's p99 rests on its few slowest messages: a rate is clean when most of three seeds are.
  const tryRate = (rate: number) => {
    const runs = [seed, seed + 1, seed + 2].map((each) =>
      runModel({
        design,
        scenario: { name: 'ceiling', rooms: 1, members, rate, seconds },
        profile,
        seed: each,
        settings,
        warmupSeconds,
      }),
    );
    const whys = runs.map(notClean);
    const clean = whys.filter((w) => w === '').length >= 2;
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[1] as number;
    steps.push({
      rate,
      clean,
      p99Ms: median(runs.map((r) => r.p99Ms)),
      backlogAtSendEnd: median(runs.map((r) => r.backlogAtSendEnd)),
      why: whys.filter((w) => w !== '').join('; '),
    });
    return clean;
  };
  // Every rung of the ladder until two in a row fall behind (their backlog past a second's sends): a rate past the
  // throughput only falls further behind, but p99 is not monotonic below it (a queue design's batches of one or two
  // messages wait behind each other more than fuller batches do).
  let good = 0;
  let bad = Number.POSITIVE_INFINITY;
  let behind = 0;
  for (const rate of CEILING_LADDER) {
    if (tryRate(rate)) {
      good = rate;
      bad = Number.POSITIVE_INFINITY;
      behind = 0;
      continue;
    }
    bad = Math.min(bad, rate);
    const last = steps[steps.length - 1] as CeilingSearch['steps'][number];
    behind = last.backlogAtSendEnd > Math.max(10, rate) ? behind + 1 : 0;
    if (behind >= 2) break;
  }
  if (!Number.isFinite(bad)) return { design, members, ceilingPerSecond: good, steps };
  while (bad - good > Math.max(1, good * 0.05)) {
    const mid = Math.round((good + bad) / 2);
    if (mid === good || mid === bad) break;
    if (tryRate(mid)) good = mid;
    else bad = mid;
  }
  return { design, members, ceilingPerSecond: good, steps };
}

/** The refusals a row names by the setting that refuses them, not by their counter. */
const REFUSAL_NAMES: Record<string, string> = {
  personSends: 'sends (PersonSendRateLimit)',
  connectionSends: 'sends (SendRateLimit)',
};

/** Every refusal of a run, by kind (`0` when none). */
export function refusedOf(r: ModelResult): string {
  const routes = Object.entries(r.routeRefusals ?? {}).filter(([route]) => route !== 'sendmessage');
  return (
    [...Object.entries(r.refusals), ...routes.map(([route, n]) => [`${route} route`, n] as const)]
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${REFUSAL_NAMES[k] ?? k}`)
      .join(', ') || '0'
  );
}

/** The deploy-time constants that set the stage's route throttles (template.yaml, Mappings.Deploy.Settings). */
const ROUTE_THROTTLE_CONSTANT = /Throttling(Rate|Burst)Limit$/;

/**
 * The stage's route buckets as the run applies them, grouped by size (`sendmessage 3000/s (burst 3000); the other 37
 * routes 500/s (burst 1000) each`), and a line naming each throttle the run overrides, lifted or lowered.
 */
export function describeRouteThrottles(limits: StackLimits): string {
  const groups = new Map<string, string[]>();
  for (const [route, t] of Object.entries(limits.routes)) {
    const size = `${t.rateLimit}/s (burst ${t.burstLimit})`;
    groups.set(size, [...(groups.get(size) ?? []), route]);
  }
  const sorted = [...groups].sort((a, b) => a[1].length - b[1].length);
  const buckets = sorted
    .map(([size, routes], i) =>
      i === sorted.length - 1 && routes.length > 3
        ? `the other ${routes.length} routes ${size} each`
        : `${routes.join(', ')} ${size}${routes.length > 1 ? ' each' : ''}`,
    )
    .join('; ');
  const changed = limits.overrides.filter((o) => ROUTE_THROTTLE_CONSTANT.test(o.name));
  const overridden = changed.map(
    (o) =>
      `${o.name}=${o.value} (shipped ${o.shipped}: ${Number(o.value) > Number(o.shipped) ? 'lifted' : 'lowered'})`,
  );
  return (
    `route throttles (one bucket per route for every client together): ${buckets || 'none'}\n` +
    `route throttles overridden by this run: ${overridden.join(', ') || 'none, as template.yaml deploys them'}`
  );
}

/**
 * The model's results as a table, one line per design and scenario: beside p50/p99 (over receipts only) what they
 * leave out, the sends and posts refused and the receipts missing, and the quota that binds first.
 */
export function modelTable(rows: ModelResult[]): string {
  const head = [
    'design',
    'scenario',
    'offered/s',
    'sent/s',
    'p50 ms',
    'p99 ms',
    'refused (kind)',
    'missing',
    'binds first',
    'posts/s',
    'queue SM/s',
    'group SM/s',
    'execs',
    'wakes + hand-offs',
    'retried / DLQ',
    'backlog end',
  ];
  const lines = rows.map((r) => [
    r.design,
    r.scenario,
    String(r.offeredPerSecond),
    String(r.sentPerSecond),
    String(r.p50Ms),
    String(r.p99Ms),
    refusedOf(r),
    String(r.missing),
    describeBinding(r.bindsFirst),
    String(r.postsPerSecond),
    `${r.queueSendMessagePerSecond} (${r.queueSendMessagePeak})`,
    `${r.groupSendMessagePerSecond} (${r.groupSendMessagePeak})`,
    String(r.executions),
    r.design === 'wake' ? `${r.wakes.byTakes} + ${r.wakes.handOffs}` : '–',
    `${r.outcomes.eventRetries} / ${r.outcomes.deadLettered}`,
    `${r.backlogAtSendEnd} → ${r.backlogAtEnd}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  return [fmt(head), ...lines.map(fmt)].join('\n');
}

/**
 * Each feature's traffic beside the messages, one line per design, scenario and feature (per second over the measured
 * seconds): its requests and those refused (429; `ssm`: GetParameter calls and those throttled; `broadcasts`: its
 * REST API's), its posts and those dropped (`push`: Web Push posts to the push service), its write and read units,
 * PutEvents and rule invocations; then the account's requests/s, the tables' write and read units and the partitions'
 * reads at their busiest second, every feature in.
 */
export function featureTable(rows: ModelResult[], seconds: number): string {
  const per = (n: number) => String(Math.round((n / seconds) * 10) / 10);
  const head = [
    'design',
    'scenario',
    'feature',
    'requests/s',
    'refused',
    'posts/s',
    'dropped',
    'WCU/s',
    'RCU/s',
  ];
  const lines: string[][] = [];
  for (const r of rows) {
    if (!r.features) continue;
    for (const [feature, c] of Object.entries(r.features))
      lines.push([
        r.design,
        r.scenario,
        feature,
        per(c.requests),
        String(c.refused),
        per(c.posts),
        String(c.dropped),
        per(c.writeUnits),
        per(c.readUnits),
        `${per(c.putEvents)} PutEvents/s, ${per(c.ruleInvocations)} rule invocations/s`,
      ]);
    const use = (name: string) => r.quotas.find((q) => q.name === name);
    const account = use('API Gateway requests/s (account)');
    const tables = use('DynamoDB write units/s per table');
    const reads = use('DynamoDB reads/s per key');
    lines.push([
      r.design,
      r.scenario,
      'all',
      '',
      '',
      '',
      '',
      '',
      '',
      `busiest second: account requests ${Math.round((account?.peakUse ?? 0) * 100)}% of ${account?.limit}, ` +
        `busiest table ${Math.round((tables?.peakUse ?? 0) * 100)}% of ${tables?.limit} WCU/s, ` +
        `busiest partition's reads ${Math.round((reads?.peakUse ?? 0) * 100)}% of ${reads?.limit} RCU/s`,
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (i < head.length ? c.padEnd(widths[i] as number) : c)).join('  ');
  return [fmt([...head, 'events']), ...lines.map(fmt)].join('\n');
}

/** The send limits' settings (sendLimits.ts): a larger limit or a shorter window lifts, 0 turns a limit off. */
const SEND_LIMIT_WINDOWS = new Set(['SendRateWindowSeconds', 'PersonRateWindowSeconds']);

/**
 * The send limits the run applies to each sender, and a line naming each the run overrides (`SendRateLimit=10000
 * (shipped 10: lifted)`), so a figure of lifted limits is never read as the stack's as shipped.
 */
export function describeSendLimitLines(limits: StackLimits): string {
  const sendLimits = limits.settings.sendLimits;
  const perSender = sustainedPerSender(sendLimits);
  const changed = limits.overrides
    .filter((o) => (SEND_LIMIT_SETTINGS as readonly string[]).includes(o.name))
    .map((o) => {
      const lifts = SEND_LIMIT_WINDOWS.has(o.name)
        ? Number(o.value) < Number(o.shipped)
        : Number(o.value) > Number(o.shipped);
      const how =
        !SEND_LIMIT_WINDOWS.has(o.name) && Number(o.value) === 0 ? 'off' : lifts ? 'lifted' : 'lowered';
      return `${o.name}=${o.value} (shipped ${o.shipped}: ${how})`;
    });
  return (
    `send limits of each sender (runtime settings, the settings schema's defaults): ${describeSendLimits(sendLimits)}` +
    (Number.isFinite(perSender)
      ? `: ${Math.round(perSender * 100) / 100} msg/s a sender sustained\n`
      : '\n') +
    `send limits overridden by this run: ${changed.join(', ') || 'none, as the settings schema ships them'}`
  );
}

/**
 * The ceiling search's settings: the fan-out's ceiling is what one room's messages cost the stack, so the senders'
 * limits are lifted for it (a room of `members` as shipped sends at most members × a sender's sustained rate, told
 * beside it by ceilingNote).
 */
export function ceilingSettings(settings: Partial<ModelSettings>): Partial<ModelSettings> {
  const { sendLimits: _lifted, ...rest } = settings;
  return rest;
}

/**
 * The settings a load runs with. A fan-out load (its senders each past a person's rate: sendLimits.ts isFanoutLoad)
 * is what the fan-out is sized for, not what people send, so its senders' limits are lifted as the ceiling's search
 * lifts them, unless the run gives a send limit itself (`--parameter PersonSendRateLimit=10` holds them at the shipped
 * value); a people's load keeps them. fanoutLoadLine says which loads the run lifted.
 */
export function loadSettings(load: Scenario, limits: StackLimits): Partial<ModelSettings> {
  return isFanoutLoad(load) && limits.sendLimitsGiven.length === 0
    ? ceilingSettings(limits.settings)
    : limits.settings;
}

/** The header's line naming the fan-out loads of a run and whether their senders' limits were lifted. */
export function fanoutLoadLine(loads: readonly Scenario[], limits: StackLimits): string {
  const fanout = loads.filter(isFanoutLoad);
  const rates = fanout.map((l) => `${l.name} ${Math.round(sendsPerSender(l) * 100) / 100}/s a sender`);
  const how =
    limits.sendLimitsGiven.length === 0
      ? "their send limits lifted (no person sends this; the run's own send-limit settings hold them)"
      : `held to the send limits this run gives (${limits.sendLimitsGiven.join(', ')})`;
  return (
    `loads past a person's ${PERSON_SENDS_PER_SECOND} msg/s sustained (fan-out loads): ` +
    (fanout.length === 0 ? 'none' : `${rates.join(', ')}; ${how}`)
  );
}

/** What the ceiling's figure leaves out: the senders' limits it lifted, and the room's rate under them. */
export function ceilingNote(settings: Partial<ModelSettings>, members: number): string {
  const perSender = sustainedPerSender(settings.sendLimits);
  if (!Number.isFinite(perSender)) return 'the senders unlimited in this run';
  return (
    `the senders' limits lifted for the search (${describeSendLimits(settings.sendLimits)}); under them a room of ` +
    `${members} sends at most ${Math.round(members * perSender)} messages/s sustained (${Math.round(perSender * 100) / 100} a member)`
  );
}

/** The model's first line: its profile and seed, the stack's limits it follows and what the run overrides. */
export function modelHeader(
  profile: AwsProfile,
  seed: number,
  seconds: number,
  limits: StackLimits,
  warmupSeconds = 0,
): string {
  const { sendRoute, routes, defaultRoute, lambdaInit, reservedConcurrency, sendLimits, ...fanout } =
    limits.settings;
  const init = ['MessagesFunction', 'DeliverFunction']
    .map((fn) => `${fn} ${lambdaInit?.[fn]?.p50 ?? '–'} ms`)
    .join(', ');
  const reserved = Object.entries(reservedConcurrency ?? {}).map(([fn, n]) => `${fn} ${n}`);
  return (
    `model of the fan-out on AWS: profile ${profile.name}, seed ${seed}, ${seconds} s of sending per load measured ` +
    `after ${warmupSeconds} s of the same load\n` +
    `${describeRouteThrottles(limits)}\n` +
    `${describeSendLimitLines(limits)}\n` +
    `stack limits from template.yaml: reserved concurrency ${reserved.join(', ') || 'none'}, fan-out ${JSON.stringify(fanout)}\n` +
    `cold start init p50 from the dist/ bundles: ${init}\n` +
    `overrides: ${describeOverrides(limits.overrides)}`
  );
}

export interface CheckRow {
  what: string;
  twinMs: number;
  modelMs: number;
  /** model ÷ twin: within 0.5–2 the model is within 2× of the twin. */
  ratio: number;
}

/** The twin's hot phase and the model's run of the same load, p50 and p99 side by side. */
export function compareWithTwin(twin: { p50Ms: number; p99Ms: number }, model: ModelResult): CheckRow[] {
  const row = (what: string, twinMs: number, modelMs: number) => ({
    what,
    twinMs,
    modelMs,
    ratio: Math.round((modelMs / twinMs) * 100) / 100,
  });
  return [row('p50', twin.p50Ms, model.p50Ms), row('p99', twin.p99Ms, model.p99Ms)];
}

/** Whether every ratio is within 2× either way. */
export const withinTwice = (rows: CheckRow[]) => rows.every((r) => r.ratio >= 0.5 && r.ratio <= 2);
