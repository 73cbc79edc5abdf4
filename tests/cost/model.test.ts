import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOM_INDEX_SHARDS } from '#core/aws/roomMembers';
import { METRIC } from '#platform/powertools';
import { SETTINGS } from '#platform/settingsSchema';
import { parse as parseCli, render, templateAssumptions } from '../../tools/cost/cli';
import {
  type Assumptions,
  DEFAULT_ASSUMPTIONS,
  DEFAULT_WORKLOAD,
  deliverDuration,
  estimate,
  expressGbSeconds,
  fanoutShape,
  frameSizes,
  increments,
  pagedReadUnits,
  pageReadUnits,
  priceItems,
  tieredCost,
  type Workload,
  writeUnits,
} from '../../tools/cost/model';
import { PRICES, type PriceTable } from '../../tools/cost/prices';

/** Every price is 1 USD per unit, flat: a line's USD equals its quantity. */
const UNIT_PRICES = Object.fromEntries(
  Object.entries(PRICES).map(([id, p]) => [
    id,
    { ...p, tiers: [{ upTo: Number.POSITIVE_INFINITY, usd: 1 }] },
  ]),
) as unknown as PriceTable;

/**
 * Round numbers so hand computation is easy, and one post per member and message: how busy rooms coalesce is
 * tested on its own (coalescing.test.ts).
 */
const SIMPLE: Assumptions = {
  ...DEFAULT_ASSUMPTIONS,
  coalescing: false,
  chunkSize: 100,
  pageSize: 1000,
  maxConcurrency: 10,
  postLatencyMs: 20,
  postConcurrency: 50,
  deliverOverheadMs: 10,
  queryMs: 10,
  lambdaTaskOverheadMs: 20,
  dynamoRequestMs: 10,
  // No seq is ever caught between its take and its store: every read ends its room's spell (wakes.test.ts has the rest).
  takeToStoreMs: 0,
};

const item = (
  report: ReturnType<typeof estimate>,
  design: 'roomcast' | 'tutorial' | 'appsync',
  part: string,
) => {
  const found = report.designs[design].items.find((i) => i.component.startsWith(part));
  if (!found) throw new Error(`no ${design} line starting "${part}"`);
  return found;
};

