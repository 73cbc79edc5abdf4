// npm run cost -- --room-size 100 --messages-per-day 100000 --connections 5000 [--json]
// Monthly AWS cost of a chat workload: roomcast vs the tutorial design vs AppSync Events. Fan-out tuning and memory
// sizes come from template.yaml, prices from cost/prices.ts.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadTemplate } from '../infra/template';
import {
  type Assumptions,
  type CostReport,
  DEFAULT_ASSUMPTIONS,
  DEFAULT_WORKLOAD,
  type DesignCost,
  estimate,
  type Workload,
} from './model';
import { PRICES } from './prices';

const HELP = `roomcast cost model: monthly AWS cost (us-east-1, list prices) of a chat workload.

Usage: npm run cost -- [options]

  --room-size N            members per room; each message reaches all of them (default ${DEFAULT_WORKLOAD.roomSize})
  --messages-per-day N     messages sent per day over all rooms (default ${DEFAULT_WORKLOAD.messagesPerDay})
  --connections N          WebSocket connections open on average (default ${DEFAULT_WORKLOAD.connections})
  --message-bytes N        UTF-8 bytes of one chat text (default ${DEFAULT_WORKLOAD.messageBytes})
  --days N                 days billed (default ${DEFAULT_WORKLOAD.days})
  --post-latency-ms N      one PostToConnection round trip on AWS (default ${DEFAULT_ASSUMPTIONS.postLatencyMs})
  --chunk-size N           override the template's FanoutChunkSize
  --max-concurrency N      override the template's FanoutMaxConcurrency
  --page-size N            override the template's FanoutPageSize
  --template FILE          template to read tuning and memory from (default template.yaml)
  --json                   print the whole report as one JSON object
  -h, --help               show this help

Prices and their dates are in cost/prices.ts; they are list prices as last known and must be re-checked.
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

export function templateAssumptions(path: string): Partial<Assumptions> {
  const template = loadTemplate(path);
  const param = (name: string) => Number(template.parameter(name));
  const memory = (logicalId: string) => template.functions().find((f) => f.logicalId === logicalId)?.memoryMb;
  return {
    chunkSize: param('FanoutChunkSize'),
    maxConcurrency: param('FanoutMaxConcurrency'),
    pageSize: param('FanoutPageSize'),
    messageRetentionDays: param('MessageRetentionDays'),
    sendMessageMemoryMb: memory('SendMessageFunction') ?? DEFAULT_ASSUMPTIONS.sendMessageMemoryMb,
    deliverMemoryMb: memory('DeliverFunction') ?? DEFAULT_ASSUMPTIONS.deliverMemoryMb,
  };
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
        template: s,
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0] ?? 'bad arguments');
  }
  const workload: Workload = {
    roomSize: num(values, 'room-size', DEFAULT_WORKLOAD.roomSize, 1),
    messagesPerDay: num(values, 'messages-per-day', DEFAULT_WORKLOAD.messagesPerDay),
    connections: num(values, 'connections', DEFAULT_WORKLOAD.connections, 1),
    messageBytes: num(values, 'message-bytes', DEFAULT_WORKLOAD.messageBytes, 1),
    days: num(values, 'days', DEFAULT_WORKLOAD.days),
  };
  if (!Number.isInteger(workload.roomSize)) throw new UsageError('--room-size must be a whole number');
  if (workload.connections < workload.roomSize) {
    throw new UsageError('--connections must be at least --room-size (the room members are connections)');
  }
  return {
    help: values.help === true,
    json: values.json === true,
    templatePath: resolve((values.template as string | undefined) ?? 'template.yaml'),
    workload,
    overrides: {
      postLatencyMs: values['post-latency-ms'] === undefined ? undefined : num(values, 'post-latency-ms', 0),
      chunkSize: values['chunk-size'] === undefined ? undefined : num(values, 'chunk-size', 0, 1),
      maxConcurrency:
        values['max-concurrency'] === undefined ? undefined : num(values, 'max-concurrency', 0, 1),
      pageSize: values['page-size'] === undefined ? undefined : num(values, 'page-size', 0, 1),
    },
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
    `roomcast cost model - us-east-1 list prices as of ${report.pricesAsOf.join(', ')} (re-check them: cost/prices.ts)`,
    `workload: ${int.format(w.messagesPerDay)} messages/day x ${w.days} days = ${int.format(report.messagesPerMonth)} messages;` +
      ` rooms of ${int.format(w.roomSize)}; ${int.format(w.connections)} connections open; ${w.messageBytes}-byte texts`,
    `fan-out: chunk ${a.chunkSize}, page ${a.pageSize}, Map concurrency ${a.maxConcurrency} -> ${f.pages} page(s),` +
      ` ${f.chunks.length} Deliver chunk(s) of [${summarize(f.chunks)}], execution ~${Math.round(f.stateMachineMs)} ms`,
    `frames: inbound ${report.frames.inboundBytes} B, ack ${report.frames.ackBytes} B, message ${report.frames.messageFrameBytes} B,` +
      ` event entry ${report.frames.eventEntryBytes} B`,
    '',
    ...designTable(roomcast),
    ...designTable(tutorial),
    ...designTable(appsync),
    'summary (USD per month)',
  ];
  for (const d of [roomcast, tutorial, appsync]) {
    const ratio = roomcast.totalUsd === 0 ? '' : ` (${dec(d.totalUsd / roomcast.totalUsd)}x roomcast)`;
    out.push(`  ${pad(d.design, 9)} ${pad(usd(d.totalUsd), 12, true)}${ratio}`);
  }
  out.push(
    '',
    'assumptions: ' +
      `PostToConnection ${a.postLatencyMs} ms, ${a.postConcurrency} posts in flight per Deliver; SendMessage ${a.sendMessageMs} ms at ${a.sendMessageMemoryMb} MB;` +
      ` Deliver ${a.deliverMemoryMb} MB (+${a.deliverOverheadMs} ms); Express ${a.stateMachineMemoryMb} MB, Query ${a.queryMs} ms/page, ${a.lambdaTaskOverheadMs} ms per Map round;` +
      ` tutorial ${a.tutorialMemoryMb} MB arm64, ${a.tutorialScanPageMs} ms per Scan page; connection item ${a.connectionItemBytes} B, index entry ${a.roomIndexItemBytes} B;` +
      ` sessions of ${a.sessionHours} h, ${a.staleSessionShare * 100}% stale. No free tier, no data transfer; roomcast's logs, traces and metrics at the template defaults.`,
  );
  return `${out.join('\n')}\n`;
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

function main() {
  const args = parse(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(HELP);
    return;
  }
  const fromTemplate = templateAssumptions(args.templatePath);
  const overrides = Object.fromEntries(Object.entries(args.overrides).filter(([, v]) => v !== undefined));
  const assumptions: Assumptions = { ...DEFAULT_ASSUMPTIONS, ...fromTemplate, ...overrides };
  const report = estimate(args.workload, assumptions);
  process.stdout.write(args.json ? `${JSON.stringify(report)}\n` : render(report));
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`cost: ${(error as Error).message}\n`);
    if (error instanceof UsageError) process.stderr.write('Run with --help for the options.\n');
    process.exit(error instanceof UsageError ? 2 : 1);
  }
}
