// npm run cost -- --room-size 100 --messages-per-day 100000 --connections 5000 [--json]
// npm run cost -- --room-size 1000 --messages-per-second 5 --hot-rooms 1        (a hot room, all day)
// Monthly AWS cost of a chat workload: roomcast vs the tutorial design vs AppSync Events. Fan-out tuning and memory
// sizes come from template.yaml, prices from tools/cost/prices.ts.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SETTINGS } from '#platform/settingsSchema';
import { deployConstants } from '../infra/parameters';
import { loadTemplate } from '../infra/template';
import { attachmentCosts, DEFAULT_ATTACHMENT, renderAttachmentCosts } from './attachments';
import { changeCosts, mentionCosts, renderChangeCosts, replyCosts, threadReplyCosts } from './changes';
import { renderDirectoryCosts } from './directory';
import { memberCosts, renderMemberCosts } from './members';
import {
  type Assumptions,
  type CostReport,
  DEFAULT_ASSUMPTIONS,
  DEFAULT_WORKLOAD,
  type DesignCost,
  estimate,
  type Workload,
} from './model';
import { moderationCosts, renderModerationCosts } from './moderation';
import { type BroadcastSettings, presenceCosts, presenceTable } from './presence';
import { PRICES } from './prices';
import { pushCosts, renderPushCosts } from './push';
import { renderRoomsPerConnection, roomsPerConnection } from './rooms';
import { renderSafetyCosts, safetyCosts } from './safety';
import { renderSearchCosts, searchCosts, searchIndexCost } from './search';
import { renderSeenBy, seenByComparison } from './seenBy';
import { type TypingSettings, typingTable } from './typing';

const HELP = `roomcast cost model: monthly AWS cost (us-east-1, list prices) of a chat workload.

Usage: npm run cost -- [options]

  --room-size N            members per room; each message reaches all of them (default ${DEFAULT_WORKLOAD.roomSize})
  --messages-per-day N     messages sent per day over all rooms (default ${DEFAULT_WORKLOAD.messagesPerDay})
  --connections N          WebSocket connections open on average (default ${DEFAULT_WORKLOAD.connections})
  --message-bytes N        UTF-8 bytes of one chat text (default ${DEFAULT_WORKLOAD.messageBytes})
  --days N                 days billed (default ${DEFAULT_WORKLOAD.days})
  --rooms N                rooms the messages spread over evenly (default connections / room size)

Hot rooms (replace --messages-per-day; connections default to the rooms' members):
  --messages-per-second N  messages per second in each hot room, all day
  --hot-rooms N            how many such rooms (default 1)

Coalescing (a busy room's messages go as one batch frame per member and fan-out cycle):
  --cycle-ms N             one fan-out cycle of a room on AWS (default: the execution this model estimates for the
                           room, plus one DynamoDB read to take the pending messages)
  --posting-budget N       posts per second the fan-out allows itself across the account (default ${DEFAULT_ASSUMPTIONS.postingBudgetPerSecond})
  --no-coalescing          one post per member and message, as without batch frames
  --queue-per-event        for comparison: the fan-out queue carrying every event (one queue message and Pipes
                           request per message, at most the pipe's batch per execution) instead of one wake per
                           awake spell of a room
  --grid                   hot rooms of 100, 1,000 and 10,000 members at 1, 5, 10 and 20 messages/s each
                           (--hot-rooms of them): posts per message, added wait, roomcast vs AppSync Events

  --post-latency-ms N      one PostToConnection round trip on AWS (default ${DEFAULT_ASSUMPTIONS.postLatencyMs})
  --chunk-size N           override the template's FanoutChunkSize
  --max-concurrency N      override the template's FanoutMaxConcurrency
  --page-size N            override the template's FanoutPageSize
  --template FILE          template to read tuning and memory from (default template.yaml)
  --json                   print the whole report as one JSON object
  -h, --help               show this help

Prices and their dates are in tools/cost/prices.ts; they are list prices as last known and must be re-checked.
`;