describe('metering increments', () => {
  test('API Gateway bills each started 32 KB of a frame', () => {
    expect(increments(0, 32 * 1024)).toBe(1);
    expect(increments(1, 32 * 1024)).toBe(1);
    expect(increments(32 * 1024, 32 * 1024)).toBe(1);
    expect(increments(32 * 1024 + 1, 32 * 1024)).toBe(2);
    expect(increments(128 * 1024, 32 * 1024)).toBe(4);
  });

  test('DynamoDB: writes per 1 KB, eventually consistent reads half a unit per 4 KB page', () => {
    expect(writeUnits(200)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
    expect(pageReadUnits(8000)).toBe(1); // 2 x 4 KB, halved
    expect(pageReadUnits(8000, false)).toBe(2);
    expect(pageReadUnits(0)).toBe(0.5); // an empty page still reads one unit
  });

  test('a Scan of 5,000 items of 200 B is one 1 MB page of 245 x 4 KB = 122.5 RRU', () => {
    expect(pagedReadUnits(5000, 200)).toEqual({ units: 122.5, pages: 1 });
  });

  test('a Scan larger than 1 MB rounds each page on its own', () => {
    // 1 MB / 1,000 B = 1,048 items a page; 3,000 items -> pages of 1,048, 1,048, 904.
    const perPage = Math.floor((1024 * 1024) / 1000);
    const expected =
      2 * (Math.ceil((perPage * 1000) / 4096) / 2) + Math.ceil(((3000 - 2 * perPage) * 1000) / 4096) / 2;
    expect(pagedReadUnits(3000, 1000)).toEqual({ units: expected, pages: 3 });
  });

  test('Express: duration up to 100 ms, memory up to 64 MB', () => {
    expect(expressGbSeconds(80, 64)).toBeCloseTo(0.1 * (64 / 1024), 12);
    expect(expressGbSeconds(101, 64)).toBeCloseTo(0.2 * (64 / 1024), 12);
    expect(expressGbSeconds(100, 65)).toBeCloseTo(0.1 * (128 / 1024), 12);
  });
});

describe('tiered prices', () => {
  test('API Gateway messages: 1.5 billion = 1e9 at $1/M + 0.5e9 at $0.80/M', () => {
    expect(tieredCost(1.5e9, PRICES.apigwWsMessages.tiers)).toBeCloseTo(1000 + 400, 6);
    expect(tieredCost(3e8, PRICES.apigwWsMessages.tiers)).toBeCloseTo(300, 6);
    expect(tieredCost(0, PRICES.apigwWsMessages.tiers)).toBe(0);
  });

  test('lines sharing a tiered price are priced on their sum and split by quantity', () => {
    const tiers = [
      { upTo: 10, usd: 1 },
      { upTo: Number.POSITIVE_INFINITY, usd: 0.5 },
    ];
    const prices = { ...UNIT_PRICES, lambdaRequests: { ...PRICES.lambdaRequests, tiers } } as PriceTable;
    const [a, b] = priceItems(
      [
        { service: 's', component: 'a', quantity: 10, priceId: 'lambdaRequests' },
        { service: 's', component: 'b', quantity: 10, priceId: 'lambdaRequests' },
      ],
      prices,
    );
    // 20 units: 10 x 1 + 10 x 0.5 = 15, split evenly.
    expect(a?.usd).toBeCloseTo(7.5, 12);
    expect(b?.usd).toBeCloseTo(7.5, 12);
  });
});

describe('fan-out chunk math', () => {
  test('room of 250: three keys at its key level, each one Query and one chunk', () => {
    const f = fanoutShape(250, SIMPLE);
    expect(f.keys).toBe(3);
    expect(f.pages).toBe(3);
    expect(f.chunks).toEqual([84, 83, 83]);
    // 84 posts at 50 in flight = 2 rounds of 20 ms + 10 ms.
    expect(f.deliverMs).toEqual([50, 50, 50]);
    // The keys side by side: each a Query of 10 ms, then one Map round: 20 ms hop + its chunk's 50 ms.
    expect(f.stateMachineMs).toBe(80);
    // 84 x 80 B = 6,720 B -> 2 x 4 KB, halved: 1 RRU a key.
    expect(f.queryReadUnits).toBe(3);
  });

  test('a room of up to 100 costs one Query and one chunk; a bigger one a key a hundred, twelve at most', () => {
    for (const room of [1, 2, 10, 100]) {
      const f = fanoutShape(room, SIMPLE);
      expect([f.keys, f.pages, f.chunks.length]).toEqual([1, 1, 1]);
      // One page of room x 80 B: 0.5 RRU a 4 KB, eventually consistent.
      expect(f.queryReadUnits).toBe(Math.ceil((room * SIMPLE.roomIndexItemBytes) / 4096) / 2);
    }
    expect(fanoutShape(101, SIMPLE).keys).toBe(2);
    expect(fanoutShape(5000, SIMPLE).keys).toBe(ROOM_INDEX_SHARDS);
    // Every key a room can have, as the lobby is read: each key's first Query, empty or not.
    expect(fanoutShape(3, SIMPLE, ROOM_INDEX_SHARDS).pages).toBe(ROOM_INDEX_SHARDS);
  });

  test("each key's pages: one Query per full page and one more after it; chunks never span a page", () => {
    for (const [room, chunk, page] of [
      [1, 100, 1000],
      [100, 100, 1000],
      [101, 100, 1000],
      [2500, 100, 1000],
      [5000, 40, 1000],
      [999, 7, 50],
    ] as const) {
      const f = fanoutShape(room, { ...SIMPLE, chunkSize: chunk, pageSize: page });
      let pages = 0;
      let chunks = 0;
      for (let key = 0; key < f.keys; key++) {
        const share = Math.floor(room / f.keys) + (key < room % f.keys ? 1 : 0);
        const full = Math.floor(share / page);
        pages += full + 1;
        chunks += full * Math.ceil(page / chunk) + Math.ceil((share - full * page) / chunk);
      }
      expect(f.pages).toBe(pages);
      expect(f.chunks.length).toBe(chunks);
      expect(f.chunks.reduce((s, n) => s + n, 0)).toBe(room);
    }
  });

  test('Map rounds are bounded by the Map concurrency', () => {
    // 1,000 members over 10 keys, chunks of 5 -> 20 chunks a key, 10 at once -> 2 rounds of (20 + 20) ms + 10 ms Query.
    const f = fanoutShape(1000, { ...SIMPLE, chunkSize: 5 });
    expect(f.keys).toBe(10);
    expect(f.chunks).toHaveLength(200);
    expect(deliverDuration(5, SIMPLE)).toBe(30);
    expect(f.stateMachineMs).toBe(10 + 2 * (20 + 30));
  });
});

describe('estimate, hand-computed with $1 per unit', () => {
  const workload: Workload = { roomSize: 3, messagesPerDay: 10, connections: 10, days: 1, messageBytes: 100 };
  const report = estimate(workload, SIMPLE, UNIT_PRICES);

  test('API Gateway: one inbound frame, one ack and one post per member per message', () => {
    expect(report.messagesPerMonth).toBe(10);
    expect(item(report, 'roomcast', 'inbound').quantity).toBe(10);
    expect(item(report, 'roomcast', 'ack').quantity).toBe(10);
    expect(item(report, 'roomcast', '@connections posts').quantity).toBe(30);
    expect(item(report, 'roomcast', 'connection minutes').quantity).toBe(10 * 1440);
  });

  test('Lambda, EventBridge, Step Functions per message: each message of a quiet room is a wake, an execution, a cycle', () => {
    expect(item(report, 'roomcast', 'SendMessage requests').quantity).toBe(10);
    // 3 members -> 1 chunk; one cycle per wake: the read of the room (Prepare) and the chunk.
    expect(item(report, 'roomcast', 'Deliver requests').quantity).toBe(20);
    // SendMessage 40 ms x 256 MB = 0.01 GB-s; Deliver 3 posts = 1 round: 30 ms x 512 MB; the read of the room:
    // 10 ms + the cursor's GetItem, the log's Query beside the seq's GetItem, the sleep's UpdateItem (3 x 10 ms).
    expect(item(report, 'roomcast', 'SendMessage duration').quantity).toBeCloseTo(10 * 0.04 * 0.25, 12);
    expect(item(report, 'roomcast', 'Deliver duration').quantity).toBeCloseTo(10 * (0.03 + 0.04) * 0.5, 12);
    // One SendMessage per wake, one ReceiveMessage and one DeleteMessageBatch per execution.
    expect(item(report, 'roomcast', 'FIFO fan-out queue').quantity).toBe(10 + 2 * 10);
    expect(item(report, 'roomcast', 'Pipes requests').quantity).toBe(10);
    expect(item(report, 'roomcast', 'MessageSent events').quantity).toBe(10);
    // The waker's PutEvents carries its RoomWake beside its MessageSent: one more entry per spell.
    expect(item(report, 'roomcast', 'RoomWake events').quantity).toBe(10);
    expect(item(report, 'roomcast', 'Express requests').quantity).toBe(10);
    // Prepare's hop 20 + its 40 ms + index 10 + Map round (20 + 30) + SaveCursor 10 = 130 ms -> 200 ms x 64 MB.
    expect(item(report, 'roomcast', 'Express duration').quantity).toBeCloseTo(10 * 0.2 * (64 / 1024), 12);
  });

  test("DynamoDB per cycle and per spell: the room's reads, SaveCursor, the sleep", () => {
    // Strong reads: the cursor (1), the room's seq (1), the log's Query of one 300 B message (1): 3 x 10.
    expect(item(report, 'roomcast', 'reads of the room').quantity).toBe(30);
    expect(item(report, 'roomcast', "the room's fan-out cursor (SaveCursor").quantity).toBe(10);
    // Each message's spell ends with one conditional UpdateItem on the room's 150 B item.
    expect(item(report, 'roomcast', 'sleep').quantity).toBe(10);
    expect(item(report, 'roomcast', 'hand-offs').quantity).toBe(0);
    expect(item(report, 'roomcast', 'fences').quantity).toBe(0);
    expect(item(report, 'roomcast', 'posting budget').quantity).toBe(10);
    expect(item(report, 'roomcast', 'Repost events').quantity).toBe(0);
  });

  test("DynamoDB: 4 WRU and 1.5 RRU per send, 0.5 RRU per read of a small room's one index key", () => {
    // Four standard writes of 1 WRU, no transaction: rate bucket, the room's seq (ADD), send record, message: 4 x 10.
    expect(item(report, 'roomcast', 'writes per send').quantity).toBe(40);
    // The connection, eventually consistent (0.5), and the clientMsgId's record, strongly consistent (1): 1.5 x 10.
    expect(item(report, 'roomcast', 'reads per send').quantity).toBe(15);
    // 10 messages, each batch reading the room's one key (a room of 3: one page, the minimum 0.5 RRU): 10 x 0.5.
    expect(item(report, 'roomcast', 'RoomSubscribers Query').quantity).toBe(5);
    // 10 connections x 24 h / 2 h sessions = 120 sessions, 1% stale, 2 WRU each
    expect(item(report, 'roomcast', 'pruning deletes').quantity).toBeCloseTo(2.4, 12);
  });

  test('with $1 per unit, each line costs its quantity and the total is their sum', () => {
    const d = report.designs.roomcast;
    for (const line of d.items) expect(line.usd).toBeCloseTo(line.quantity, 9);
    expect(d.totalUsd).toBeCloseTo(
      d.items.reduce((s, i) => s + i.quantity, 0),
      9,
    );
    expect(d.usdPerMillionMessages).toBeCloseTo((d.totalUsd / 10) * 1e6, 3);
  });

  test('tutorial: one Lambda scanning every connection, posting one at a time', () => {
    // 10 x 200 B = 2,000 B -> 1 x 4 KB -> 0.5 RRU per message; 20 + 30 + 3 x 20 = 110 ms at 256 MB.
    expect(item(report, 'tutorial', 'Scan').quantity).toBe(5);
    expect(item(report, 'tutorial', 'duration').quantity).toBeCloseTo(10 * 0.11 * 0.25, 12);
    expect(item(report, 'tutorial', '@connections posts').quantity).toBe(30);
    expect(report.designs.tutorial.items.some((i) => i.component.startsWith('ack'))).toBe(false);
  });

  test('AppSync Events: one publish and one operation per subscriber, plus connection minutes', () => {
    expect(item(report, 'appsync', 'publish').quantity).toBe(10);
    expect(item(report, 'appsync', 'outbound').quantity).toBe(30);
    expect(item(report, 'appsync', 'connection minutes').quantity).toBe(14400);
  });
});

describe('frame sizes and their increments', () => {
  test('frames grow byte for byte with the text', () => {
    const a = frameSizes(100);
    const b = frameSizes(200);
    expect(b.messageFrameBytes - a.messageFrameBytes).toBe(100);
    expect(b.inboundBytes - a.inboundBytes).toBe(100);
  });

  test('a frame over 32 KB bills two API Gateway messages per post; over 5 KB, two AppSync operations', () => {
    const w: Workload = { roomSize: 2, messagesPerDay: 1, connections: 2, days: 1, messageBytes: 33_000 };
    const r = estimate(w, SIMPLE, UNIT_PRICES);
    expect(item(r, 'roomcast', '@connections posts').quantity).toBe(2 * 2);
    expect(item(r, 'appsync', 'outbound').quantity).toBe(2 * Math.ceil(r.frames.messageFrameBytes / 5120));
    const small = estimate({ ...w, messageBytes: 6000 }, SIMPLE, UNIT_PRICES);
    expect(item(small, 'roomcast', '@connections posts').quantity).toBe(2);
    expect(item(small, 'appsync', 'outbound').quantity).toBe(2 * 2);
  });
});

describe('scaling', () => {
  // Busier rooms coalesce more (coalescing.test.ts); here every message is its own fan-out.
  // No read finds a seq being stored either: one wake per message, so every fan-out line is linear too.
  const PER_MESSAGE: Assumptions = { ...DEFAULT_ASSUMPTIONS, coalescing: false, takeToStoreMs: 0 };

  test('per-message lines are linear in messages per day', () => {
    const one = estimate(DEFAULT_WORKLOAD, PER_MESSAGE, UNIT_PRICES);
    const two = estimate({ ...DEFAULT_WORKLOAD, messagesPerDay: 2 * DEFAULT_WORKLOAD.messagesPerDay });
    const twoUnit = estimate(
      { ...DEFAULT_WORKLOAD, messagesPerDay: 2 * DEFAULT_WORKLOAD.messagesPerDay },
      PER_MESSAGE,
      UNIT_PRICES,
    );
    for (const design of ['roomcast', 'tutorial', 'appsync'] as const) {
      one.designs[design].items.forEach((line, i) => {
        const doubled = twoUnit.designs[design].items[i]?.quantity ?? Number.NaN;
        if (/connection minutes|pruning|custom metrics/.test(line.component))
          expect(doubled).toBe(line.quantity);
        // X-Ray records the first request of each second, then a share of the rest: less than linear.
        else if (/traces recorded/.test(line.component)) {
          expect(doubled).toBeGreaterThan(line.quantity);
          expect(doubled).toBeLessThanOrEqual(2 * line.quantity);
        } else expect(doubled).toBeCloseTo(2 * line.quantity, 6);
      });
    }
    expect(two.designs.roomcast.totalUsd).toBeGreaterThan(0);
  });

  test('counts logs per invocation, traces by X-Ray sampling and the custom metrics at the template settings', () => {
    const month = 30 * 86_400;
    // Below one traced request a second, every one is recorded; above, the reservoir plus 5% of the rest.
    const quiet = estimate(
      { ...DEFAULT_WORKLOAD, messagesPerDay: 1_000, days: 30 },
      DEFAULT_ASSUMPTIONS,
      UNIT_PRICES,
    );
    // SendMessage's and its execution's: a quiet room's message is one execution.
    expect(item(quiet, 'roomcast', 'traces recorded').quantity).toBeCloseTo(2 * 1_000 * 30, 0);
    const busy = estimate(
      { ...DEFAULT_WORKLOAD, messagesPerDay: 1_000_000, days: 30 },
      PER_MESSAGE,
      UNIT_PRICES,
    );
    expect(item(busy, 'roomcast', 'traces recorded').quantity).toBeCloseTo(
      month + (2 * 30_000_000 - month) * 0.05,
      3,
    );
    const logs = item(busy, 'roomcast', 'ingestion');
    // SendMessage, and per batch (one message, quiet rooms) Prepare and the chunks.
    const invocations = 1 + 1 + Math.ceil(DEFAULT_WORKLOAD.roomSize / DEFAULT_ASSUMPTIONS.chunkSize);
    expect(logs.quantity).toBeCloseTo(
      (30_000_000 * invocations * DEFAULT_ASSUMPTIONS.logBytesPerInvocation) / 1024 ** 3,
      6,
    );
    expect(item(busy, 'roomcast', 'custom metrics').quantity).toBe(DEFAULT_ASSUMPTIONS.customMetrics);
  });

  test("Deliver invocations: a quiet room's message takes Prepare and one per chunk", () => {
    // 1,000 messages a day in one room: its cycles almost all start in an idle room.
    const quiet = { messagesPerDay: 1_000, days: 30, rooms: 1, messageBytes: 200 };
    const perMessage = (roomSize: number) => {
      const r = estimate({ ...quiet, roomSize, connections: roomSize }, DEFAULT_ASSUMPTIONS, UNIT_PRICES);
      return item(r, 'roomcast', 'Deliver requests').quantity / r.messagesPerMonth;
    };
    expect(perMessage(DEFAULT_ASSUMPTIONS.chunkSize)).toBeCloseTo(2, 2);
    // One more member than a chunk: Prepare and two chunks.
    expect(perMessage(DEFAULT_ASSUMPTIONS.chunkSize + 1)).toBeCloseTo(3, 2);
  });

  test('a chunk too big for one shard of the posting budget writes every shard: the budget line counts them', () => {
    const quiet = {
      messagesPerDay: 1_000,
      days: 30,
      rooms: 1,
      messageBytes: 200,
      roomSize: 12_000,
      connections: 12_000,
    };
    const perCycle = (chunkSize: number) => {
      const r = estimate(
        quiet,
        { ...DEFAULT_ASSUMPTIONS, chunkSize, postingBudgetPerSecond: 8000 },
        UNIT_PRICES,
      );
      return Number(/\((\d+) WRU per cycle\)/.exec(item(r, 'roomcast', 'posting budget').component)?.[1]);
    };
    // 12 keys of 1,000 members: 120 chunks of 100 posts, one shard each.
    expect(perCycle(100)).toBe(120);
    // A chunk of 1,000 posts a key: an even part in each of the budget's 16 shards of 500, 12 times.
    expect(perCycle(1000)).toBe(12 * 16);
  });

  test('roomcast Query reads grow with the room; tutorial Scan reads grow with all connections', () => {
    const base = estimate({ ...DEFAULT_WORKLOAD, roomSize: 10 }, SIMPLE, UNIT_PRICES);
    const moreConnections = estimate(
      { ...DEFAULT_WORKLOAD, roomSize: 10, connections: 4 * DEFAULT_WORKLOAD.connections },
      SIMPLE,
      UNIT_PRICES,
    );
    expect(item(moreConnections, 'roomcast', 'RoomSubscribers Query').quantity).toBe(
      item(base, 'roomcast', 'RoomSubscribers Query').quantity,
    );
    expect(item(moreConnections, 'tutorial', 'Scan').quantity).toBeGreaterThan(
      3.9 * item(base, 'tutorial', 'Scan').quantity,
    );
  });

  test('the tutorial design is flagged when its sequential posts exceed Lambda’s 15 minutes', () => {
    const r = estimate({ ...DEFAULT_WORKLOAD, roomSize: 50_000, connections: 50_000 }, SIMPLE, UNIT_PRICES);
    expect(r.designs.tutorial.notes.some((n) => n.includes('cannot deliver'))).toBe(true);
    const ok = estimate(DEFAULT_WORKLOAD, SIMPLE, UNIT_PRICES);
    expect(ok.designs.tutorial.notes.some((n) => n.includes('cannot deliver'))).toBe(false);
  });

  test('rejects impossible workloads', () => {
    expect(() => estimate({ ...DEFAULT_WORKLOAD, roomSize: 0 })).toThrow(RangeError);
    expect(() => estimate({ ...DEFAULT_WORKLOAD, connections: 10, roomSize: 100 })).toThrow(RangeError);
    expect(() => estimate({ ...DEFAULT_WORKLOAD, messagesPerDay: Number.NaN })).toThrow(RangeError);
  });
});

describe('cli', () => {
  test('reads fan-out tuning and memory sizes from template.yaml', () => {
    const path = join(__dirname, '../../template.yaml');
    const text = readFileSync(path, 'utf8');
    // The constant as written in template.yaml's Mappings.Deploy.Settings, e.g. `      FanoutChunkSize: '100'`.
    const defaultOf = (name: string) => Number(new RegExp(`\\n      ${name}: '(\\d+)'`).exec(text)?.[1]);
    const fromTemplate = templateAssumptions(path);
    expect(fromTemplate.chunkSize).toBe(defaultOf('FanoutChunkSize'));
    expect(fromTemplate.maxConcurrency).toBe(defaultOf('FanoutMaxConcurrency'));
    expect(fromTemplate.pageSize).toBe(defaultOf('FanoutPageSize'));
    expect(fromTemplate.chunkSize).toBeGreaterThan(0);
    expect(fromTemplate.deliverMemoryMb).toBeGreaterThan(0);
  });

  // FanoutPostsPerSecond is a runtime setting now (the settings document, functions/platform/settingsSchema.ts), no
  // longer a template value: the model costs its default, and an operator who changed it says so with --posting-budget.
  test("reads the posting budget from the FanoutPostsPerSecond setting's default; --posting-budget replaces it", () => {
    const path = join(__dirname, '../../template.yaml');
    const declared = SETTINGS.FanoutPostsPerSecond.default;
    expect(declared).toBeGreaterThan(0);
    expect(templateAssumptions(path).postingBudgetPerSecond).toBe(declared);
    expect(DEFAULT_ASSUMPTIONS.postingBudgetPerSecond).toBe(declared);
    // One source: template.yaml declares no second value for it.
    expect(readFileSync(path, 'utf8')).not.toMatch(/^\s*FanoutPostsPerSecond:/m);
    expect(parseCli(['--posting-budget', '4000']).overrides.postingBudgetPerSecond).toBe(4000);
  });

  test("reads the pipe's batch from the FanoutPipe's BatchSize, and names it when a template lacks it", () => {
    const path = join(__dirname, '../../template.yaml');
    const source = readFileSync(path, 'utf8');
    const declared = Number(/SqsQueueParameters: \{BatchSize: (\d+)\}/.exec(source)?.[1]);
    expect(declared).toBeGreaterThan(0);
    expect(templateAssumptions(path).pipeBatchSize).toBe(declared);
    const dir = mkdtempSync(join(tmpdir(), 'cost-template-'));
    try {
      const changed = join(dir, 'changed.yaml');
      writeFileSync(
        changed,
        source.replace(/SqsQueueParameters: \{BatchSize: \d+\}/, 'SqsQueueParameters: {}'),
      );
      expect(() => templateAssumptions(changed)).toThrow(
        /FanoutPipe\.Properties\.SourceParameters\.SqsQueueParameters\.BatchSize/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('--queue-per-event costs the fan-out with every event queued, and the output says which', () => {
    expect(parseCli([]).overrides.fanoutQueue).toBeUndefined();
    expect(parseCli(['--queue-per-event']).overrides.fanoutQueue).toBe('events');
    const wakes = render(estimate(DEFAULT_WORKLOAD, DEFAULT_ASSUMPTIONS));
    expect(wakes).toMatch(/fan-out queue: wakes: per message 1\.000 wakes/);
    expect(wakes).toContain('RoomWake events');
    const queued = render(estimate(DEFAULT_WORKLOAD, { ...DEFAULT_ASSUMPTIONS, fanoutQueue: 'events' }));
    expect(queued).toContain('fan-out queue: every event');
    expect(queued).not.toContain('RoomWake events');
  });

  test("puts the three designs' monthly totals on the report's first screen, before the tables they add up", () => {
    const lines = render(estimate(DEFAULT_WORKLOAD, DEFAULT_ASSUMPTIONS)).split('\n');
    const summary = lines.findIndex((line) => line.startsWith('summary (USD per month'));
    const totals = lines.slice(summary + 1, summary + 4).map((line) => line.trim().split(/\s+/).slice(0, 2));
    expect(totals.map(([design]) => design)).toEqual(['roomcast', 'tutorial', 'appsync']);
    for (const [, usd] of totals) expect(usd).toMatch(/^\$[\d,]+\.\d\d$/);
    // A terminal of 24 rows shows the answer without scrolling back through the ~180 lines.
    expect(summary).toBeGreaterThan(0);
    expect(summary + 3).toBeLessThan(24);
    const firstTable = lines.findIndex((line) => /^\s+service\s+component/.test(line));
    expect(firstTable).toBeGreaterThan(summary + 3);
  });

  test('names the deploy-time constant a template lacks', () => {
    const source = readFileSync(join(__dirname, '../../template.yaml'), 'utf8');
    const dir = mkdtempSync(join(tmpdir(), 'cost-template-'));
    try {
      const changed = join(dir, 'changed.yaml');
      writeFileSync(changed, source.replace(/\n {6}FanoutPageSize: '\d+'/, ''));
      expect(() => templateAssumptions(changed)).toThrow(/Mappings\.Deploy\.Settings\.FanoutPageSize/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('parses the documented flags and renders every design', () => {
    const hot = parseCli(['--room-size', '100', '--messages-per-second', '5', '--hot-rooms', '2']);
    expect(hot.workload).toMatchObject({
      roomSize: 100,
      rooms: 2,
      messagesPerDay: 5 * 2 * 86_400,
      connections: 200,
    });
    expect(() => parseCli(['--messages-per-second', '5', '--messages-per-day', '10'])).toThrow(/replaces/);
    expect(() => parseCli(['--hot-rooms', '2'])).toThrow(/messages-per-second/);
    const args = parseCli(['--room-size', '100', '--messages-per-day', '100000', '--connections', '5000']);
    expect(args.workload).toMatchObject({ roomSize: 100, messagesPerDay: 100000, connections: 5000 });
    expect(() => parseCli(['--room-size', 'ten'])).toThrow(/room-size/);
    expect(() => parseCli(['--room-size', '100', '--connections', '10'])).toThrow(/connections/);
    const text = render(estimate(args.workload, SIMPLE));
    for (const word of ['roomcast', 'tutorial', 'AppSync', 'total', 'assumptions'])
      expect(text).toContain(word);
  });
});

test('prices as many custom metrics as roomcast emits', () => {
  const asl = readFileSync(join(__dirname, '../../statemachines/fanout.asl.json'), 'utf8');
  const emitted = new Set([
    ...Object.values(METRIC),
    ...[...asl.matchAll(/"MetricName": "(\w+)"/g)].map((m) => m[1]),
  ]);
  expect(DEFAULT_ASSUMPTIONS.customMetrics).toBe(emitted.size);
});
