import type { LocalCloud } from '../../tools/local/cloud';
import { LAMBDA_LIMITS_WITH_LATENCIES } from '../../tools/local/lambda/service';
import type { ChatClient } from '../helpers/chatClient';
import { auditRoom, type CloudTables, cloudTables, DeliveryChecker } from '../helpers/deliveryChecker';
import { startTestCloud, type TestCloud } from '../helpers/localCloud';
import { closeAll, closeFaultCloud, connectMany, recordFigures, roomWith, sendWithRetry } from './world';

/**
 * What a member notices when DynamoDB misbehaves: a share of calls throttled, a share of writes meeting another
 * transaction. One local cloud for the file, apart from faults.faults.ts so that the two files run at once; every
 * test uses its own room and turns its fault off whatever happens.
 */
// Generous: a send under a fault may wait out the gateway's 29 s integration timeout more than once on a loaded
// machine; the timeout only ends a test that is stuck.
jest.setTimeout(300_000);

let testCloud: TestCloud;
let cloud: LocalCloud;
let tables: CloudTables;
const open: ChatClient[] = [];

beforeAll(async () => {
  testCloud = await startTestCloud({
    // faultDynamoThrottle: 0 puts the fault proxy in front of dynalite, switched on by each test in turn.
    faultDynamoThrottle: 0,
    // An invocation under these faults mostly sleeps in its SDK's backoff (a throttled call waits up to a second
    // before its retry), as one waits on AWS's latencies: the local Lambda service's bounds for that case (four
    // environments per core) overlap the sleeps, as AWS's concurrency does, instead of queueing every send behind
    // two sleeping ones. What the tests count (stored, acked, delivered) is the same either way.
    lambdaLimits: LAMBDA_LIMITS_WITH_LATENCIES,
  });
  cloud = testCloud.cloud;
  tables = cloudTables(cloud);
});

afterAll(() => closeFaultCloud(testCloud, open, tables));

afterEach(async () => {
  await closeAll(open.splice(0));
});

async function crowd(prefix: string, count: number): Promise<ChatClient[]> {
  const clients = await connectMany(cloud.wsUrl, prefix, count);
  open.push(...clients);
  return clients;
}

/**
 * Thirty sends with retries from six members of one room while DynamoDB answers a share of requests with a fault
 * (`inject` sets the share, 0 turns it off); then the room's deliveries are checked and its seqs audited.
 */
async function sendsUnderDynamoFault(name: string, inject: (share: number) => void, share: number) {
  const checker = new DeliveryChecker();
  const members = await crowd(name, 6);
  const roomId = await roomWith(members, checker);
  const before = cloud.dynamoFaultStats();
  inject(share);
  // Every write of an attempt (the frame count, the send token, the transaction) meets the fault, so an attempt
  // succeeds with (1 - share)^3 or so: 40 attempts keep a send from running out of them by chance. The fault is
  // turned off whatever happens, so the tests after this one run without it.
  const outcomes = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      sendWithRetry(members[i % members.length] as ChatClient, `${name} ${i}`, `${name}-${i}`, {
        maxAttempts: 40,
      }),
    ),
  ).finally(() => inject(0));
  const after = cloud.dynamoFaultStats();
  for (const o of outcomes) checker.sent(o.ack);
  await testCloud.settle();
  await checker.fillGaps();
  return {
    members,
    outcomes,
    requests: after.requests - before.requests,
    throttled: after.throttled - before.throttled,
    conflicts: after.conflicts - before.conflicts,
    errorFrames: outcomes.reduce((n, o) => n + o.errors.length, 0),
    report: checker.report(),
    audit: await auditRoom(tables, roomId),
  };
}

type DynamoFaultRun = Awaited<ReturnType<typeof sendsUnderDynamoFault>>;

/** What a run records beside its fault's own count: the sends, what members saw and the seqs the attempts took. */
function runFigures({ members, outcomes, requests, errorFrames, report, audit }: DynamoFaultRun) {
  return {
    members: members.length,
    sends: outcomes.length,
    dynamoRequests: requests,
    errorFrames,
    messages: report.messages,
    deliveries: report.deliveries,
    lost: report.lost,
    duplicated: report.duplicated,
    filledByHistory: report.filledByHistory,
    failedExecutions: cloud.executions().failed,
    seqsConsumed: audit.seq,
    seqsWithoutMessage: audit.missing.length + audit.gaps.length,
  };
}

/**
 * Whatever was refused and retried: thirty messages under thirty seqs, each stored once; a seq an attempt took and
 * could not store is a gap (history and clients skip it), never a seq anyone was acked.
 */
function expectThirtyStoredOnce({ outcomes, report, audit }: DynamoFaultRun): void {
  const acked = new Set(outcomes.map((o) => o.ack.seq));
  expect(acked.size).toBe(30);
  expect([...audit.missing, ...audit.gaps].filter((seq) => acked.has(seq))).toEqual([]);
  expect(audit.stored).toBe(30);
  expect(report.problems).toEqual([]);
}

test('with DynamoDB throttling a share of calls, no message is half-written and nothing is lost', async () => {
  const run = await sendsUnderDynamoFault('dyn', (share) => cloud.setFaultDynamoThrottle(share), 0.3);
  recordFigures('DynamoDB throttling (30% of requests)', { ...runFigures(run), throttled: run.throttled });
  expect(run.throttled).toBeGreaterThan(0);
  expectThirtyStoredOnce(run);
  expect(run.report.ackedButNotStored).toBe(0);
}, 240_000);

test('with a share of writes meeting another transaction (TransactionConflict), every send is stored once and delivered once', async () => {
  const run = await sendsUnderDynamoFault('conflict', (share) => cloud.setFaultDynamoConflict(share), 0.4);
  recordFigures('DynamoDB transaction conflicts (40% of writes)', {
    ...runFigures(run),
    conflicts: run.conflicts,
  });
  expect(run.conflicts).toBeGreaterThan(0);
  expectThirtyStoredOnce(run);
  expect(run.report.deliveries).toBe(6 * 30);
}, 240_000);