class UsageError extends Error {}

function num(values: Record<string, unknown>, name: string, fallback: number, min = 0): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value) || value < min) {
    throw new UsageError(`--${name} must be a number >= ${min}, got "${String(raw)}"`);
  }
  return value;
}

/**
 * What the template fixes: the fan-out tuning and message retention are deploy-time constants (template.yaml's
 * `Mappings.Deploy.Settings`), the memory sizes the functions'. The posting budget is a runtime setting
 * (FanoutPostsPerSecond), costed at its default (functions/platform/settingsSchema.ts); --posting-budget costs another.
 */
export function templateAssumptions(path: string): Partial<Assumptions> {
  const template = loadTemplate(path);
  const constants = deployConstants(template.raw);
  const constant = (name: string) => {
    const value = Number(constants[name]);
    if (constants[name] === undefined || !Number.isFinite(value)) {
      throw new UsageError(
        `${path}: Mappings.Deploy.Settings.${name} must be a number, got ${JSON.stringify(constants[name])}`,
      );
    }
    return value;
  };
  const memory = (logicalId: string) => template.functions().find((f) => f.logicalId === logicalId)?.memoryMb;
  return {
    pipeBatchSize: pipeBatchSize(template.raw, path),
    chunkSize: constant('FanoutChunkSize'),
    maxConcurrency: constant('FanoutMaxConcurrency'),
    pageSize: constant('FanoutPageSize'),
    messageRetentionDays: constant('MessageRetentionDays'),
    postingBudgetPerSecond: SETTINGS.FanoutPostsPerSecond.default,
    sendMessageMemoryMb: memory('MessagesFunction') ?? DEFAULT_ASSUMPTIONS.sendMessageMemoryMb,
    deliverMemoryMb: memory('DeliverFunction') ?? DEFAULT_ASSUMPTIONS.deliverMemoryMb,
  };
}

