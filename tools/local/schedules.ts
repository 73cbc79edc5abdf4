import { randomUUID } from 'node:crypto';
import type { LocalSchedule } from '../infra/template';

/**
 * EventBridge's scheduled rules for the template's SAM `Schedule` events: each invokes its function asynchronously
 * every period, from when it starts (a rate schedule is not aligned to the clock), with the target's Input or, without
 * one, the scheduled event (docs/PARITY.md, "Overload: throttles, Lambda's own errors, failed chunks", the SAM `Schedule` row). Only `rate()` expressions run here: a `cron()` one is
 * refused when the local cloud starts, naming the event, rather than never firing.
 */
const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/**
 * The period of `rate(value unit)` in ms, as EventBridge reads it: a positive whole value; the unit singular for
 * 1 (`rate(1 minute)`) and plural above (`rate(5 minutes)`); anything else is refused with EventBridge's message.
 */
export function ratePeriodMs(expression: string): number {
  const match = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  const value = Number(match?.[1]);
  const unit = match?.[2] ?? '';
  const singular = unit.endsWith('s') ? unit.slice(0, -1) : unit;
  if (!match || !(value >= 1) || (value === 1) !== (singular === unit))
    throw new Error(`Parameter ScheduleExpression is not valid: ${expression}`);
  return value * (UNIT_MS[singular] as number);
}

export interface ScheduleOptions {
  region: string;
  accountId: string;
  /** Invokes a function asynchronously (its failure is the caller's to log). */
  invoke: (functionId: string, event: unknown) => Promise<unknown>;
  warn: (line: string) => void;
}

/** Starts every schedule's timer; `close` stops them. */
export function startSchedules(schedules: LocalSchedule[], opts: ScheduleOptions): { close: () => void } {
  const timers = schedules.map((schedule) => {
    if (!schedule.expression.startsWith('rate('))
      throw new Error(
        `${schedule.logicalId}: the local cloud runs rate() schedules only, not "${schedule.expression}"`,
      );
    const period = ratePeriodMs(schedule.expression);
    const ruleArn = `arn:aws:events:${opts.region}:${opts.accountId}:rule/${schedule.logicalId}`;
    const timer = setInterval(() => {
      const event = schedule.input ?? {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: opts.accountId,
        time: `${new Date().toISOString().slice(0, 19)}Z`,
        region: opts.region,
        resources: [ruleArn],
        detail: {},
      };
      opts
        .invoke(schedule.functionId, event)
        .catch((error: Error) =>
          opts.warn(`schedule ${schedule.logicalId} (${schedule.functionId}) failed: ${error.message}`),
        );
    }, period);
    // A schedule alone does not keep the process alive, as no AWS timer keeps a test run going.
    timer.unref();
    return timer;
  });
  return {
    close: () => {
      for (const timer of timers) clearInterval(timer);
    },
  };
}
