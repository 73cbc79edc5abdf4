import { join } from 'node:path';
import { ROOM_TURN_MS } from '#deliver/roomLog';
import { loadTemplate } from '../../tools/infra/template';
import { statesByName } from '../../tools/local/aslStates';
import { EXPRESS_LIMIT_SECONDS } from '../../tools/local/stepfunctions';

/**
 * An Express execution stops after 5 minutes, whatever it is doing, and the fan-out's own TimeoutSeconds is far
 * shorter: sized to a room's turn, a hung Deliver and the throttle retries, not to every retry at its ceiling
 * (docs/DECISIONS.md, "No batch can poison itself"). The queue's visibility timeout covers the execution and a Deliver
 * it started last, so a batch is never handed out again while anything of it may still post.
 */
const template = loadTemplate(join(__dirname, '..', '..', 'template.yaml'));
const fanout = template.stateMachines().find((m) => m.logicalId === 'FanoutStateMachine');
const deliverSeconds =
  template.functions().find((f) => f.logicalId === 'DeliverFunction')?.timeoutSeconds ?? 0;
const states = statesByName<{
  Type: string;
  Resource?: string;
  Retry?: {
    ErrorEquals: string[];
    IntervalSeconds?: number;
    MaxAttempts?: number;
    BackoffRate?: number;
    MaxDelaySeconds?: number;
  }[];
}>(fanout?.definition ?? {});

/** Every pause of a state's Retry at its ceiling. */
function pauseSeconds(name: string): number {
  let pauses = 0;
  for (const r of states.get(name)?.Retry ?? []) {
    const attempts = r.MaxAttempts ?? 3;
    for (let k = 0; k < attempts; k++)
      pauses += Math.min((r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** k, r.MaxDelaySeconds ?? Infinity);
  }
  return pauses;
}

const definition = fanout?.definition as { TimeoutSeconds?: number };
const timeoutSeconds = definition.TimeoutSeconds as number;
const queue = (template.raw as { Resources: Record<string, { Properties: { VisibilityTimeout: number } }> })
  .Resources.FanoutQueue as { Properties: { VisibilityTimeout: number } };
// Deliver's tasks: a function's ARN, where a service integration's is arn:aws:states:::<service>.
const deliverTasks = [...states].filter(
  ([, s]) => s.Type === 'Task' && !s.Resource?.startsWith('arn:aws:states:::'),
);

it("the execution's time limit is inside Express's 5 minutes, and the visibility timeout covers it and a last Deliver", () => {
  expect(timeoutSeconds).toBeLessThanOrEqual(EXPRESS_LIMIT_SECONDS);
  // A Deliver started just before the execution stops runs on to its own Timeout: the batch must not be received
  // again meanwhile, or two executions would post one room at once.
  expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(timeoutSeconds + deliverSeconds);
});

it('no Deliver task runs again after a timeout: a hung invocation costs its room one Deliver Timeout', () => {
  expect(deliverTasks.map(([name]) => name)).toEqual(
    expect.arrayContaining(['Prepare', 'ReadRoom', 'PostChunk', 'RepostChunk', 'IndexWords', 'Settle']),
  );
  for (const [, state] of deliverTasks)
    for (const retry of state.Retry ?? [])
      for (const error of ['States.ALL', 'States.Timeout', 'States.TaskFailed', 'Sandbox.Timedout'])
        expect(retry.ErrorEquals).not.toContain(error);
});

it("a room's turn, one chunk run to Deliver's Timeout after every throttle pause, its prunes and its index end inside the time limit", () => {
  // A chunk that hangs is then handed back (HandBackRoom), its batch's other rooms delivered, not timed out with it.
  // The index step is bounded by its own TimeoutSeconds (an invocation running on only writes the same items).
  const turnSeconds = ROOM_TURN_MS / 1000;
  const indexSeconds = (states.get('IndexWords') as { TimeoutSeconds?: number } | undefined)?.TimeoutSeconds;
  expect(indexSeconds).toBeDefined();
  const worst =
    turnSeconds +
    pauseSeconds('PostChunk') +
    deliverSeconds +
    pauseSeconds('UnindexGone') +
    (indexSeconds ?? deliverSeconds) +
    pauseSeconds('IndexWords');
  expect(worst).toBeLessThan(timeoutSeconds);
});
