import './polyfills';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as DynamoDB from '@aws-sdk/client-dynamodb';
import { StateMachine } from 'aws-local-stepfunctions';
import { type AwsProfile, waitCall } from './awsProfile';
import { PAYLOAD_LIMIT_BYTES, payloadBytes, withPayloadChecks, withTaskLimits } from './payloadLimit';
import { type StepFunctionsTestClock, withTestClock } from './testClock';

/**
 * Runs state machines from the template with aws-local-stepfunctions. Every Task is mapped by its Resource, with
 * one generic rule per integration kind (not one override per state): Lambda ARNs and `lambda:invoke` go to the
 * local Lambda service; `aws-sdk:dynamodb:*` and optimized `dynamodb:*` tasks call DynamoDB (dynalite) through the
 * SDK. A Resource the local cloud cannot run is refused when the machine is loaded, naming the state.
 */
export interface TaskBackends {
  invokeFunction(functionArnOrName: string, payload: unknown): Promise<unknown>;
  dynamodb: DynamoDB.DynamoDBClient;
  /** CloudWatch PutMetricData (there is no local CloudWatch): the local cloud adds the values up. */
  putMetricData?(input: PutMetricDataInput): void;
  /**
   * Fault switch: true for a Lambda task whose response is lost on its way back. The function has run (its effects
   * stay), Step Functions sees `Lambda.ServiceException` and the state's Retry runs it again, as on AWS when an
   * invocation's answer does not arrive (docs/PARITY.md, "Local Step Functions").
   */
  lambdaResponseLost?(stateName: string, input: unknown): boolean;
}

export interface PutMetricDataInput {
  Namespace: string;
  MetricData: { MetricName: string; Value?: number }[];
}

type TaskHandler = (input: unknown) => Promise<unknown>;
type StateDefinition = {
  Type?: string;
  Resource?: string;
  States?: Record<string, StateDefinition>;
  ItemProcessor?: StateDefinition;
  Iterator?: StateDefinition;
  Branches?: StateDefinition[];
};

const SDK_DYNAMODB = 'arn:aws:states:::aws-sdk:dynamodb:';
const OPTIMIZED_DYNAMODB = 'arn:aws:states:::dynamodb:';
const LAMBDA_INVOKE = /^arn:aws:states:::lambda:invoke(\.waitForTaskToken)?$/;
const LAMBDA_ARN = /^arn:aws[\w-]*:lambda:[^:]+:\d+:function:[^:]+(:[^:]+)?$/;
const SDK_CLOUDWATCH_PUT_METRIC_DATA = 'arn:aws:states:::aws-sdk:cloudwatch:putMetricData';

/** An error named as Step Functions names it, so Retry and Catch match the same ErrorEquals as on AWS. */
class TaskError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

function dynamoTask(
  dynamodb: DynamoDB.DynamoDBClient,
  action: string,
  errorPrefix: string,
  stateName: string,
): TaskHandler {
  const commandName = `${action.charAt(0).toUpperCase()}${action.slice(1)}Command`;
  // Commands are looked up by name (QueryCommand, DeleteItemCommand, ...): one rule for every DynamoDB action.
  const Command = (DynamoDB as unknown as Record<string, unknown>)[commandName] as
    | (new (
        input: unknown,
      ) => Parameters<DynamoDB.DynamoDBClient['send']>[0])
    | undefined;
  if (typeof Command !== 'function') {
    throw new Error(`state "${stateName}": DynamoDB has no action "${action}" that the local cloud can run`);
  }
  return async (input) => {
    try {
      const response = (await dynamodb.send(new Command(input))) as unknown as Record<string, unknown>;
      const { $metadata: _metadata, ...output } = response;
      return output;
    } catch (error) {
      const e = error as Error;
      throw new TaskError(`${errorPrefix}.${e.name}`, e.message);
    }
  };
}

function taskHandler(state: StateDefinition, stateName: string, backends: TaskBackends): TaskHandler {
  const resource = state.Resource ?? '';
  if (resource.startsWith(SDK_DYNAMODB)) {
    return dynamoTask(backends.dynamodb, resource.slice(SDK_DYNAMODB.length), 'DynamoDb', stateName);
  }
  if (resource.startsWith(OPTIMIZED_DYNAMODB)) {
    return dynamoTask(backends.dynamodb, resource.slice(OPTIMIZED_DYNAMODB.length), 'DynamoDB', stateName);
  }
  if (LAMBDA_ARN.test(resource)) {
    return async (input) => {
      const result = await backends.invokeFunction(resource, input);
      if (backends.lambdaResponseLost?.(stateName, input))
        throw new TaskError(
          'Lambda.ServiceException',
          `the response of "${stateName}" was lost (fault switch)`,
        );
      return result;
    };
  }
  if (resource === SDK_CLOUDWATCH_PUT_METRIC_DATA) {
    return async (input) => {
      backends.putMetricData?.(input as PutMetricDataInput);
      return {};
    };
  }
  if (LAMBDA_INVOKE.test(resource)) {
    return async (input) => {
      const { FunctionName, Payload } = input as { FunctionName: string; Payload?: unknown };
      const result = await backends.invokeFunction(FunctionName, Payload ?? {});
      return { ExecutedVersion: '$LATEST', Payload: result ?? null, StatusCode: 200 };
    };
  }
  throw new Error(`state "${stateName}": the local cloud cannot run Task resource "${resource}"`);
}

