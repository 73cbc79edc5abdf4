import { join } from 'node:path';
import { HANDOVER_MS } from '../../functions/domain/fanout/coalescing';
import { loadTemplate } from '../../infra/template';
import { statesByName } from '../../local/aslStates';
import { EXPRESS_LIMIT_SECONDS } from '../../local/stepfunctions';

/**
 * An Express execution stops after 5 minutes, whatever it is doing: a repost execution (owed posts handed on by a
 * cycle) must end well inside that by construction, from the template's own numbers: its retry budget (the largest
 * FanoutRetrySeconds allowed), the longest backoff before the try that starts last, and that try's worst case (each
 * run of Deliver up to its Timeout, every Retry pause at its ceiling), then the prune of what it found gone.
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

it('the largest FanoutRetrySeconds the template allows is 60', () => {
  const settings = JSON.stringify(template.raw.Parameters);
  expect(settings).toContain('FanoutRetrySeconds=(?:[1-9]|[1-5][0-9]|60)');
});

it('a repost execution ends well inside Express’s 5 minutes even when every retry runs to its ceiling', () => {
  const retryBudget = 60;
  const longestBackoff = 8; // backoffSeconds' ceiling (functions/domain/fanout/coalescing.ts)
  // A DynamoDB DeleteItem answers in well under a second; 1 s per run is generous.
  const worst =
    retryBudget +
    longestBackoff +
    worstSeconds('RepostGroups', deliverSeconds) +
    worstSeconds('DeleteGoneRecipient', 1);
  expect(worst).toBeLessThan(EXPRESS_LIMIT_SECONDS * 0.8);
});

it('a chunk of a cycle (its Deliver with every retry) ends before the lease it holds expires', () => {
  const leaseSeconds = 120;
  expect(worstSeconds('PostChunk', deliverSeconds)).toBeLessThan(leaseSeconds);
});

it('a lease holder starts nothing long after its hand-over time: a chunk started just before it ends, every retry at its ceiling, with a fifth of Express’s limit left for the release', () => {
  const worst = HANDOVER_MS / 1000 + worstSeconds('PostChunk', deliverSeconds);
  expect(worst).toBeLessThan(EXPRESS_LIMIT_SECONDS * 0.8);
});
