/**
 * A test clock for the local Step Functions: tests only, never AWS's timing. The states it names pause for
 * `msPerSecond` real milliseconds per second instead of 1,000: a Wait's seconds (Seconds or SecondsPath), and a
 * Retry's IntervalSeconds and MaxDelaySeconds (so its BackoffRate and jitter still apply, on the shorter scale).
 * Every other state keeps real time, and without a clock every state does: `npm start`, the benchmark and the
 * fault and overload runs keep AWS's timing. Product code that reads the wall clock (a Lambda's retry budget, a
 * lease) is not on this clock: a test that shortens a backoff which such a budget bounds gets more tries in it.
 *
 * The definition the engine runs is rewritten, as the payload checks are (payloadLimit.ts): scaled numbers for
 * Seconds and Retry (the engine takes fractions), and a SecondsPath Wait becomes a local Task that reads the path
 * with the engine's own Parameters, checks it as Step Functions does (an integer >= 0, else States.Runtime) and
 * sleeps the scaled time. aws-local-stepfunctions' own `waitTimeOverrides` and `retryIntervalOverrides` would not
 * do: they replace a pause by one fixed length, without reading SecondsPath, growing by BackoffRate or jitter.
 */
export interface StepFunctionsTestClock {
  /** Real milliseconds one second of the named states' pauses lasts: above 0, at most 1000 (AWS's). */
  msPerSecond: number;
  /** Wait states (their wait) and states with a Retry (its pauses) on this clock; each must exist in the machine. */
  states: string[];
}

interface Retrier {
  IntervalSeconds?: number;
  MaxDelaySeconds?: number;
  [field: string]: unknown;
}
interface State {
  Type: string;
  Seconds?: number;
  SecondsPath?: string;
  Timestamp?: string;
  TimestampPath?: string;
  Retry?: Retrier[];
  ItemProcessor?: Machine;
  Iterator?: Machine;
  Branches?: Machine[];
  [field: string]: unknown;
}
interface Machine {
  States: Record<string, State>;
  [field: string]: unknown;
}

import { statesByName } from './aslStates';

type Handler = (input: unknown) => Promise<unknown>;

/** Step Functions' default IntervalSeconds of a retrier. */
const DEFAULT_INTERVAL_SECONDS = 1;
const CLOCK_WAIT_RESOURCE = 'arn:aws:states:::roomcast-local:test-clock-wait';

/** Refuses a clock that would not shorten, or lengthen, pauses. */
export function checkTestClock(clock: StepFunctionsTestClock): void {
  const { msPerSecond } = clock;
  if (!(Number.isFinite(msPerSecond) && msPerSecond > 0 && msPerSecond <= 1000))
    throw new Error(
      `the Step Functions test clock's msPerSecond must be above 0 and at most 1000, not ${msPerSecond}`,
    );
}

/** The States.Runtime error Step Functions fails a Wait with when its SecondsPath is not an integer >= 0. */
class StatesRuntime extends Error {
  override readonly name = 'States.Runtime';
  readonly isRetryable = false;
  readonly isCatchable = false;
}

/**
 * Puts the named states of `definition` (rewritten in place: the copy the engine runs) on the clock, and returns
 * the handlers of the Tasks that stand in for its SecondsPath Waits, keyed by state name as the engine keys them.
 */
export function withTestClock(definition: object, clock: StepFunctionsTestClock): Record<string, Handler> {
  checkTestClock(clock);
  const scale = clock.msPerSecond / 1000;
  const states = statesByName<State>(definition);
  const handlers: Record<string, Handler> = {};
  for (const name of clock.states) {
    const state = states.get(name);
    if (!state)
      throw new Error(`the Step Functions test clock names state "${name}", which the machine has not`);
    if (state.Type === 'Wait') {
      const handler = clockWait(name, state, scale);
      if (handler) handlers[name] = handler;
    } else if (state.Retry)
      for (const retrier of state.Retry) {
        retrier.IntervalSeconds = (retrier.IntervalSeconds ?? DEFAULT_INTERVAL_SECONDS) * scale;
        if (retrier.MaxDelaySeconds !== undefined) retrier.MaxDelaySeconds *= scale;
      }
    else
      throw new Error(
        `the Step Functions test clock names state "${name}", which has no Wait or Retry to shorten`,
      );
  }
  return handlers;
}

/** Scales a Wait in place; a SecondsPath Wait becomes a Task and gets its handler. */
function clockWait(name: string, state: State, scale: number): Handler | undefined {
  if (state.Timestamp !== undefined || state.TimestampPath !== undefined)
    throw new Error(`the Step Functions test clock cannot shorten "${name}": it waits until a timestamp`);
  if (state.SecondsPath === undefined) {
    state.Seconds = (state.Seconds ?? 0) * scale;
    return undefined;
  }
  const path = state.SecondsPath;
  // A Wait's InputPath, OutputPath, Next and End keep their meaning on a Task whose result replaces its input.
  const { SecondsPath: _path, Type: _type, Comment: _comment, ...kept } = state;
  for (const key of Object.keys(state)) delete state[key];
  Object.assign(state, {
    ...kept,
    Type: 'Task',
    Comment: `Local test clock only: the Wait "${name}", ${scale * 1000} ms per second.`,
    Resource: CLOCK_WAIT_RESOURCE,
    Parameters: { 'seconds.$': path, 'input.$': '$' },
  });
  return async (given) => {
    const { seconds, input } = given as { seconds: unknown; input: unknown };
    if (!(Number.isInteger(seconds) && (seconds as number) >= 0))
      throw new StatesRuntime(
        `Path expression '${path}' evaluated to ${JSON.stringify(seconds)}, but expected an integer >= 0`,
      );
    await new Promise((resolve) => setTimeout(resolve, (seconds as number) * 1000 * scale));
    return input;
  };
}