/** Builds the override table for every Task state, however deeply nested in Map or Parallel states. */
export function localTaskHandlers(
  definition: StateDefinition,
  backends: TaskBackends,
): Record<string, TaskHandler> {
  const handlers: Record<string, TaskHandler> = {};
  const visit = (machine: StateDefinition | undefined) => {
    for (const [name, state] of Object.entries(machine?.States ?? {})) {
      if (state.Type === 'Task') {
        if (handlers[name])
          throw new Error(`state "${name}" appears twice; the local engine keys tasks by state name`);
        handlers[name] = taskHandler(state, name, backends);
      }
      visit(state.ItemProcessor ?? state.Iterator);
      for (const branch of state.Branches ?? []) visit(branch);
    }
  };
  visit(definition);
  return handlers;
}

/**
 * A Task without TimeoutSeconds has no timeout of its own on AWS (the execution's own limit still holds: 5 minutes
 * for Express); aws-local-stepfunctions follows the States Language's 60 s default instead, so a fan-out task that
 * waited over a minute for a throttled Lambda failed here with States.Timeout and would not have on AWS. Such Tasks
 * get the longest timeout the engine can hold (docs/PARITY.md, "Local Step Functions"): AWS's 99999999 s would
 * overflow Node's timers (over 2^31 - 1 ms, a timer fires after 1 ms), so about 24.8 days, more than any execution
 * here lasts.
 */
export const LONGEST_TASK_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function withoutDefaultTaskTimeout(machine: StateDefinition | undefined): void {
  for (const state of Object.values(machine?.States ?? {}) as (StateDefinition & Record<string, unknown>)[]) {
    if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined)
      state.TimeoutSeconds = LONGEST_TASK_TIMEOUT_SECONDS;
    withoutDefaultTaskTimeout(state.ItemProcessor ?? state.Iterator);
    for (const branch of state.Branches ?? []) withoutDefaultTaskTimeout(branch);
  }
}

/**
 * Definitions asl-validator accepted, remembered across processes in node_modules/.cache: the validator compiles its
 * JSON schemas anew on every call (most of a CPU second), and every local cloud, in every test file, loads the same
 * few definitions. A definition is known by its text and the validator's and the engine's versions, so an edited
 * definition or an upgraded validator is checked again; a refused definition is never remembered, so it is refused
 * every time with the validator's message.
 */
