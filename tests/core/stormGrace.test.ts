import { countDisconnect, settleDeparture } from '#core/identity/departure';
import { DynamoDisconnectCounts } from '#core/identity/dynamoDisconnects';
import {
  RECONNECTS_PER_SECOND,
  STORM_DISCONNECTS,
  STORM_WAIT_CAP_SECONDS,
  STORM_WINDOW_SECONDS,
  stormWaitSeconds,
  stormWindow,
} from '#core/identity/grace';
import type { ChatEvent } from '#core/ports';
import { templateTables } from '../helpers/templateTables';

/**
 * The reconnect storm rule (core/identity/grace.ts; docs/DECISIONS.md, "The reconnect storm"): the last
 * STORM_WINDOW_SECONDS of `$disconnect` counters → the extra wait of a departure's settle. Pure on counts and an
 * injected clock; the counters themselves in the template's Limits table on the local DynamoDB.
 */

describe('the extra wait from the counters', () => {
  it('is none up to the storm threshold, the close churn of a quiet stack included', () => {
    expect(stormWaitSeconds([])).toBe(0);
    expect(stormWaitSeconds(Array(STORM_WINDOW_SECONDS).fill(11))).toBe(0);
    expect(stormWaitSeconds([STORM_DISCONNECTS])).toBe(0);
  });

  it("past it, the backlog's drain at API Gateway's 500 connections/s, rounded up, summed over the window", () => {
    expect(stormWaitSeconds([20_000])).toBe(40);
    expect(stormWaitSeconds([10_000, 0, 10_000])).toBe(40);
    expect(stormWaitSeconds([STORM_DISCONNECTS + 1])).toBe(
      Math.ceil((STORM_DISCONNECTS + 1) / RECONNECTS_PER_SECOND),
    );
  });

  it('is capped, so the stretched departure settles within its machine’s timeout', () => {
    expect(stormWaitSeconds([1_000_000])).toBe(STORM_WAIT_CAP_SECONDS);
  });

  it('reads the window of seconds ending with the current one', () => {
    const window = stormWindow(Date.UTC(2026, 0, 1, 0, 0, 9, 999));
    const now = Date.UTC(2026, 0, 1, 0, 0, 9) / 1000;
    expect(window).toHaveLength(STORM_WINDOW_SECONDS);
    expect(window).toContain(now);
    expect(window).toContain(now - STORM_WINDOW_SECONDS + 1);
    expect(window).not.toContain(now + 1);
    expect(window).not.toContain(now - STORM_WINDOW_SECONDS);
  });
});

describe('the counters in the Limits table', () => {
  const tables = templateTables();
  const counts = () => new DynamoDisconnectCounts(tables.db, tables.table('LimitsTable'));
  const T0 = Date.UTC(2026, 10, 29, 1, 0, 0);
  /** Ann's departure from R1, the settle's answer and the leaves it told. */
  async function settleAt(nowMs: number, stretched = false) {
    const told: ChatEvent[] = [];
    const answer = await settleDeparture(
      {
        people: { roomsOf: async () => [] },
        events: { publish: async (events: ChatEvent[]) => void told.push(...events) },
        storm: { counts: counts(), now: () => new Date(nowMs) },
      },
      { userId: 'user:ann', rooms: [{ roomId: 'R1', username: 'ann' }], ...(stretched && { stretched }) },
    );
    return { answer, told: told.length };
  }

  it('counts each close under its second and, in a storm, the settle answers the drain and tells nothing', async () => {
    const storm = 3_000;
    // Closes counted at two seconds of the window, on a clock the test holds, 50 at a time.
    for (let i = 0; i < storm; i += 50)
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          countDisconnect({ counts: counts(), now: () => new Date(T0 + ((i + j) % 2) * 1000) }),
        ),
      );
    expect(await counts().read([T0 / 1000, T0 / 1000 + 1, T0 / 1000 + 2])).toEqual([storm / 2, storm / 2, 0]);
    expect(await settleAt(T0 + 5_000)).toEqual({
      answer: { stormWaitSeconds: storm / RECONNECTS_PER_SECOND },
      told: 0,
    });
    // Once stretched, the settle settles whatever the counters say.
    expect(await settleAt(T0 + 5_000, true)).toEqual({ answer: { left: 1, stayed: 0 }, told: 1 });
    // Past the window the same closes are no storm: settled at the grace.
    expect(await settleAt(T0 + (STORM_WINDOW_SECONDS + 2) * 1000)).toEqual({
      answer: { left: 1, stayed: 0 },
      told: 1,
    });
  });

  it('a guest’s departure is told at the grace, storm or not: its return cannot be recognised', async () => {
    const told: ChatEvent[] = [];
    const answer = await settleDeparture(
      {
        people: { roomsOf: async () => [] },
        events: { publish: async (events: ChatEvent[]) => void told.push(...events) },
        storm: { counts: { read: async (s) => s.map(() => 100_000) }, now: () => new Date(T0) },
      },
      { rooms: [{ roomId: 'R1', username: 'guest-1' }] },
    );
    expect(answer).toEqual({ left: 1, stayed: 0 });
    expect(told).toHaveLength(1);
  });
});