/** The fan-out pipe's BatchSize (template.yaml, FanoutPipe): the queue records one execution takes at most. */
function pipeBatchSize(raw: Record<string, unknown>, path: string): number {
  const at = (value: unknown, key: string) =>
    value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  const value = ['FanoutPipe', 'Properties', 'SourceParameters', 'SqsQueueParameters', 'BatchSize'].reduce(
    at,
    raw.Resources as unknown,
  );
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new UsageError(
      `${path}: Resources.FanoutPipe.Properties.SourceParameters.SqsQueueParameters.BatchSize must be a whole number >= 1, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** The typing route's settings and memory from the template (tools/cost/typing.ts). */
export function typingSettings(path: string): TypingSettings {
  const template = loadTemplate(path);
  return {
    // TypingIntervalSeconds is a deploy-time constant (template.yaml's Mappings); TypingMaxMembers a runtime setting,
    // costed at its default (functions/platform/settingsSchema.ts).
    intervalSeconds: Number(deployConstants(template.raw).TypingIntervalSeconds),
    maxMembers: SETTINGS.TypingMaxMembers.default,
    memoryMb: template.functions().find((f) => f.logicalId === 'TypingFunction')?.memoryMb ?? 256,
  };
}

/** The broadcast route's memory from the template (tools/cost/presence.ts). */
export function broadcastSettings(path: string): BroadcastSettings {
  const fn = loadTemplate(path)
    .functions()
    .find((f) => f.logicalId === 'BroadcastFunction');
  return { memoryMb: fn?.memoryMb ?? 256 };
}

export function parse(argv: string[]) {
  const s = { type: 'string' } as const;
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        'room-size': s,
        'messages-per-day': s,
        connections: s,
        'message-bytes': s,
        days: s,
        'post-latency-ms': s,
        'chunk-size': s,
        'max-concurrency': s,
        'page-size': s,
        rooms: s,
        'messages-per-second': s,
        'hot-rooms': s,
        'cycle-ms': s,
        'posting-budget': s,
        'no-coalescing': { type: 'boolean' },
        'queue-per-event': { type: 'boolean' },
        grid: { type: 'boolean' },
        template: s,
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0] ?? 'bad arguments');
  }
  const workload = parseWorkload(values);
  if (!Number.isInteger(workload.roomSize)) throw new UsageError('--room-size must be a whole number');
  if (workload.connections < workload.roomSize) {
    throw new UsageError('--connections must be at least --room-size (the room members are connections)');
  }
  return {
    help: values.help === true,
    json: values.json === true,
    grid: values.grid === true,
    templatePath: resolve((values.template as string | undefined) ?? 'template.yaml'),
    workload,
    overrides: {
      postLatencyMs: values['post-latency-ms'] === undefined ? undefined : num(values, 'post-latency-ms', 0),
      chunkSize: values['chunk-size'] === undefined ? undefined : num(values, 'chunk-size', 0, 1),
      maxConcurrency:
        values['max-concurrency'] === undefined ? undefined : num(values, 'max-concurrency', 0, 1),
      pageSize: values['page-size'] === undefined ? undefined : num(values, 'page-size', 0, 1),
      fanoutCycleMs: values['cycle-ms'] === undefined ? undefined : num(values, 'cycle-ms', 0),
      postingBudgetPerSecond:
        values['posting-budget'] === undefined ? undefined : num(values, 'posting-budget', 0, 1),
      coalescing: values['no-coalescing'] === true ? false : undefined,
      fanoutQueue: values['queue-per-event'] === true ? ('events' as const) : undefined,
    },
  };
}

/** The workload: a daily volume over rooms, or hot rooms at a rate per second all day. */
function parseWorkload(values: Record<string, unknown>): Workload {
  const roomSize = num(values, 'room-size', DEFAULT_WORKLOAD.roomSize, 1);
  const rate = values['messages-per-second'];
  if (rate === undefined) {
    if (values['hot-rooms'] !== undefined) throw new UsageError('--hot-rooms needs --messages-per-second');
    return {
      roomSize,
      messagesPerDay: num(values, 'messages-per-day', DEFAULT_WORKLOAD.messagesPerDay),
      connections: num(values, 'connections', DEFAULT_WORKLOAD.connections, 1),
      messageBytes: num(values, 'message-bytes', DEFAULT_WORKLOAD.messageBytes, 1),
      days: num(values, 'days', DEFAULT_WORKLOAD.days),
      rooms: values.rooms === undefined ? undefined : num(values, 'rooms', 1, 1),
    };
  }
  if (values['messages-per-day'] !== undefined || values.rooms !== undefined) {
    throw new UsageError('--messages-per-second (hot rooms) replaces --messages-per-day and --rooms');
  }
  const rooms = num(values, 'hot-rooms', 1, 1);
  if (!Number.isInteger(rooms)) throw new UsageError('--hot-rooms must be a whole number');
  return {
    roomSize,
    rooms,
    messagesPerDay: num(values, 'messages-per-second', 0) * rooms * 86_400,
    connections: num(values, 'connections', rooms * roomSize, 1),
    messageBytes: num(values, 'message-bytes', DEFAULT_WORKLOAD.messageBytes, 1),
    days: num(values, 'days', DEFAULT_WORKLOAD.days),
  };
}

// ------------------------------------------------------------------ formatting

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const dec = (n: number, digits = 2) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function quantity(n: number): string {
  if (n === 0) return '0';
  if (n >= 100) return int.format(n);
  return dec(n, n >= 1 ? 1 : 3);
}

function unitPrice(usd: number): string {
  return usd < 0.01 ? `$${dec(usd * 1e6, usd * 1e6 < 1 ? 4 : 2)}/M` : `$${dec(usd)}`;
}

function usd(n: number): string {
  return `$${dec(n)}`;
}

function pad(s: string, width: number, right = false): string {
  return right ? s.padStart(width) : s.padEnd(width);
}

function designTable(d: DesignCost): string[] {
  const rows = d.items.map((i) => [
    i.service,
    i.component,
    quantity(i.quantity),
    unitPrice(PRICES[i.priceId].tiers[0]?.usd ?? 0),
    usd(i.usd),
  ]);
  const head = ['service', 'component', 'quantity/month', 'unit price', 'USD/month'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    `  ${r.map((cell, c) => pad(cell, widths[c] ?? 0, c >= 2)).join('  ')}`.trimEnd();
  const total = widths.reduce((s, w) => s + w + 2, 0);
  return [
    d.title,
    line(head),
    `  ${'-'.repeat(total - 2)}`,
    ...rows.map(line),
    `  ${pad(`total ${usd(d.totalUsd)} per month, ${usd(d.usdPerMillionMessages)} per million messages`, total - 2, true)}`,
    ...d.notes.map((n) => `  note: ${n}`),
    '',
  ];
}

export function render(report: CostReport): string {
  const w = report.workload;
  const a = report.assumptions;
  const { roomcast, tutorial, appsync } = report.designs;
  const f = report.fanout;
  const out = [
    `roomcast cost model - us-east-1 list prices as of ${report.pricesAsOf.join(', ')} (re-check them: tools/cost/prices.ts)`,
    `workload: ${int.format(w.messagesPerDay)} messages/day x ${w.days} days = ${int.format(report.messagesPerMonth)} messages;` +
      ` rooms of ${int.format(w.roomSize)}; ${int.format(w.connections)} connections open; ${w.messageBytes}-byte texts`,
    `fan-out: chunk ${a.chunkSize}, page ${a.pageSize}, Map concurrency ${a.maxConcurrency} -> ${f.keys} index key(s), ${f.pages} Query(ies),` +
      ` ${f.chunks.length} Deliver chunk(s) of [${summarize(f.chunks)}], execution ~${Math.round(f.stateMachineMs)} ms`,
    `frames: inbound ${report.frames.inboundBytes} B, ack ${report.frames.ackBytes} B, message ${report.frames.messageFrameBytes} B,` +
      ` event entry ${report.frames.eventEntryBytes} B`,
    deliveryLine(report),
    workLine(report),
    '',
    // The answer first, the tables it adds up after it: a terminal shows the top of a long report.
    "summary (USD per month; each design's table, then the cost of each feature, follow)",
  ];
  for (const d of [roomcast, tutorial, appsync]) {
    const ratio = roomcast.totalUsd === 0 ? '' : ` (${dec(d.totalUsd / roomcast.totalUsd)}x roomcast)`;
    out.push(`  ${pad(d.design, 9)} ${pad(usd(d.totalUsd), 12, true)}${ratio}`);
  }
  out.push('', ...designTable(roomcast), ...designTable(tutorial), ...designTable(appsync));
  out.push(
    'assumptions: ' +
      `PostToConnection ${a.postLatencyMs} ms, ${a.postConcurrency} posts in flight per Deliver; SendMessage ${a.sendMessageMs} ms at ${a.sendMessageMemoryMb} MB;` +
      ` Deliver ${a.deliverMemoryMb} MB (+${a.deliverOverheadMs} ms); Express ${a.stateMachineMemoryMb} MB, Query ${a.queryMs} ms/page, ${a.lambdaTaskOverheadMs} ms per Map round;` +
      ` tutorial ${a.tutorialMemoryMb} MB arm64, ${a.tutorialScanPageMs} ms per Scan page; connection item ${a.connectionItemBytes} B, index entry ${a.roomIndexItemBytes} B;` +
      ` sessions of ${a.sessionHours} h, ${a.staleSessionShare * 100}% stale. No free tier, no data transfer; roomcast's logs, traces and metrics at the template defaults.`,
  );
  return `${out.join('\n')}\n`;
}

