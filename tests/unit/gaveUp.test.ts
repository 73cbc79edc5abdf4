import type { DynamoFanoutStore } from '../../functions/domain/fanout/dynamoFanout';
import type { Restart } from '../../functions/domain/fanout/restarts';
import type { ChatEvent } from '../../functions/domain/ports';
import { type FanoutTables, startFanoutTables } from '../helpers/fanoutTables';

/**
 * A room's newest event whose successor executions ran out (MAX_RESTARTS, restarts.ts) is not delivered live until
 * the room's next event: the operator is told by a FanoutGaveUp count of 1 for that event, which the
 * FanoutGaveUpAlarm watches, not only by a log line. Observed as CloudWatch sees it: the EMF lines Powertools writes.
 */
type HandOver = typeof import('../../functions/deliver/handOver');
type Sweep = typeof import('../../functions/deliver/sweep');
type Powertools = typeof import('../../functions/platform/powertools');
type Restarts = typeof import('../../functions/domain/fanout/restarts');
let handOver: HandOver;
let sweeping: Sweep;
let powertools: Powertools;
let MAX_RESTARTS: number;
const written: string[] = [];

beforeAll(() => {
  // Unit tests keep metrics off (tests/setup/env.ts); this file is about one. The modules are loaded afresh so
  // that the deliver code and this file share the metrics instance created with them on.
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  jest.isolateModules(() => {
    handOver = require('../../functions/deliver/handOver') as HandOver;
    sweeping = require('../../functions/deliver/sweep') as Sweep;
    powertools = require('../../functions/platform/powertools') as Powertools;
    MAX_RESTARTS = (require('../../functions/domain/fanout/restarts') as Restarts).MAX_RESTARTS;
  });
});
afterAll(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
});

beforeEach(() => {
  written.length = 0;
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
});
afterEach(() => jest.restoreAllMocks());

/** Flushes what the invocation counted, as the middleware does at its end: FanoutGaveUp's values, one per flush. */
function flushedGaveUp(): number[] {
  written.length = 0;
  powertools.metrics.publishStoredMetrics();
  return written
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((doc) => 'FanoutGaveUp' in doc)
    .map((doc) => {
      expect(doc.service).toBe('roomcast');
      return doc.FanoutGaveUp as number;
    });
}

function recordingPublisher(): { publish(events: ChatEvent[]): Promise<void>; published: ChatEvent[] } {
  const published: ChatEvent[] = [];
  return {
    published,
    publish: async (events) => {
      published.push(...events);
    },
  };
}

describe('restartAfterFailure', () => {
  const message = {
    roomId: 'R1',
    seq: 7,
    messageId: 'm-7',
    username: 'alice',
    text: 'hello',
    sentAt: '2026-01-01T00:00:00.000Z',
  };
  const store = { messages: async () => [message] } as unknown as DynamoFanoutStore;

  async function afterFailure(restart: Restart) {
    const publisher = recordingPublisher();
    const started = await handOver.restartAfterFailure({ publisher, store }, 'R1', restart);
    return { started, published: publisher.published, gaveUp: flushedGaveUp() };
  }

  it('counts FanoutGaveUp once when the newest event has had its restarts, and starts no successor', async () => {
    expect(await afterFailure({ gaveUpSeq: 7, firstGiveUp: true })).toEqual({
      started: false,
      published: [],
      gaveUp: [1],
    });
  });

  it('counts nothing when a successor is started: the message is still on its way', async () => {
    const { started, published, gaveUp } = await afterFailure({ pendingSeq: 7 });
    expect(started).toBe(true);
    expect(published).toMatchObject([{ type: 'FanoutHandOver', roomId: 'R1', seq: 7 }]);
    expect(gaveUp).toEqual([]);
  });

  it('does not count the same event again when another of its executions fails after the give-up', async () => {
    expect(await afterFailure({ gaveUpSeq: 7 })).toEqual({ started: false, published: [], gaveUp: [] });
  });
});

describe('a room whose claims fail forever, through the minute sweep', () => {
  // The fan-out's store and sweep count nothing themselves: the deliver code loaded above does.
  let t: FanoutTables;

  beforeAll(async () => {
    t = await startFanoutTables();
  });
  afterAll(async () => {
    await t.tables.close();
  });

  /** A claim of the newest event failing past its retries, then the next minute's sweep: what it counted. */
  async function claimFailsThenSweep(
    roomId: string,
    execution: string,
    publisher: ReturnType<typeof recordingPublisher>,
  ) {
    const now = Date.now();
    await t.store.afterFailedClaim(roomId, execution, now);
    await sweeping.sweepStrandedRooms({ sweep: t.sweep, store: t.store, publisher, now: () => now + 60_000 });
    return flushedGaveUp();
  }

  it('counts FanoutGaveUp = 1 at the sweep that gives up, and again only for the next event given up', async () => {
    await t.roomWithMessage('FOREVER');
    const publisher = recordingPublisher();
    const counted: number[][] = [];
    for (let n = 0; n < MAX_RESTARTS + 3; n++)
      counted.push(await claimFailsThenSweep('FOREVER', `exec-${n}`, publisher));
    // MAX_RESTARTS successors were started, then the give-up was counted once and only once.
    expect(publisher.published.filter((e) => e.type === 'FanoutHandOver')).toHaveLength(MAX_RESTARTS);
    expect(counted).toEqual([...Array(MAX_RESTARTS).fill([]), [1], [], []]);
    // The room's next event has restarts of its own; its give-up is counted as another.
    await t.nextEvent('FOREVER', 1);
    const next: number[][] = [];
    for (let n = 0; n <= MAX_RESTARTS; n++)
      next.push(await claimFailsThenSweep('FOREVER', `next-${n}`, publisher));
    expect(next.flat()).toEqual([1]);
  });
});
