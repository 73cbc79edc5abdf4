import { join } from 'node:path';
import { loadTemplate } from '../../infra/template';
import { ratePeriodMs, startSchedules } from '../../local/schedules';
import type { FanoutMachine } from './fanoutMachine';

const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'));
const sweep = template.schedules().find((s) => s.functionId === 'DeliverFunction');

/** Whether `done` became true within `ms`, looked at every 100 ms. */
export async function waitFor(done: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!done() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
  return done();
}

/**
 * The template's sweep (SweepStrandedRooms) on its own schedule, as on AWS, invoking Deliver in-process; the test
 * starts executions from what it publishes (`h.bus.onEvent`), as the bus rule does. `close` stops the schedule and
 * the bus's starts.
 */
export async function sweepOnSchedule(h: FanoutMachine): Promise<{ period: number; close: () => void }> {
  if (!sweep) throw new Error('template.yaml has no Schedule event for DeliverFunction');
  const { handler: deliver } = await import('../../functions/deliver');
  const schedules = startSchedules([sweep], {
    region: template.region,
    accountId: template.accountId,
    invoke: (_fn, event) => deliver(event as never),
    warn: (line) => console.warn(line),
  });
  return {
    period: ratePeriodMs(sweep.expression),
    close: () => {
      schedules.close();
      h.bus.onEvent = () => undefined;
    },
  };
}