/** How the rooms' messages are delivered: rate, cycle, posts per message, the budget, the wait coalescing adds. */
function deliveryLine({ delivery: d, workload: w, assumptions: a }: CostReport): string {
  const rate = d.messagesPerSecondPerRoom;
  const head = `delivery: ${int.format(d.rooms)} room(s) at ${dec(rate, rate >= 1 ? 1 : 4)} messages/s each;`;
  if (!a.coalescing) return `${head} no coalescing: ${int.format(w.roomSize)} posts per message`;
  const cycle = `fan-out cycle ${Math.round(d.cycleMs)} ms (${d.cycleSource === 'given' ? '--cycle-ms' : 'estimated: execution + one read'})`;
  const budget = d.budgetBound
    ? `; posting budget ${int.format(a.postingBudgetPerSecond)}/s binds: cycles every ${Math.round(d.effectiveCycleMs)} ms`
    : `; ${int.format(d.postsPerSecond)} posts/s of the ${int.format(a.postingBudgetPerSecond)}/s budget`;
  return (
    `${head} ${cycle}${budget}\n` +
    `  ${dec(d.messagesPerPost)} messages per post (batch frames hold up to ${d.maxBatch}) -> ${dec(d.postsPerMessage, 1)} posts per message;` +
    ` coalescing adds ${dec(d.addedWaitMeanMs, 0)} ms on average, at most ${dec(d.addedWaitMaxMs, 0)} ms` +
    (d.overBudget ? '\n  OVER BUDGET: full batches still exceed the posting budget; messages queue' : '')
  );
}

