/**
 * Step Functions' payload quota, which aws-local-stepfunctions does not enforce: the input or output of a task, a
 * state or an execution is at most 262,144 bytes of UTF-8 JSON, and going over it fails with the terminal error
 * `States.DataLimitExceeded`, which neither Retry nor `States.ALL` in a Catch matches (docs/PARITY.md lists the AWS
 * pages these facts come from).
 *
 * The engine has no synchronous hook after a Pass, Map or Parallel state, only Task handlers. So the definition is
 * rewritten before it runs: after every state that can grow the data (Task, Pass, Map, Parallel, and each Catch of
 * them) comes a size-check Task, and one opens every Map iteration and Parallel branch to check its input. A check
 * passes its input through unchanged; the failure is reported under the name of the state that made the data.
 */
import { statesByName } from './aslStates';

export const PAYLOAD_LIMIT_BYTES = 262_144;

/** The error Step Functions raises; `isRetryable`/`isCatchable` are read by aws-local-stepfunctions. */
export class DataLimitExceeded extends Error {
  override readonly name = 'States.DataLimitExceeded';
  readonly isRetryable = false;
  readonly isCatchable = false;
}

/** Bytes of the value as UTF-8 JSON, the way Step Functions measures a payload. */
export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? 'null', 'utf8');
}

/** Throws States.DataLimitExceeded with `what` when the value is over the limit. */
export function checkPayload(value: unknown, what: (bytes: number) => string): void {
  const bytes = payloadBytes(value);
  if (bytes > PAYLOAD_LIMIT_BYTES) throw new DataLimitExceeded(what(bytes));
}

type Handler = (input: unknown) => Promise<unknown>;
interface Catcher {
  Next: string;
  [field: string]: unknown;
}
interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Catch?: Catcher[];
  ItemProcessor?: Machine;
  Iterator?: Machine;
  Branches?: Machine[];
  [field: string]: unknown;
}
interface Machine {
  StartAt: string;
  States: Record<string, State>;
  [field: string]: unknown;
}

/** States whose output can be larger than their input; Choice, Wait, Succeed and Fail can only pass data on. */
const GROWS = new Set(['Task', 'Pass', 'Map', 'Parallel']);
const CHECK_RESOURCE = 'arn:aws:states:::roomcast-local:payload-size-check';
const over = (bytes: number) => `${bytes} bytes, over the ${PAYLOAD_LIMIT_BYTES}-byte limit`;

export interface CheckedDefinition {
  definition: Machine;
  /** A handler for every size-check state, keyed by its name as aws-local-stepfunctions keys Task handlers. */
  checks: Record<string, Handler>;
  /** The state each size-check state reports for, so a failure names the state that made the data. */
  reportsFor: Record<string, string>;
}

/**
 * Returns a copy of the definition with a size-check state wherever data is made; the original is left alone.
 * `observe` is told each checked state's size (the largest state a test saw).
 */
export function withPayloadChecks(original: object, observe?: (bytes: number) => void): CheckedDefinition {
  // A JSON copy: the engine treats only plain objects of its own realm as payload templates (so not a
  // structuredClone made in another realm, as under Jest).
  const definition = JSON.parse(JSON.stringify(original)) as Machine;
  const checks: Record<string, Handler> = {};
  const reportsFor: Record<string, string> = {};
  const taken = new Set(statesByName(definition).keys());

  /** A size-check Task named `name`, reporting for `stateName`, that goes on where `next` went. */
  const check = (
    name: string,
    stateName: string,
    message: (bytes: number) => string,
    next: { Next?: string; End?: boolean },
  ): State => {
    if (taken.has(name)) throw new Error(`state "${name}" clashes with a size check the local cloud adds`);
    taken.add(name);
    checks[name] = async (input) => {
      const bytes = payloadBytes(input);
      observe?.(bytes);
      if (bytes > PAYLOAD_LIMIT_BYTES) throw new DataLimitExceeded(message(bytes));
      return input;
    };
    reportsFor[name] = stateName;
    return {
      Type: 'Task',
      Comment: `Local cloud only: checks ${stateName} against the ${PAYLOAD_LIMIT_BYTES}-byte payload limit.`,
      Resource: CHECK_RESOURCE,
      ...(next.End ? { End: true } : { Next: next.Next }),
    };
  };

  /** Checks the input of a Map iteration or Parallel branch before its first state. */
  const openWithCheck = (
    machine: Machine,
    name: string,
    stateName: string,
    message: (bytes: number) => string,
  ) => {
    rewrite(machine);
    machine.States = {
      [name]: check(name, stateName, message, { Next: machine.StartAt }),
      ...machine.States,
    };
    machine.StartAt = name;
  };

  function rewrite(machine: Machine): void {
    const added: Record<string, State> = {};
    for (const [name, state] of Object.entries(machine.States)) {
      const iteration = state.ItemProcessor ?? state.Iterator;
      if (iteration)
        openWithCheck(
          iteration,
          `${name} (item input size)`,
          name,
          (b) => `An item input of Map state '${name}' has ${over(b)}.`,
        );
      (state.Branches ?? []).forEach((branch, i) => {
        openWithCheck(
          branch,
          `${name} (branch ${i} input size)`,
          name,
          (b) => `The input of branch ${i} of '${name}' has ${over(b)}.`,
        );
      });
      if (!GROWS.has(state.Type)) continue;
      (state.Catch ?? []).forEach((catcher, i) => {
        const caught = `${name} (catch ${i} output size)`;
        added[caught] = check(
          caught,
          name,
          (b) => `The output of state '${name}' after its Catch has ${over(b)}.`,
          catcher,
        );
        catcher.Next = caught;
      });
      const output = `${name} (output size)`;
      added[output] = check(output, name, (b) => `The output of state '${name}' has ${over(b)}.`, state);
      delete state.End;
      state.Next = output;
    }
    Object.assign(machine.States, added);
  }

  rewrite(definition);
  return { definition, checks, reportsFor };
}

/**
 * Wraps a Task handler with the checks Step Functions makes around a task: its input after Parameters, and the
 * result it returns. The message for a result is the one Step Functions gives.
 */
export function withTaskLimits(stateName: string, handler: Handler): Handler {
  return async (input) => {
    checkPayload(input, (b) => `The input of state '${stateName}' after Parameters has ${over(b)}.`);
    const result = await handler(input);
    checkPayload(
      result,
      () =>
        `The state/task '${stateName}' returned a result with a size exceeding the maximum number of bytes service limit.`,
    );
    return result;
  };
}
