import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { settleDeparture } from '#core/identity/departure';
import { LEAVE_GRACE_SECONDS, RECONNECTS_PER_SECOND, STORM_DISCONNECTS } from '#core/identity/grace';
import type { ChatEvent, Subscribed } from '#core/ports';
import { type ExecutionSummary, LocalStateMachine } from '../../tools/local/stepfunctions';

/**
 * The departure machine as template.yaml deploys it (statemachines/departure.asl.json) in the local Step Functions,
 * its settle step the product's settleDeparture (docs/DECISIONS.md, "The reconnect storm"): in a storm the grace
 * stretches by the reconnect backlog's drain, so a person back after 5 s but within the storm tells its rooms no
 * leave; outside a storm the grace is 5 s. Time is Jest's fake clock (the machine's Waits and the settle's window of
 * counters both read it): pauses are counted, not timed.
 */
const DELIVER = 'arn:aws:lambda:us-east-1:123456789012:function:deliver';
const definition = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'statemachines', 'departure.asl.json'), 'utf8').replace(
    /\$\{DeliverFunctionArn\}/g,
    DELIVER,
  ),
);
const CLOSED_AT = Date.UTC(2026, 10, 29, 1, 0, 0, 200);
const ROOMS: Subscribed[] = [{ roomId: 'R1', username: 'ann' }];

/**
 * A departure of Ann from room R1 at CLOSED_AT, with `closes` counted at that second, and Ann back on another device
 * `backAfterSeconds` later (never when undefined); its machine starts `startAfterSeconds` after the close (its start
 * throttled and retried by rule LeaveRooms). Returns the leaves told and how the execution ends.
 */
function departure(closes: number, backAfterSeconds?: number, startAfterSeconds = 0) {
  const leaves: unknown[] = [];
  let back = false;
  if (backAfterSeconds !== undefined)
    setTimeout(() => {
      back = true;
    }, backAfterSeconds * 1000);
  const counts = new Map([[Math.floor(CLOSED_AT / 1000), closes]]);
  const deps = {
    people: { roomsOf: async () => (back ? ROOMS : []) },
    events: {
      publish: async (events: ChatEvent[]) => {
        for (const e of events) leaves.push(JSON.parse((e as { payload: string }).payload));
      },
    },
    storm: {
      counts: { read: async (seconds: readonly number[]) => seconds.map((s) => counts.get(s) ?? 0) },
      now: () => new Date(),
    },
  };
  const machine = new LocalStateMachine(
    'departure',
    definition,
    {
      dynamodb: {} as DynamoDBClient,
      invokeFunction: async (arn, payload) => {
        expect(arn).toBe(DELIVER);
        return settleDeparture(deps, (payload as { departure: unknown }).departure);
      },
    },
    { type: 'EXPRESS' },
  );
  let summary: ExecutionSummary | undefined;
  const done = new Promise<void>((resolve) => setTimeout(resolve, startAfterSeconds * 1000))
    .then(() =>
      machine.execute({
        type: 'Departed',
        messageId: 'd1',
        userId: 'user:ann',
        rooms: ROOMS,
        waitSeconds: LEAVE_GRACE_SECONDS,
        closedAt: CLOSED_AT,
      }),
    )
    .then((s) => {
      summary = s;
      return s;
    });
  return { leaves, ended: () => summary !== undefined, done };
}

/** Moves the fake clock to `seconds` after the close. */
const at = (seconds: number) => jest.advanceTimersByTimeAsync(CLOSED_AT + seconds * 1000 - Date.now());

beforeEach(() => {
  jest.useFakeTimers({ now: CLOSED_AT });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('in a reconnect storm of 20,000 closes', () => {
  const STORM = 20_000;
  /** The drain at API Gateway's 500 connections/s: the grace's stretch. */
  const drain = STORM / RECONNECTS_PER_SECOND;

  it('a person back after the 5 s grace but within the storm tells the room no leave', async () => {
    const run = departure(STORM, 30);
    await at(LEAVE_GRACE_SECONDS + 1);
    expect(run.ended()).toBe(false);
    expect(run.leaves).toEqual([]);
    await at(LEAVE_GRACE_SECONDS + drain + 1);
    const summary = await run.done;
    expect(summary).toMatchObject({ ok: true });
    expect(summary.states).toContain('WaitOutStorm');
    expect(run.leaves).toEqual([]);
  });

  it('a person who really left is told gone once the stretched grace has run, later by the drain', async () => {
    const run = departure(STORM);
    await at(LEAVE_GRACE_SECONDS + drain - 1);
    expect(run.leaves).toEqual([]);
    await at(LEAVE_GRACE_SECONDS + drain + 1);
    expect((await run.done).ok).toBe(true);
    expect(run.leaves).toMatchObject([{ roomId: 'R1', username: 'ann', event: 'leave' }]);
  });
});

describe("a storm's departure whose start was throttled, started late by the rule's retries", () => {
  const STORM = 20_000;
  const drain = STORM / RECONNECTS_PER_SECOND;
  /** The latest start of a 20,000 storm's departures in the model (`--model presence`), rounded up. */
  const LATE = 18;

  it('still tells no leave to a person back within the storm: the stretch counts from the close', async () => {
    const run = departure(STORM, LEAVE_GRACE_SECONDS + drain - 2, LATE);
    await at(LATE + LEAVE_GRACE_SECONDS + 1);
    expect(run.leaves).toEqual([]);
    await at(LEAVE_GRACE_SECONDS + drain + 1);
    const summary = await run.done;
    expect(summary.states).toContain('WaitOutStorm');
    expect(run.leaves).toEqual([]);
  });

  it('tells a person who really left gone at the same time as a departure started on time', async () => {
    const run = departure(STORM, undefined, LATE);
    await at(LEAVE_GRACE_SECONDS + drain - 1);
    expect(run.leaves).toEqual([]);
    await at(LEAVE_GRACE_SECONDS + drain + 1);
    expect((await run.done).ok).toBe(true);
    expect(run.leaves).toMatchObject([{ roomId: 'R1', username: 'ann', event: 'leave' }]);
  });

  it('started after the stretch has run, it settles at its grace without waiting again', async () => {
    const run = departure(STORM, undefined, drain + 10);
    await at(drain + 10 + LEAVE_GRACE_SECONDS + 1);
    const summary = await run.done;
    expect(summary.states).not.toContain('WaitOutStorm');
    expect(run.leaves).toMatchObject([{ roomId: 'R1', username: 'ann', event: 'leave' }]);
  });
});

describe('without a storm', () => {
  it('the grace is 5 s: a person back after it is told a leave, at the grace', async () => {
    const run = departure(STORM_DISCONNECTS, 30);
    await at(LEAVE_GRACE_SECONDS + 1);
    const summary = await run.done;
    expect(summary.states).not.toContain('WaitOutStorm');
    expect(run.leaves).toMatchObject([{ roomId: 'R1', username: 'ann', event: 'leave' }]);
  });

  it('a person back within the 5 s grace tells the room nothing', async () => {
    const run = departure(10, 3);
    await at(LEAVE_GRACE_SECONDS + 1);
    expect((await run.done).ok).toBe(true);
    expect(run.leaves).toEqual([]);
  });
});