/** The fan-out's work a month: cycles, and the executions, wakes, spells and hand-offs that carry them. */
function workLine({ work, assumptions: a, messagesPerMonth: M }: CostReport): string {
  const per = (n: number) => dec(M === 0 ? 0 : n / M, 3);
  if (a.fanoutQueue === 'events') {
    return `fan-out queue: every event (--queue-per-event): ${per(M)} queue messages, ${per(work.executions)} executions per message`;
  }
  return (
    `fan-out queue: wakes: per message ${per(work.wakes)} wakes (${per(work.spells)} spells, ${per(work.handOffs)} hand-offs),` +
    ` ${per(work.cycles)} cycles; ${dec(work.cyclesPerExecution)} cycles per execution (a turn: at most ${work.cyclesPerTurn}),` +
    ` ${dec(work.awakeShare * 100, 1)}% of reads find a seq being stored`
  );
}

function summarize(chunks: number[]): string {
  const groups: string[] = [];
  for (let i = 0; i < chunks.length; ) {
    let j = i;
    while (j < chunks.length && chunks[j] === chunks[i]) j++;
    groups.push(j - i > 1 ? `${j - i} x ${chunks[i]}` : String(chunks[i]));
    i = j;
  }
  return groups.join(', ');
}

const GRID_ROOM_SIZES = [100, 1000, 10_000];
const GRID_RATES = [1, 5, 10, 20];

/** Hot rooms across sizes and rates: what coalescing saves and adds, and roomcast against AppSync Events. */
export function grid(assumptions: Assumptions, rooms: number, days: number, messageBytes: number): string {
  const head = [
    'members',
    'msgs/s',
    'cycle ms',
    'msgs/post',
    'posts/msg',
    'added wait ms (mean/max)',
    'roomcast $/month',
    'AppSync $/month',
    'roomcast/AppSync',
  ];
  const rows = GRID_ROOM_SIZES.flatMap((roomSize) =>
    GRID_RATES.map((rate) => {
      const r = estimate(
        {
          roomSize,
          rooms,
          messagesPerDay: rate * rooms * 86_400,
          connections: roomSize * rooms,
          days,
          messageBytes,
        },
        assumptions,
      );
      const d = r.delivery;
      const { roomcast, appsync } = r.designs;
      return [
        int.format(roomSize),
        String(rate),
        `${Math.round(d.effectiveCycleMs)}${d.budgetBound ? ' (budget)' : ''}`,
        dec(d.messagesPerPost),
        dec(d.postsPerMessage, 1),
        `${Math.round(d.addedWaitMeanMs)}/${Math.round(d.addedWaitMaxMs)}`,
        int.format(roomcast.totalUsd),
        int.format(appsync.totalUsd),
        `${dec(roomcast.totalUsd / appsync.totalUsd)}x`,
      ];
    }),
  );
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => (row[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, c) => pad(cell, widths[c] ?? 0, true)).join('  ');
  return `${[
    `hot rooms: ${rooms} room(s) of each size, busy all day, ${days} days; posting budget ${int.format(assumptions.postingBudgetPerSecond)} posts/s`,
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n')}\n`;
}

