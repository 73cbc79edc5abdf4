import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoFanoutStore } from '../../functions/domain/fanout/dynamoFanout';
import type { DynamoLeaseSweep } from '../../functions/domain/fanout/leaseSweep';
import type { Restart } from '../../functions/domain/fanout/restarts';
import type { ChatEvent } from '../../functions/domain/ports';
import { takeSeqAndPut } from '../../functions/platform/aws/roomEvents';
import { startTemplateTables, type TemplateTables } from '../helpers/templateTables';

/**
 * A room's newest event whose successor executions ran out (MAX_RESTARTS, restarts.ts) is not delivered live until
 * the room's next event: the operator is told by a FanoutGaveUp count of 1 for that event, which the
 * FanoutGaveUpAlarm watches, not only by a log line. Observed as CloudWatch sees it: the EMF lines Powertools writes.
 */
type HandOver = typeof import('../../functions/deliver/handOver');
type Sweep = typeof import('../../functions/deliver/sweep');
type Powertools = typeof import('../../functions/platform/powertools');
type Fanout = typeof import('../../functions/domain/fanout/dynamoFanout');
type LeaseSweep = typeof import('../../functions/domain/fanout/leaseSweep');
type Restarts = typeof import('../../functions/domain/fanout/restarts');
let handOver: HandOver;
let sweeping: Sweep;
let powertools: Powertools;
let fanout: Fanout;
let leaseSweep: LeaseSweep;
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
    fanout = require('../../functions/domain/fanout/dynamoFanout') as Fanout;
    leaseSweep = require('../../functions/domain/fanout/leaseSweep') as LeaseSweep;
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
  let tables: TemplateTables;
  let store: DynamoFanoutStore;
  let sweep: DynamoLeaseSweep;
  let rooms: string;

  beforeAll(async () => {
    tables = await startTemplateTables();
    rooms = tables.table('RoomsTable');
    store = new fanout.DynamoFanoutStore(tables.db, {
      rooms,
      messages: tables.table('MessagesTable'),
      connections: tables.table('ConnectionsTable'),
      roomIndex: 'RoomIndex',
      limits: tables.table('LimitsTable'),
      leaseIndex: 'LeaseIndex',
    });
    sweep = new leaseSweep.DynamoLeaseSweep(tables.db, { rooms, leaseIndex: 'LeaseIndex' });
  });
  afterAll(async () => {
    await tables.close();
  });

  /** The room's event `seq` through the send path's own writes. */
  async function sendEvent(roomId: string, seq: number): Promise<void> {
    const event = { roomId, seq, messageId: `m-${roomId}-${seq}`, sentAt: new Date().toISOString() };
    const names = { rooms, messages: tables.table('MessagesTable'), sends: tables.table('SendsTable') };
    const ttl = Math.floor(Date.now() / 1000) + 3600;
    await tables.db.send(
      new TransactWriteCommand({ TransactItems: takeSeqAndPut(names, event, seq - 1, ttl) }),
    );
  }

  /** A claim of the newest event failing past its retries, then the next minute's sweep: what it counted. */
  async function claimFailsThenSweep(
    roomId: string,
    execution: string,
    publisher: ReturnType<typeof recordingPublisher>,
  ) {
    const now = Date.now();
    await store.afterFailedClaim(roomId, execution, now);
    await sweeping.sweepStrandedRooms({ sweep, store, publisher, now: () => now + 60_000 });
    return flushedGaveUp();
  }

  it('counts FanoutGaveUp = 1 at the sweep that gives up, and again only for the next event given up', async () => {
    await tables.db.send(new PutCommand({ TableName: rooms, Item: { roomId: 'FOREVER', seq: 0 } }));
    await sendEvent('FOREVER', 1);
    const publisher = recordingPublisher();
    const counted: number[][] = [];
    for (let n = 0; n < MAX_RESTARTS + 3; n++)
      counted.push(await claimFailsThenSweep('FOREVER', `exec-${n}`, publisher));
    // MAX_RESTARTS successors were started, then the give-up was counted once and only once.
    expect(publisher.published.filter((e) => e.type === 'FanoutHandOver')).toHaveLength(MAX_RESTARTS);
    expect(counted).toEqual([...Array(MAX_RESTARTS).fill([]), [1], [], []]);
    // The room's next event has restarts of its own; its give-up is counted as another.
    await sendEvent('FOREVER', 2);
    const next: number[][] = [];
    for (let n = 0; n <= MAX_RESTARTS; n++)
      next.push(await claimFailsThenSweep('FOREVER', `next-${n}`, publisher));
    expect(next.flat()).toEqual([1]);
  });
});
