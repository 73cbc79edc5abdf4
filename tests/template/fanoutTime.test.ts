import { join } from 'node:path';
import { loadTemplate } from '../../tools/infra/template';
import { statesByName } from '../../tools/local/aslStates';
import { EXPRESS_LIMIT_SECONDS } from '../../tools/local/stepfunctions';

/**
 * An Express execution stops after 5 minutes, whatever it is doing, and the fan-out's own TimeoutSeconds is shorter:
 * a chunk's posts, its one repost and its prunes must end well inside it by construction, from the template's own
 * numbers (each run of Deliver up to its Timeout, every Retry pause at its ceiling).
 */
const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'));
const fanout = template.stateMachines().find((m) => m.logicalId === 'FanoutStateMachine');
const deliverSeconds =
  template.functions().find((f) => f.logicalId === 'DeliverFunction')?.timeoutSeconds ?? 0;
const states = statesByName<{
  Type: string;
  Retry?: {
    ErrorEquals: string[];
    IntervalSeconds?: number;
    MaxAttempts?: number;
    BackoffRate?: number;
    MaxDelaySeconds?: number;
  }[];
}>(fanout?.definition ?? {});

/** Every pause of a state's Retry at its ceiling, and how many runs it may make (a throttled invoke does not run). */
function worstSeconds(name: string, runSeconds: number): number {
  let pauses = 0;
  let runs = 1;
  for (const r of states.get(name)?.Retry ?? []) {
    const attempts = r.MaxAttempts ?? 3;
    for (let k = 0; k < attempts; k++)
      pauses += Math.min((r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** k, r.MaxDelaySeconds ?? Infinity);
    if (!r.ErrorEquals.includes('Lambda.TooManyRequestsException')) runs += attempts;
  }
  return pauses + runs * runSeconds;
}

const definition = fanout?.definition as { TimeoutSeconds?: number };
const queue = (template.raw as { Resources: Record<string, { Properties: { VisibilityTimeout: number } }> })
  .Resources.FanoutQueue as { Properties: { VisibilityTimeout: number } };

it("the execution's own time limit is inside Express's 5 minutes and below the queue's visibility timeout", () => {
  // A batch is never handed out again while its execution may still run: order per room holds.
  expect(definition.TimeoutSeconds).toBeLessThanOrEqual(EXPRESS_LIMIT_SECONDS);
  expect(queue.Properties.VisibilityTimeout).toBeGreaterThan(definition.TimeoutSeconds as number);
});

it('a chunk, its one repost and its prunes end well inside the execution time limit, every retry at its ceiling', () => {
  const waitSeconds = 2; // REPOST_WAIT_SECONDS (functions/deliver/post.ts)
  const worst =
    worstSeconds('PostChunk', deliverSeconds) +
    waitSeconds +
    worstSeconds('RepostChunk', deliverSeconds) +
    worstSeconds('UnindexGone', 1);
  expect(worst).toBeLessThan((definition.TimeoutSeconds as number) * 0.8);
});