function main() {
  const args = parse(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(HELP);
    return;
  }
  const fromTemplate = templateAssumptions(args.templatePath);
  const overrides = Object.fromEntries(Object.entries(args.overrides).filter(([, v]) => v !== undefined));
  const assumptions: Assumptions = { ...DEFAULT_ASSUMPTIONS, ...fromTemplate, ...overrides };
  if (args.grid) {
    const rooms = args.workload.rooms ?? 1;
    process.stdout.write(grid(assumptions, rooms, args.workload.days, args.workload.messageBytes));
    return;
  }
  const report = estimate(args.workload, assumptions);
  const bytes = args.workload.messageBytes;
  const presence = presenceCosts(assumptions, PRICES, broadcastSettings(args.templatePath), bytes);
  if (args.json) {
    const asIs = presence.flat().map(({ event, roomSize, posts, usdPerMillion }) => ({
      event,
      roomSize,
      posts,
      usdPerMillion,
    }));
    process.stdout.write(
      `${JSON.stringify({ ...report, changes: [...changeCosts(assumptions), replyCosts(assumptions), mentionCosts(assumptions), threadReplyCosts(assumptions)], attachments: attachmentCosts(assumptions), presence: asIs, moderation: moderationCosts(assumptions), push: pushCosts(PRICES) })}\n`,
    );
    return;
  }
  process.stdout.write(
    `${render(report)}\n${renderChangeCosts([
      ...changeCosts(assumptions, PRICES, args.workload.messageBytes),
      replyCosts(assumptions, PRICES, args.workload.messageBytes),
      mentionCosts(assumptions, PRICES, args.workload.messageBytes),
      threadReplyCosts(assumptions, PRICES, args.workload.messageBytes),
    ])}`,
  );
  process.stdout.write(
    `\n${renderAttachmentCosts(attachmentCosts(assumptions, PRICES, DEFAULT_ATTACHMENT, args.workload.messageBytes), DEFAULT_ATTACHMENT)}`,
  );
  process.stdout.write(`\n${typingTable(typingSettings(args.templatePath), assumptions, PRICES)}`);
  process.stdout.write(`\n${presenceTable(presence)}`);
  // A runtime setting, costed at its default (functions/platform/settingsSchema.ts).
  const seenByMax = SETTINGS.SeenByMaxMembers.default;
  process.stdout.write(
    renderMemberCosts(memberCosts(assumptions, PRICES, seenByMax), seenByMax, assumptions),
  );
  process.stdout.write(renderSeenBy(seenByComparison(assumptions, PRICES, 50, seenByMax)));
  process.stdout.write(renderRoomsPerConnection(roomsPerConnection(assumptions, PRICES)));
  process.stdout.write(renderDirectoryCosts(assumptions, PRICES));

  process.stdout.write(`\n${renderSafetyCosts(safetyCosts(PRICES))}`);
  process.stdout.write(`\n${renderModerationCosts(moderationCosts(assumptions, PRICES))}`);
  process.stdout.write(`\n${renderPushCosts(pushCosts(PRICES))}`);
  process.stdout.write(
    `\n${renderSearchCosts(searchIndexCost(assumptions, PRICES, bytes), searchCosts(assumptions, PRICES), bytes)}`,
  );
}

if (require.main === module) {
  // Read through `| head`: the reader closing the pipe ends the report, not a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  try {
    main();
  } catch (error) {
    process.stderr.write(`cost: ${(error as Error).message}\n`);
    if (error instanceof UsageError) process.stderr.write('Run with --help for the options.\n');
    process.exit(error instanceof UsageError ? 2 : 1);
  }
}