const validated = (() => {
  const versionOf = (packageJson: string) =>
    (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
  const engineDir = join(dirname(require.resolve('aws-local-stepfunctions')), '..');
  const validatorJson = require.resolve('asl-validator/package.json');
  const versions = `${versionOf(join(engineDir, 'package.json'))} ${versionOf(validatorJson)}`;
  const dir = join(dirname(dirname(validatorJson)), '.cache', 'roomcast-asl-validated');
  return {
    marker: (definition: object) =>
      join(
        dir,
        createHash('sha256')
          .update(`${versions}\n${JSON.stringify(definition)}`)
          .digest('hex'),
      ),
    remember(marker: string): void {
      try {
        mkdirSync(dir, { recursive: true });
        writeFileSync(marker, '');
      } catch {
        // A read-only node_modules: the definition is validated again next time.
      }
    },
  };
})();

/** Throws the engine's error for a definition asl-validator refuses (its checks of paths included). */
function validate(definition: object): void {
  const marker = validated.marker(definition);
  if (existsSync(marker)) return;
  // The validator fills in defaults (QueryLanguage) on what it is given: it gets a copy, so the definition run is
  // the same whether it was validated now or before.
  new StateMachine(
    structuredClone(definition) as never,
    { validationOptions: { checkPaths: true } } as never,
  );
  validated.remember(marker);
}

/**
 * An Express execution runs at most 5 minutes (developer guide, "Step Functions service quotas"); past it the
 * execution stops wherever it is, with nothing caught. aws-local-stepfunctions has no limit of its own, so an Express
 * machine runs with the top-level TimeoutSeconds the engine does enforce (a shorter one of its own is kept).
 */
export const EXPRESS_LIMIT_SECONDS = 300;

export interface ExecutionSummary {
  ok: boolean;
  durationMs: number;
  output?: unknown;
  error?: string;
  cause?: string;
  failedState?: string;
  retries: number;
  /** The definition's states entered, in order (Map iterations' included): its state transitions. */
  states: string[];
}

export class LocalStateMachine {
  private readonly machine: StateMachine;
  private readonly handlers: Record<string, TaskHandler>;
  private readonly reportsFor: Record<string, string>;
  /** The largest state any execution of this machine had after a state (its size checks' bytes). */
  private readonly sizes = { largest: 0 };

  constructor(
    readonly name: string,
    definition: object,
    backends: TaskBackends,
    options: {
      /** Tests only: the named states' Wait and Retry pauses on a shorter clock (testClock.ts). Default: real time. */
      testClock?: StepFunctionsTestClock;
      /** The template's type: an Express machine stops at EXPRESS_LIMIT_SECONDS. Default: STANDARD. */
      type?: 'STANDARD' | 'EXPRESS';
      /**
       * `--aws-profile`: each Task state of the definition (its Waits on the test clock too) first waits the
       * profile's state-transition latency. The engine's other states (Pass, Choice, Map, Succeed) run in memory
       * and take none: on AWS their transitions cost too, so the profile is a floor there, never a refusal.
       */
      profile?: AwsProfile;
    } = {},
  ) {
    // The template's own definition is validated; the engine runs it with Step Functions' payload checks added.
    validate(definition);
    const checked = withPayloadChecks(definition, (bytes) => {
      if (bytes > this.sizes.largest) this.sizes.largest = bytes;
    });
    const clockWaits = options.testClock ? withTestClock(checked.definition, options.testClock) : {};
    withoutDefaultTaskTimeout(checked.definition as StateDefinition);
    if (options.type === 'EXPRESS') {
      const own = (checked.definition as { TimeoutSeconds?: number }).TimeoutSeconds;
      (checked.definition as { TimeoutSeconds?: number }).TimeoutSeconds = Math.min(
        own ?? EXPRESS_LIMIT_SECONDS,
        EXPRESS_LIMIT_SECONDS,
      );
    }
    this.machine = new StateMachine(checked.definition as never, { validationOptions: { noValidate: true } });
    const tasks = localTaskHandlers(definition as StateDefinition, backends);
    const { profile } = options;
    const transition = (run: TaskHandler): TaskHandler =>
      profile
        ? async (input) => {
            await waitCall(profile, 'stepFunctionsTransition');
            return run(input);
          }
        : run;
    this.handlers = {
      ...Object.fromEntries(
        Object.entries(tasks).map(([state, run]) => [state, transition(withTaskLimits(state, run))]),
      ),
      ...checked.checks,
      ...Object.fromEntries(Object.entries(clockWaits).map(([state, run]) => [state, transition(run)])),
    };
    this.reportsFor = checked.reportsFor;
  }

  /** The largest state (UTF-8 JSON bytes) any execution had after a state since the last call; resets it. */
  takeLargestStateBytes(): number {
    const largest = this.sizes.largest;
    this.sizes.largest = 0;
    return largest;
  }

  /** Runs one execution to its end. Failures are returned with the state and cause, never thrown away. */
  async execute(input: unknown): Promise<ExecutionSummary> {
    const started = performance.now();
    const inputBytes = payloadBytes(input);
    if (inputBytes > PAYLOAD_LIMIT_BYTES) {
      return {
        ok: false,
        durationMs: performance.now() - started,
        error: 'States.DataLimitExceeded',
        cause: `The execution input has ${inputBytes} bytes, over the ${PAYLOAD_LIMIT_BYTES}-byte limit.`,
        retries: 0,
        states: [],
      };
    }
    // Step Functions names every execution ($$.Execution.Id, unique per run: the fan-out's lease owner); the engine
    // leaves that to its caller. An Express execution's ARN is <machine>:<execution name>:<run id>.
    const executionName = randomUUID();
    const execution = this.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: this.handlers as never },
      context: {
        Execution: {
          Id: `arn:aws:states:local:000000000000:express:${this.name}:${executionName}:${randomUUID()}`,
          Name: executionName,
        },
        StateMachine: { Id: `arn:aws:states:local:000000000000:stateMachine:${this.name}`, Name: this.name },
      },
    });
    let failedState: string | undefined;
    let retries = 0;
    const states: string[] = [];
    const watched = (async () => {
      for await (const event of execution.eventLogs as AsyncGenerator<Record<string, unknown>>) {
        if (event.type === 'StateEntered') {
          const name = (event.state as { name?: string } | undefined)?.name;
          // The payload checks withPayloadChecks adds are the local cloud's, not the definition's.
          if (name !== undefined && !(name in this.reportsFor)) states.push(name);
        } else if (event.type === 'StateFailed') {
          const name = (event.state as { name?: string } | undefined)?.name;
          failedState = name === undefined ? undefined : (this.reportsFor[name] ?? name);
        } else if (event.type === 'StateRetried') retries++;
      }
    })();
    try {
      const output = await execution.result;
      await watched;
      return { ok: true, durationMs: performance.now() - started, output, retries, states };
    } catch (error) {
      await watched.catch(() => undefined);
      const e = error as Error & { cause?: unknown };
      if (e.name === 'ExecutionTimeoutError')
        return {
          ok: false,
          durationMs: performance.now() - started,
          error: 'States.Timeout',
          cause: 'The execution ran past its time limit and was stopped.',
          failedState,
          retries,
          states,
        };
      const cause =
        e.cause instanceof Error ? e.cause.message : typeof e.cause === 'string' ? e.cause : e.message;
      return {
        ok: false,
        durationMs: performance.now() - started,
        error: (e.cause as Error | undefined)?.name ?? e.name,
        cause,
        failedState,
        retries,
        states,
      };
    }
  }
}
